"""The day-7 summary reads topics and activities through their ports, and does without them."""

from __future__ import annotations

from pathlib import Path

from handlers import core, onboarding, schedules
from tests.harness import Harness, sends
from tests.schedule.conftest import HarnessFactory

MOD = {"role": "moderator"}


async def _summary(h: Harness, newcomer: str) -> list[str]:
    posted = sends(await h.advance(8 * 86400))
    (summary,) = [r["text"] for r in posted if "你的第一周" in r["text"] and newcomer in r["text"]]
    return str(summary).split("\n")[1:]


async def test_the_summary_counts_attendance_through_the_activity_port(make_harness: HarnessFactory) -> None:
    async with make_harness() as h:
        await h.say("demo", "mod", "/set welcome.onboarding on", **MOD)
        await h.join("demo", "newbie")
        await h.say("demo", "mod", "/event add 快闪 | 今天 10:00 | 1h", **MOD)
        await h.advance(to="2026-03-02T10:05:00+08:00")
        await h.say("demo", "newbie", "/here 1")
        assert await _summary(h, "newbie") == ["• 话题回复 0 条", "• 参加活动 1 次"]


async def test_without_topics_and_activities_the_summary_leaves_their_lines_out(tmp_path: Path) -> None:
    features = [core.FEATURE, schedules.FEATURE, onboarding.FEATURE]
    async with Harness(tmp_path, features=features) as h:
        await h.say("demo", "mod", "/set welcome.onboarding on", **MOD)
        await h.join("demo", "newbie")
        assert await _summary(h, "newbie") == []
