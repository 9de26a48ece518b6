"""Quiet-hours arithmetic and the starter topic banks, without the core."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.timeparse import TimeError
from handlers.schedules.quiet import QuietWindow, deferred_until, parse_window, window_from_setting
from handlers.topics.bank import starter_topics

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NIGHT = QuietWindow(time(22, 0), time(8, 0))


def local(y: int, mo: int, d: int, h: int, mi: int = 0, tz: ZoneInfo = SH) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=tz).astimezone(UTC)


@pytest.mark.parametrize(
    ("fire", "expected"),
    [
        (local(2026, 3, 2, 21, 59), local(2026, 3, 2, 21, 59)),  # just before: untouched
        (local(2026, 3, 2, 22, 0), local(2026, 3, 3, 8, 0)),  # start is inside
        (local(2026, 3, 2, 23, 30), local(2026, 3, 3, 8, 0)),  # before midnight → next morning
        (local(2026, 3, 3, 0, 0), local(2026, 3, 3, 8, 0)),  # after midnight → same morning
        (local(2026, 3, 3, 7, 59), local(2026, 3, 3, 8, 0)),
        (local(2026, 3, 3, 8, 0), local(2026, 3, 3, 8, 0)),  # end is outside
        (local(2026, 3, 3, 12, 0), local(2026, 3, 3, 12, 0)),
    ],
)
def test_window_across_midnight(fire: datetime, expected: datetime) -> None:
    assert deferred_until(NIGHT, fire, SH) == expected


def test_window_within_a_day() -> None:
    siesta = QuietWindow(time(12, 0), time(14, 0))
    assert deferred_until(siesta, local(2026, 3, 2, 13, 0), SH) == local(2026, 3, 2, 14, 0)
    assert deferred_until(siesta, local(2026, 3, 2, 23, 0), SH) == local(2026, 3, 2, 23, 0)


def test_window_end_on_the_dst_night_is_local_wall_time() -> None:
    window = QuietWindow(time(1, 0), time(8, 0))
    # Spring forward in Berlin: the night is an hour short, the window still ends at 08:00 local.
    got = deferred_until(window, local(2026, 3, 29, 1, 30, BERLIN), BERLIN)
    assert got.astimezone(BERLIN).hour == 8
    assert got == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)


def test_urgent_posts_never_wait() -> None:
    fire = local(2026, 3, 2, 23, 0)
    assert deferred_until(NIGHT, fire, SH, urgent=True) == fire


def test_no_window_means_no_deferral() -> None:
    fire = local(2026, 3, 2, 23, 0)
    assert deferred_until(None, fire, SH) == fire


def test_activity_reminder_close_to_start_is_not_deferred() -> None:
    fire = local(2026, 3, 2, 23, 0)
    # The activity starts at 00:30: the T−1h-ish reminder goes out now.
    assert deferred_until(NIGHT, fire, SH, event_start=fire + timedelta(minutes=90)) == fire
    # Starting at 09:00 the next day: deferring to 08:00 still leaves only one hour, so not deferred.
    assert deferred_until(NIGHT, fire, SH, event_start=local(2026, 3, 3, 9, 0)) == fire
    # Starting at 20:00 the next day: the countdown can wait for the morning.
    assert deferred_until(NIGHT, fire, SH, event_start=local(2026, 3, 3, 20, 0)) == local(2026, 3, 3, 8, 0)


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("22:00-08:00", NIGHT),
        ("22:00 - 8:00", NIGHT),
        ("22:00~08:00", NIGHT),
        ("22点-8点", NIGHT),
        ("22:00到08:00", NIGHT),
        ("12:00-14:30", QuietWindow(time(12, 0), time(14, 30))),
    ],
)
def test_parse_window(text: str, window: QuietWindow) -> None:
    assert parse_window(text) == window
    assert window_from_setting(str(window)) == window


@pytest.mark.parametrize(
    ("text", "key", "part"),
    [
        ("22:00", "schedule.err_quiet", "22:00"),
        ("22:00-", "schedule.err_quiet", "22:00-"),
        ("22:00-25:00", "schedule.err_time", "25:00"),
        ("08:00-08:00", "schedule.err_quiet_empty", "08:00-08:00"),
        ("late-early", "schedule.err_time", "late"),
    ],
)
def test_bad_windows(text: str, key: str, part: str) -> None:
    with pytest.raises(TimeError) as err:
        parse_window(text)
    assert err.value.key == key
    assert err.value.kw["part"] == part


def test_setting_off_or_garbled_is_no_window() -> None:
    assert window_from_setting("") is None
    assert window_from_setting(None) is None
    assert window_from_setting("garbage") is None


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_starter_banks_are_big_and_clean(lang: str) -> None:
    topics = starter_topics(lang)
    assert len(topics) >= 60
    assert len(set(topics)) == len(topics)
    assert all(0 < len(t) <= 200 and not t.startswith("#") for t in topics)


def test_starter_bank_language() -> None:
    assert any("\u4e00" <= ch <= "\u9fff" for ch in starter_topics("zh-CN")[0])
    assert starter_topics("en")[0].isascii()
    assert starter_topics("fr") == starter_topics("en")
