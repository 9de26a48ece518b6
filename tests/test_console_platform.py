"""The console protocol's optional ``platform`` field: one script, accounts on several platforms.

The same ``user`` on two platforms is two accounts, a ``chat`` is named per platform, output
lines about such a chat or user carry the same ``platform``, and lines without it are unchanged.
"""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

from adapters.console.script import run_script
from bot.app import App
from bot.config import Settings

CLOCK = datetime.fromisoformat("2026-03-02T09:00:00+08:00")


async def _play(lines: list[dict[str, object]], db: Path) -> list[dict[str, object]]:
    out = io.StringIO()
    settings = Settings.model_validate({"bot": {"language": "en"}})
    script = [json.dumps(line, ensure_ascii=False) for line in lines]
    await run_script(script, settings=settings, start=CLOCK, db_path=db, out=out, make_app=App)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def _sends(records: list[dict[str, object]]) -> list[dict[str, object]]:
    return [r for r in records if r["action"] == "send"]


async def test_same_user_and_chat_on_two_platforms_are_two_accounts(tmp_path: Path) -> None:
    records = await _play(
        [
            {"type": "message", "chat": "demo", "user": "bob", "text": "/checkin"},
            {"type": "message", "chat": "demo", "user": "bob", "text": "/checkin", "platform": "telegram"},
            {"type": "message", "chat": "demo", "user": "bob", "text": "/checkin", "platform": "telegram"},
            {"type": "message", "chat": "demo", "user": "bob", "text": "/id", "platform": "discord"},
        ],
        tmp_path / "q.db",
    )
    sends = _sends(records)
    # console's bob and Telegram's bob each check in once; Telegram's second try is a repeat.
    assert "platform" not in sends[0] and sends[0]["chat"] == "demo"
    assert sends[1]["platform"] == "telegram" and sends[1]["chat"] == "demo"
    assert sends[2]["platform"] == "telegram"
    first, again = str(sends[1]["text"]), str(sends[2]["text"])
    assert str(sends[0]["text"]).splitlines()[0] == first.splitlines()[0]  # both a first check-in
    assert first != again and "already" in again
    # /id on Discord names Discord as the platform; the seen line carries the platform too.
    assert sends[3]["platform"] == "discord" and "(platform discord)" in str(sends[3]["text"])
    seen = [r for r in records if r["action"] == "seen"]
    assert [r.get("platform") for r in seen] == [None, "telegram", "telegram", "discord"]
    assert all(r["chat"] == "demo" and r["user"] == "bob" for r in seen)


async def test_private_messages_and_mentions_stay_on_their_platform(tmp_path: Path) -> None:
    records = await _play(
        [
            {"type": "message", "chat": "g", "user": "amy", "text": "hi", "platform": "onebot"},
            {"type": "message", "chat": "g", "user": "amy", "text": "hello"},
            {"type": "dm", "user": "amy", "text": "/ping", "platform": "onebot"},
            {
                "type": "message",
                "chat": "g",
                "user": "owner",
                "role": "owner",
                "text": "/warn @amy spam",
                "platform": "onebot",
            },
        ],
        tmp_path / "q.db",
    )
    sends = _sends(records)
    dm = next(r for r in sends if r.get("user") == "amy")
    assert dm["platform"] == "onebot"
    warned = [r for r in sends if r.get("chat") == "g" and "warned" in str(r["text"])]
    # The warning went to OneBot's chat g (OneBot's amy), not the console's chat g.
    assert len(warned) == 1 and warned[0]["platform"] == "onebot" and "@amy" in str(warned[0]["text"])


async def test_an_unknown_platform_is_an_error_record_and_the_run_goes_on(tmp_path: Path) -> None:
    records = await _play(
        [
            {"type": "message", "chat": "demo", "user": "bob", "text": "/ping", "platform": "myspace"},
            {"type": "message", "chat": "demo", "user": "bob", "text": "/ping", "platform": ["telegram"]},
            {"type": "advance", "seconds": 5, "platform": "anything"},
            {"type": "message", "chat": "demo", "user": "bob", "text": "/ping", "platform": "console"},
        ],
        tmp_path / "q.db",
    )
    errors = [r for r in records if r["action"] == "error"]
    assert [r["line"] for r in errors] == [1, 2]
    assert "unknown platform 'myspace'" in str(errors[0]["error"])
    assert "unknown platform 'list'" in str(errors[1]["error"])
    sends = _sends(records)
    assert len(sends) == 1 and "platform" not in sends[0]
