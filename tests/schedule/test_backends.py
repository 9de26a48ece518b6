"""The planning features end to end on each storage backend (PostgreSQL when a DSN is given)."""

from __future__ import annotations

from pathlib import Path

from tests.harness import Harness, sends, texts
from tests.schedule.conftest import planning_features

MOD = {"role": "moderator"}


async def test_planning_features_on_each_backend(db_url: str, tmp_path: Path) -> None:
    async with Harness(tmp_path, db_url=db_url, features=planning_features()) as h:
        await h.say("demo", "mod", "/quiet 22:00-08:00", **MOD)
        await h.say("demo", "mod", "/schedule add daily 09:30 早", **MOD)
        await h.say("demo", "mod", "/schedule add daily 23:00 晚安", **MOD)
        await h.say("demo", "mod", "/event add 桌游 | 明天 19:00 | 2h | | 1", **MOD)
        await h.say("demo", "alice", "/join 1")
        await h.say("demo", "bob", "/join 1")
        promoted = await h.say("demo", "alice", "/leave 1")
        assert texts(promoted)[-1] == "@bob，有人让出了名额：你已成功报名 #1 桌游！"
        topic = sends(await h.say("demo", "carol", "/topic"))[0]["id"]
        await h.say("demo", "dave", "好问题", reply_to=topic)
        suggested = sends(await h.say("demo", "dave", "/topic suggest 你的第一台电脑？"))
        alert = next(r for r in suggested if r["chat"] == "demo-mods")
        decided = await h.press("demo-mods", "mod", alert["id"], "topics:ok:1")
        assert texts(decided)[0].startswith("投稿 #1 已由 @mod 通过")
        first = await h.advance(to="2026-03-02T23:30:00+08:00")
        await h.restart()
        second = await h.advance(to="2026-03-03T21:30:00+08:00")
        got = [(r["at"], r["text"].split("\n")[0]) for r in sends(first + second)]
    assert got == [
        ("2026-03-02T09:30:00+08:00", "早"),
        ("2026-03-02T19:00:00+08:00", "⏳ 明天见：#1 桌游 将于 2026-03-03 19:00 开始，已有 1 人报名。"),
        ("2026-03-03T08:00:00+08:00", "晚安"),
        ("2026-03-03T09:30:00+08:00", "早"),
        ("2026-03-03T18:00:00+08:00", "⏰ 还有 1 小时：#1 桌游 将于 2026-03-03 19:00 开始。"),
        ("2026-03-03T19:00:00+08:00", "🎉 #1 桌游 现在开始！发送 /here 1 签到（截至 2026-03-03 21:00）。"),
    ]
