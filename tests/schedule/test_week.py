"""A week of a group's life, played from the golden console script ``week_of_a_group.jsonl``.

``tests/test_scenarios.py`` pins the script's output byte for byte; this module states what that
output must mean, so a regenerated golden file cannot quietly accept a wrong week.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from adapters.console.script import run_script
from bot.app import App
from bot.config import load_settings

SCRIPT = Path(__file__).resolve().parents[1] / "scenarios" / "week_of_a_group.jsonl"
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    import asyncio

    lines = SCRIPT.read_text(encoding="utf-8").splitlines()
    out = io.StringIO()
    start = datetime.fromisoformat("2026-03-23T09:00:00+01:00")
    db = tmp_path_factory.mktemp("week") / "bot.db"
    settings = load_settings(SCRIPT.with_suffix(".toml"))  # the same config the golden run uses
    asyncio.run(run_script(lines, settings=settings, start=start, db_path=db, out=out, make_app=App))
    return [json.loads(line) for line in out.getvalue().splitlines()]


def local(record: dict[str, Any]) -> str:
    return datetime.fromisoformat(record["at"]).astimezone(BERLIN).strftime("%a %d %H:%M")


def posts(week: list[dict[str, Any]], prefix: str, chat: str = "kiez") -> list[str]:
    return [
        local(r) for r in week if r["action"] == "send" and r["chat"] == chat and r["text"].startswith(prefix)
    ]


def test_no_errors(week: list[dict[str, Any]]) -> None:
    assert [r for r in week if r["action"] == "error"] == []


def test_morning_post_keeps_local_time_across_dst(week: list[dict[str, Any]]) -> None:
    assert posts(week, "Guten Morgen") == [
        "Tue 24 09:00",
        "Wed 25 09:00",
        "Thu 26 09:00",
        "Fri 27 09:00",
        "Sat 28 09:00",
        "Sun 29 09:00",
        "Mon 30 09:00",
        "Tue 31 09:00",
    ]
    # The UTC offset changes on Sunday: the same local 09:00 is an hour earlier in UTC.
    offsets = {r["at"][11:13] for r in week if r["action"] == "send" and r["text"].startswith("Guten Morgen")}
    assert offsets == {"09", "08"}  # shown in the clock's +01:00: 09:00 CET and 09:00 CEST = 08:00+01:00


def test_weekly_post_once_on_friday(week: list[dict[str, Any]]) -> None:
    assert posts(week, "Weekend!") == ["Fri 27 18:00"]


def test_quiet_hours_defer_the_late_post_to_the_morning(week: list[dict[str, Any]]) -> None:
    late = posts(week, "Tomorrow's market")
    assert late == [
        "Tue 24 08:00",
        "Wed 25 08:00",
        "Thu 26 08:00",
        "Fri 27 08:00",
        "Sat 28 08:00",
        "Sun 29 08:00",
        "Mon 30 08:00",
        "Tue 31 08:00",
    ]


def test_daily_topic_every_evening_never_repeated(week: list[dict[str, Any]]) -> None:
    topics = [
        r for r in week if r["action"] == "send" and r["text"].endswith("(Reply to this message to join in.)")
    ]
    assert [local(r) for r in topics] == [
        "Mon 23 19:00",
        "Tue 24 19:00",
        "Wed 25 19:00",
        "Thu 26 19:00",
        "Fri 27 19:00",
        "Sat 28 19:00",
        "Sun 29 19:00",
        "Mon 30 19:00",
    ]
    assert len({r["text"] for r in topics}) == len(topics)


def test_nothing_is_posted_twice_across_the_restarts(week: list[dict[str, Any]]) -> None:
    counted = Counter((local(r)[:6], r["text"]) for r in week if r["action"] == "send")
    assert [key for key, n in counted.items() if n > 1] == []


def test_activity_timeline_and_waitlist(week: list[dict[str, Any]]) -> None:
    timeline = [
        (local(r), r["text"].split("\n")[0])
        for r in week
        if r["action"] == "send" and "#1 Board games" in r["text"] and r["text"][0] in "⏳⏰🎉"
    ]
    assert timeline == [
        ("Wed 25 15:00", "⏳ 3 days to go: #1 Board games starts 2026-03-28 15:00. 2 signed up so far."),
        ("Fri 27 15:00", "⏳ Tomorrow: #1 Board games starts 2026-03-28 15:00. 2 signed up."),
        ("Sat 28 14:00", "⏰ In one hour: #1 Board games starts 2026-03-28 15:00."),
        (
            "Sat 28 15:00",
            "🎉 #1 Board games is starting now! Send /here 1 to check in (until 2026-03-28 18:00).",
        ),
    ]
    texts = [r["text"] for r in week if r["action"] == "send"]
    assert (
        "#1 Board games is full; @Cleo is number 1 on the waitlist. I'll tell you when a place frees up."
        in texts
    )
    assert "@Cleo, a place freed up: you are in for #1 Board games!" in texts
    reminder = next(t for t in texts if t.startswith("⏰"))
    assert reminder.endswith("\n@Anna @Cleo")  # Ben left, Cleo was promoted
    assert posts(week, "How was #1 Board games?") == ["Sun 29 15:00"]  # T+1 day, same local time after DST
    assert posts(week, "Feedback for #1", chat="kiez-mods") == ["Tue 31 15:00"]
    summary = next(r["text"] for r in week if r["action"] == "send" and r["chat"] == "kiez-mods")
    assert summary == "Feedback for #1 Board games: average 4.5/5 from 2 ratings."


def test_newcomer_onboarding_skips_what_she_already_did(week: list[dict[str, Any]]) -> None:
    # The attendance reply names the points when the check-in (points) feature is installed.
    dora = [
        (local(r), r["text"].split("\n")[0].replace(": +20 points!", ". Welcome!"))
        for r in week
        if r["action"] == "send" and r["text"].startswith(("@Dora", "Welcome to kiez, @Dora"))
    ]
    assert dora == [
        (
            "Mon 23 09:00",
            "Welcome to kiez, @Dora! 👋 Please have a look at the rules with /rules, and say hello.",
        ),
        # Day 1 (rules) skipped: she read them. Day 3 (introduce yourself) skipped: she spoke on Monday.
        (
            "Tue 24 09:00",
            "@Dora Tip: send /checkin (or 签到) once a day to collect points and keep a streak.",
        ),
        ("Sat 28 15:10", "@Dora is here at #1 Board games. Welcome!"),
        ("Sun 29 09:00", "@Dora You've been with us for a week — thank you! Your first week:"),
    ]
    week_summary = next(
        r["text"] for r in week if r["action"] == "send" and r["text"].startswith("@Dora You've")
    )
    lines = week_summary.split("\n")[1:]
    assert lines[-2:] == ["• topic replies: 1", "• activities attended: 1"]
    assert len(lines) == 2 or lines[0].startswith("• points: ")
