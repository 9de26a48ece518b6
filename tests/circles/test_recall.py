"""The lifecycle's recall post names upcoming activities in the dormant members' circles
(stats reads ``CircleMembers`` and ``UpcomingActivities`` through ports), on both engines."""

from __future__ import annotations

from pathlib import Path

from handlers import FEATURES
from tests.harness import Harness, sends

CONFIG = {
    "stats": {"weekly_report": False, "recall_day": "sat", "recall_time": "10:00"},
    "checkin": {"announce_badges": False},
}


async def test_recall_names_activities_in_the_sleepers_circles(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url, clock="2026-03-01T09:00:00+08:00", config=CONFIG) as h:
        await h.say("demo", "mod", "hi", role="moderator")
        await h.say("demo", "mod", "/circle add 徒步")
        await h.say("demo", "mod", "/circle add games")
        await h.say("demo", "hiker", "/circle join 徒步")
        await h.say("demo", "gamer", "/circle join games")
        await h.say("demo", "nobody", "大家好")
        # Everyone above sleeps; the moderator keeps posting and plans activities.
        await h.advance(to="2026-03-12T09:00:00+08:00")
        await h.say("demo", "mod", "/event add 周日爬山 #徒步 | 03-15 08:00 | 4h | 北门集合")
        await h.say("demo", "mod", "/event add 桌游夜 | 03-16 20:00 | 3h | #games 带上骰子")
        await h.say("demo", "mod", "/event add 读书会 | 03-17 20:00")  # no circle
        await h.say("demo", "mod", "/event add 远足 #徒步 | 04-20 08:00")  # beyond two weeks
        await h.say("demo", "mod", "/event add 游戏展 #gamesx | 03-16 10:00")  # another tag
        out = [
            r["text"] for r in sends(await h.advance(to="2026-03-14T10:30:00+08:00")) if r["chat"] == "demo"
        ]
    (recall,) = [t for t in out if t.startswith("🌙")]
    assert recall.splitlines()[1] == "@hiker、@gamer、@nobody"
    assert recall.splitlines()[-3:] == [
        "📅 你们的兴趣圈近期有活动：",
        "• #1 周日爬山 #徒步（03-15 08:00）— hiker",
        "• #2 桌游夜（03-16 20:00）— gamer",
    ]


async def test_recall_without_the_circles_feature_is_unchanged(tmp_path: Path) -> None:
    features = [f for f in FEATURES if f.name != "circles"]
    async with Harness(tmp_path, clock="2026-03-01T09:00:00+08:00", config=CONFIG, features=features) as h:
        await h.say("demo", "sleepy", "大家好")
        await h.say("demo", "mod", "/event add 周日爬山 #徒步 | 03-15 08:00", role="moderator")
        out = [
            r["text"] for r in sends(await h.advance(to="2026-03-14T10:30:00+08:00")) if r["chat"] == "demo"
        ]
    assert [t for t in out if t.startswith("🌙")] == [
        "🌙 好久不见，大家都挺想你们的：\n@sleepy、@mod\n有空来聊聊近况吧！（不想被点名可以发 /nudge off）"
    ]
