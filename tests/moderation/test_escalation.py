"""An unacknowledged red alert climbs the escalation ladder until someone handles it (issue 21).

Default ladder: re-alerted 15 minutes and 1 hour after the hit, then listed open by every daily
digest until handled. Jobs live in the scheduler's table, so the ladder survives a restart.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError
from tests.harness import Harness, sends
from tests.moderation.helpers import alert_of, sent_to

RED = "来玩百家乐吧"  # 百家乐: red / gambling in the starter lexicon


def _mod_posts(records: list[dict[str, object]]) -> list[tuple[object, str]]:
    return [(r["at"], str(r["text"]).split("\n")[0]) for r in sends(records) if r["chat"] == "demo-mods"]


async def test_red_alert_climbs_the_default_ladder_across_a_restart(db_url: str, tmp_path: Path) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        # A moderator the platform has shown to the bot (by using a moderator command) is mentioned.
        await h.say("demo", "max", "/alerts", role="moderator")
        alert_of(await h.say("demo", "bob", RED))
        first = await h.advance(seconds=20 * 60)
        await h.restart()
        rest = await h.advance(to="2026-03-03T21:30:00+08:00")
        posts = _mod_posts(first + rest)
    assert posts == [
        ("2026-03-02T09:15:00+08:00", "⏰ 严重违规 #1 已超过 15 分钟无人处理"),
        ("2026-03-02T10:00:00+08:00", "⏰ 严重违规 #1 已超过 60 分钟无人处理"),
        ("2026-03-02T21:00:00+08:00", "📋 今日管理摘要：关注级命中 0 次，未处理告警 1 条。"),
        # More than a day old and still open: the next digest still lists it.
        ("2026-03-03T21:00:00+08:00", "📋 今日管理摘要：关注级命中 0 次，未处理告警 1 条。"),
    ]
    # Each re-alert mentions the moderators.
    assert "@max" in sent_to(first, "demo-mods")[0]


async def test_acknowledging_stops_the_ladder(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "max", "早", role="moderator")
        alert = alert_of(await h.say("demo", "bob", RED))
        again = await h.advance(seconds=16 * 60)
        assert len(sent_to(again, "demo-mods")) == 1
        await h.press("demo-mods", "max", alert["id"], "mod:ack:1")
        assert _mod_posts(await h.advance(to="2026-03-02T22:00:00+08:00")) == []


async def test_a_configured_ladder_in_english(tmp_path: Path) -> None:
    async with Harness(tmp_path, config={"bot": {"language": "en"}}) as h:
        await h.say("demo", "max", "hi", role="moderator")
        out = await h.say(
            "demo", "max", "/set moderation.escalate_later_minutes 30,120,240", role="moderator"
        )
        assert sent_to(out, "demo") == ["moderation.escalate_later_minutes is now 30,120,240."]
        await h.say("demo", "max", "/set moderation.escalate_minutes 10", role="moderator")
        alert_of(await h.say("demo", "bob", RED))
        posts = _mod_posts(await h.advance(to="2026-03-02T20:00:00+08:00"))
    assert posts == [
        ("2026-03-02T09:10:00+08:00", "⏰ Red hit #1 has been waiting for 10 minutes"),
        ("2026-03-02T09:30:00+08:00", "⏰ Red hit #1 has been waiting for 30 minutes"),
        ("2026-03-02T11:00:00+08:00", "⏰ Red hit #1 has been waiting for 120 minutes"),
        ("2026-03-02T13:00:00+08:00", "⏰ Red hit #1 has been waiting for 240 minutes"),
    ]


async def test_an_empty_later_ladder_re_alerts_once(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "max", "早", role="moderator")
        await h.say("demo", "max", "/set moderation.escalate_later_minutes off", role="moderator")
        alert_of(await h.say("demo", "bob", RED))
        posts = _mod_posts(await h.advance(to="2026-03-02T20:00:00+08:00"))
    assert [p[1] for p in posts] == ["⏰ 严重违规 #1 已超过 15 分钟无人处理"]


async def test_a_bad_ladder_is_refused_with_the_reason(tmp_path: Path) -> None:
    async with Harness(tmp_path, config={"bot": {"language": "en"}}) as h:
        await h.say("demo", "max", "hi", role="moderator")
        for bad in ("60,30", "0", "abc", "1,2,3,4,5,6", "2000", "60,60"):
            out = await h.say(
                "demo", "max", f"/set moderation.escalate_later_minutes {bad}", role="moderator"
            )
            assert [t.split("\n")[0] for t in sent_to(out, "demo")] == [
                "That value doesn't fit “moderation.escalate_later_minutes”. Allowed: "
                "up to 5 increasing minute counts from 1 to 1440, e.g. 60,240 (off: none)"
            ], bad


async def test_the_ladder_from_config_toml(tmp_path: Path) -> None:
    # A TOML list works as well as the "30,90" text; a bad ladder stops the start with the key.
    async with Harness(tmp_path, config={"moderation": {"escalate_later_minutes": [30, 90]}}) as h:
        await h.say("demo", "max", "早", role="moderator")
        alert_of(await h.say("demo", "bob", RED))
        posts = _mod_posts(await h.advance(to="2026-03-02T20:00:00+08:00"))
    assert [p[0] for p in posts] == [
        "2026-03-02T09:15:00+08:00",
        "2026-03-02T09:30:00+08:00",
        "2026-03-02T10:30:00+08:00",
    ]
    with pytest.raises(ConfigError, match=r"moderation\.escalate_later_minutes: up to 5 increasing"):
        async with Harness(tmp_path, config={"moderation": {"escalate_later_minutes": "90,30"}}):
            pass
