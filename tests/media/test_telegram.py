"""Posts with pictures on Telegram: a moderator replies to a member's photo; the scheduled post
goes out as ``sendPhoto`` with those bytes (the real adapter, PTB and the fake Bot API)."""

from __future__ import annotations

import json
from pathlib import Path

from bot.clock import parse_instant
from bot.config import parse_settings
from tests.fakes.telegram_replay import TelegramScriptSession
from tests.media.pictures import png, write


def _line(**fields: object) -> str:
    return json.dumps({"type": "message", "chat": "demo", **fields}, ensure_ascii=False)


async def test_a_replied_photo_goes_out_with_the_post_as_send_photo(tmp_path: Path) -> None:
    photo = write(tmp_path / "upload" / "cat.png", png(seed=11))
    settings = parse_settings({"storage": {"url": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"}})
    session = TelegramScriptSession(settings, start=parse_instant("2026-03-02T09:00:00+08:00"))
    await session.start()
    try:
        await session.run(
            [
                _line(user="alice", id="p", text="我家猫", image=str(photo)),
                _line(user="mod", role="moderator", reply_to="p", text="/schedule add daily 09:30 早安"),
                _line(user="mod", text="/schedule add daily 09:40 文字"),
                '{"type":"advance","to":"2026-03-02T09:45:00+08:00"}',
            ]
        )
        records = session.bridge.take()
    finally:
        await session.stop()
    state = session.state
    assert [c["file_id"] for c in state.called("getFile")] == ["photo-1000000"]
    (sent,) = state.called("sendPhoto")
    assert sent["caption"] == "早安" and sent["photo"] == png(seed=11)
    added = [r["text"] for r in records if r["action"] == "send" and r.get("reply_to")]
    assert added[0].endswith("已附上图片。") and not added[1].endswith("已附上图片。")
    posts = [r["text"] for r in records if r["action"] == "send" and r["text"] in {"早安", "文字"}]
    assert posts == ["早安", "文字"]


async def test_a_photo_over_the_limit_is_refused_without_downloading_it(tmp_path: Path) -> None:
    photo = write(tmp_path / "upload" / "big.png", png(seed=1) + bytes(3000))
    settings = parse_settings(
        {"storage": {"url": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"}, "media": {"max_bytes": 2048}}
    )
    session = TelegramScriptSession(settings, start=parse_instant("2026-03-02T09:00:00+08:00"))
    await session.start()
    try:
        await session.run(
            [
                _line(user="alice", id="p", text="大图", image=str(photo)),
                _line(user="mod", role="moderator", reply_to="p", text="/schedule add daily 09:30 早安"),
            ]
        )
        records = session.bridge.take()
    finally:
        await session.stop()
    answers = [r["text"] for r in records if r["action"] == "send"]
    assert answers[-1].startswith("图片太大：最多 2 KB。")
    assert session.state.called("getFile") and not session.state.called("sendPhoto")
