"""Points for topics and activities, credited through the check-in feature's ``award``.

Points belong to the check-in feature (``handlers.checkin``); these tests run both together.
"""

from __future__ import annotations

from pathlib import Path

from bot.feature import Feature
from handlers import activities, checkin, core, onboarding, schedules, topics
from tests.harness import Harness, sends, texts

MOD = {"role": "moderator"}


def features() -> list[Feature]:
    return [
        core.FEATURE,
        checkin.FEATURE,
        topics.FEATURE,
        schedules.FEATURE,
        activities.FEATURE,
        onboarding.FEATURE,
    ]


async def balance(h: Harness, user: str) -> str:
    return texts(await h.say("demo", user, "/points"))[0].split("\n")[0]


async def test_topic_replies_suggestions_and_attendance_earn_points(tmp_path: Path) -> None:
    async with Harness(tmp_path, features=features()) as h:
        topic = sends(await h.say("demo", "alice", "/topic"))[0]["id"]
        for i in range(4):
            await h.say("demo", "bob", f"reply {i}", reply_to=topic)
        assert (await balance(h, "bob")).endswith("余额 6，累计获得 6")  # 3 × 2, the 4th is over the cap
        out = sends(await h.say("demo", "carol", "/topic suggest 好问题"))
        alert = next(r for r in out if r["chat"] == "demo-mods")
        await h.say("demo", "mod", "hi", **MOD)
        done = await h.press("demo-mods", "mod", alert["id"], "topics:ok:1")
        assert texts(done)[0].endswith("投稿人获得了积分。")
        assert (await balance(h, "carol")).endswith("余额 10，累计获得 10")
        await h.say("demo", "mod", "/event add 快闪 | 今天 10:00 | 1h", **MOD)
        await h.advance(to="2026-03-02T10:05:00+08:00")
        assert texts(await h.say("demo", "dave", "/here 1")) == ["@dave 已到场 #1 快闪：+20 积分！"]
        ledger = texts(await h.say("demo", "dave", "/points"))[0]
        assert ledger.endswith("+20  活动 (参加活动 #1 快闪)")


async def test_onboarding_skips_the_checkin_nudge_after_a_checkin(tmp_path: Path) -> None:
    async with Harness(tmp_path, features=features()) as h:
        await h.say("demo", "mod", "/set welcome.onboarding on", **MOD)
        await h.join("demo", "newbie")
        await h.say("demo", "newbie", "签到")
        posted = [t.split("\n")[0] for t in texts(await h.advance(8 * 86400))]
        assert posted == [
            "@newbie 大家都想认识你：来做个简单的自我介绍吧！",
            "@newbie 你加入本群已经一周啦，谢谢你！你的第一周：",
        ]
