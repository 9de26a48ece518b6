"""The overview's indicators the issue lists (net growth, topic participation, attendance,
churn, NPS) and their colours by the group's thresholds (``stats.thresholds``)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.harness import Harness, sends
from tests.web.helpers import dashboard, log_in


def _card(html: str, key: str) -> str:
    """The overview card of ``key`` (its <li> … </li>)."""
    found = re.search(rf'<li class="kpi[^"]*" data-key="{key}".*?</li>', html, re.S)
    assert found, f"no card {key}"
    return found.group(0)


def _tone(html: str, key: str) -> str | None:
    found = re.search(r'data-tone="(\w+)"', _card(html, key))
    return found.group(1) if found else None


async def test_the_new_indicators_and_their_threshold_colours(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h, dashboard(h) as client:
        await h.say("demo", "bob", "hi")
        await h.say("demo", "max", "hello", role="moderator", name="Max")
        csrf = await log_in(h, client, "demo", "max")
        # A topic bob replies to, an activity bob signs up for and attends, eve who signs up
        # and does not come, and an NPS poll.
        topic = [r for r in sends(await h.say("demo", "max", "/topic now")) if r.get("chat") == "demo"]
        await h.say("demo", "bob", "我觉得是读书", reply_to=topic[0]["id"])
        await h.say("demo", "max", "/event add 读书会 | +1h | 2h")
        await h.say("demo", "bob", "/join 1")
        await h.say("demo", "eve", "/join 1")
        await h.advance(seconds=3600 + 60)
        await h.say("demo", "bob", "/here 1")
        await h.say("demo", "max", "/nps start")
        await h.say("demo", "bob", "/nps 10")
        await h.say("demo", "eve", "/nps 3")
        await h.join("demo", "carl")
        await h.join("demo", "dana")
        await h.leave("demo", "dana")
        await h.flush()
        await h.advance(seconds=86400)
        page = (await client.get("/g/1?days=7")).text
        assert ">+1<" in _card(page, "net_growth")  # carl and dana joined, dana left
        assert "50.0%" in _card(page, "attendance_rate")  # 1 of 2 going came
        assert "33.3%" in _card(page, "topic_participation")  # bob of the week's 3 active members
        assert ">0<" in _card(page, "nps")  # one promoter, one detractor
        # Default thresholds: attendance 50 % is between 40 % and 70 % (watch); NPS 0 is at
        # its BAD line (not below it), so watch too; net growth ≥ 0 is on target.
        assert _tone(page, "attendance_rate") == "warn" and "! 注意" in _card(page, "attendance_rate")
        assert _tone(page, "nps") == "warn"
        assert _tone(page, "net_growth") == "good" and "✓ 达标" in _card(page, "net_growth")
        assert _tone(page, "members") is None  # no rule for it
        # A group's own thresholds, set on the settings page with /set's checks, apply at once.
        saved = await client.post(
            "/g/1/settings",
            data={"csrf": csrf, "key": "stats.thresholds", "value": "nps>=50/20 net_growth>=5/2"},
        )
        assert saved.status_code == 200
        page = (await client.get("/g/1?days=7")).text
        assert _tone(page, "nps") == "bad" and "✕ 未达标" in _card(page, "nps")
        assert _tone(page, "net_growth") == "bad"
        assert _tone(page, "attendance_rate") is None  # no longer covered
        bad = await client.post(
            "/g/1/settings", data={"csrf": csrf, "key": "stats.thresholds", "value": "nps>50"}
        )
        assert bad.status_code == 400 and "KEY&gt;=GOOD/BAD" in bad.text
        await client.post("/g/1/settings", data={"csrf": csrf, "key": "stats.thresholds", "value": "off"})
        assert "data-tone" not in (await client.get("/g/1?days=7")).text


async def test_the_churn_warning_shows_as_a_bad_figure(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h, dashboard(h) as client:
        await h.say("demo", "max", "hello", role="moderator", name="Max")
        # Five members a day for four weeks, then one a day for a week: the recent DAU is a
        # fifth of its baseline, past the 20 % drop the daily churn check warns at.
        for day in range(35):
            for user in ("ann", "bea", "cat", "dan", "eva") if day < 28 else ("ann",):
                await h.say("demo", user, f"day {day}")
            await h.flush()
            await h.advance(seconds=86400)
        await log_in(h, client, "demo", "max")  # now: a session lasts 7 days
        page = (await client.get("/g/1?days=7")).text
        card = _card(page, "churn_ratio")
        assert "19.9%" in card and _tone(page, "churn_ratio") == "bad"
