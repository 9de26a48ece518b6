"""The WHEN and START grammars, cron translation and DST behaviour, without the core."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.timeparse import (
    CronSpec,
    OnceSpec,
    TimeError,
    next_fire,
    parse_cron,
    parse_duration,
    parse_start,
    parse_time_of_day,
    parse_when,
    repeated_wall_time,
    trigger_for,
)

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
# Friday 2026-10-23 20:00 in Shanghai.
NOW = datetime(2026, 10, 23, 12, 0, tzinfo=UTC)


def fires(spec: CronSpec | OnceSpec, tz: ZoneInfo, start: datetime, n: int) -> list[datetime]:
    """The next ``n`` fire times as APScheduler computes them, in local time."""
    trig = trigger_for(spec, tz)
    out: list[datetime] = []
    prev = None
    now = start
    for _ in range(n):
        nxt = trig.get_next_fire_time(prev, now)
        if nxt is None:
            break
        out.append(nxt.astimezone(tz))
        prev = now = nxt
    return out


@pytest.mark.parametrize(
    ("text", "spec", "canonical", "rest"),
    [
        ("daily 09:00 Good morning", CronSpec("0", "9"), "daily 09:00", "Good morning"),
        ("weekdays 9:05 standup", CronSpec("5", "9", day_of_week="mon-fri"), "weekdays 09:05", "standup"),
        ("weekly fri 20:00 weekend!", CronSpec("0", "20", day_of_week="fri"), "weekly fri 20:00", "weekend!"),
        ("weekly Friday 20:00 x", CronSpec("0", "20", day_of_week="fri"), "weekly fri 20:00", "x"),
        ("monthly 1 10:00 report", CronSpec("0", "10", day="1"), "monthly 1 10:00", "report"),
        ("每天 09:00 早安", CronSpec("0", "9"), "daily 09:00", "早安"),
        ("每天9点半 早安", CronSpec("30", "9"), "daily 09:30", "早安"),
        ("工作日 09:00 站会", CronSpec("0", "9", day_of_week="mon-fri"), "weekdays 09:00", "站会"),
        ("每周五 20:00 周末愉快", CronSpec("0", "20", day_of_week="fri"), "weekly fri 20:00", "周末愉快"),
        ("每周日20：00 周报", CronSpec("0", "20", day_of_week="sun"), "weekly sun 20:00", "周报"),
        ("每月1日 10:00 月报", CronSpec("0", "10", day="1"), "monthly 1 10:00", "月报"),
        ("每月15号 8:00 发薪", CronSpec("0", "8", day="15"), "monthly 15 08:00", "发薪"),
    ],
)
def test_when_forms(text: str, spec: CronSpec, canonical: str, rest: str) -> None:
    when, body = parse_when(text, SH, NOW)
    assert when.spec == spec
    assert when.canonical == canonical
    assert body == rest


def test_when_keeps_line_breaks_in_the_text() -> None:
    _, body = parse_when("daily 09:00 line one\nline two", SH, NOW)
    assert body == "line one\nline two"


def test_once_is_an_instant_in_the_group_timezone() -> None:
    when, body = parse_when("once 2026-12-01 20:00 launch", SH, NOW)
    assert when.once
    assert when.spec == OnceSpec(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    assert body == "launch"


def test_once_in_the_past_is_refused() -> None:
    with pytest.raises(TimeError) as err:
        parse_when("once 2026-10-01 20:00 late", SH, NOW)
    assert err.value.key == "schedule.err_past"


@pytest.mark.parametrize(
    ("cron", "dow"),
    [
        ("0 9 * * 0", "sun"),
        ("0 9 * * 7", "sun"),
        ("0 9 * * 1", "mon"),
        ("0 9 * * 1-5", "mon,tue,wed,thu,fri"),
        ("0 9 * * 5-7", "fri,sat,sun"),
        ("0 9 * * 0,6", "sat,sun"),
        ("0 9 * * */2", "tue,thu,sat,sun"),
        ("0 9 * * 0-7", "*"),
        ("0 9 * * sun", "sun"),
    ],
)
def test_cron_weekday_numbers_mean_what_cron_means(cron: str, dow: str) -> None:
    when, _ = parse_when(cron + " text", SH, NOW)
    assert isinstance(when.spec, CronSpec)
    assert when.spec.day_of_week == dow


def test_cron_sunday_fires_on_sunday() -> None:
    when, _ = parse_when("30 8 * * 0 weekly", SH, NOW)
    got = fires(when.spec, SH, NOW, 3)
    assert [d.weekday() for d in got] == [6, 6, 6]
    assert all((d.hour, d.minute) == (8, 30) for d in got)


def test_cron_steps_and_lists() -> None:
    spec = parse_cron(["*/15", "9-10", "*", "*", "*"])
    got = fires(spec, SH, NOW, 9)
    assert [(d.hour, d.minute) for d in got[:8]] == [
        (9, 0),
        (9, 15),
        (9, 30),
        (9, 45),
        (10, 0),
        (10, 15),
        (10, 30),
        (10, 45),
    ]
    assert got[8].hour == 9 and got[8].date() > got[0].date()


@pytest.mark.parametrize(
    ("cron", "key", "field", "part"),
    [
        ("61 9 * * *", "schedule.err_cron_range", "minute", "61"),
        ("0 24 * * *", "schedule.err_cron_range", "hour", "24"),
        ("0 9 0 * *", "schedule.err_cron_range", "day", "0"),
        ("0 9 * 13 *", "schedule.err_cron_range", "month", "13"),
        ("0 9 * * 8", "schedule.err_cron_range", "day_of_week", "8"),
        ("0 9 * * x-y", "schedule.err_cron_field", "day_of_week", "x-y"),
        ("0 9-7 * * *", "schedule.err_cron_field", "hour", "9-7"),
        ("*/0 9 * * *", "schedule.err_cron_field", "minute", "*/0"),
    ],
)
def test_bad_cron_names_the_field_and_the_bad_part(cron: str, key: str, field: str, part: str) -> None:
    with pytest.raises(TimeError) as err:
        parse_when(cron + " text", SH, NOW)
    assert err.value.key == key
    assert err.value.kw["field"] == field
    assert err.value.kw["part"] == part


def test_cron_with_day_and_weekday_is_refused_not_reinterpreted() -> None:
    # cron ORs a restricted day-of-month with a restricted weekday; APScheduler would AND them.
    with pytest.raises(TimeError) as err:
        parse_when("0 9 1 * 1 text", SH, NOW)
    assert err.value.key == "schedule.err_cron_dom_dow"


def test_short_cron_is_incomplete() -> None:
    with pytest.raises(TimeError) as err:
        parse_when("0 9 *", SH, NOW)
    assert err.value.key == "schedule.err_when_incomplete"


@pytest.mark.parametrize(
    ("text", "key", "part"),
    [
        ("daily 25:00 x", "schedule.err_time", "25:00"),
        ("daily 9:7 x", "schedule.err_time", "9:7"),
        ("daily noon x", "schedule.err_time", "noon"),
        ("weekly fryday 20:00 x", "schedule.err_weekday", "fryday"),
        ("monthly 32 10:00 x", "schedule.err_day", "32"),
        ("每月32日 10:00 x", "schedule.err_day", "每月32日"),
        ("once 2026-02-30 10:00 x", "schedule.err_date", "2026-02-30"),
        ("once 12-01 10:00 x", "schedule.err_date", "12-01"),
        ("sometimes 10:00 x", "schedule.err_when", "sometimes"),
        ("daily", "schedule.err_when_incomplete", "daily"),
    ],
)
def test_bad_when_names_the_bad_part(text: str, key: str, part: str) -> None:
    with pytest.raises(TimeError) as err:
        parse_when(text, SH, NOW)
    assert err.value.key == key
    assert err.value.kw["part"] == part


# ------------------------------------------------------------------------------------------- DST


def test_daily_post_keeps_local_time_across_spring_forward() -> None:
    when, _ = parse_when("daily 09:00 x", BERLIN, NOW)
    got = fires(when.spec, BERLIN, datetime(2026, 3, 27, 12, tzinfo=UTC), 3)
    assert [(d.day, d.hour) for d in got] == [(28, 9), (29, 9), (30, 9)]
    assert [d.astimezone(UTC).hour for d in got] == [8, 7, 7]  # CET then CEST


def test_daily_post_keeps_local_time_across_fall_back() -> None:
    when, _ = parse_when("daily 09:00 x", BERLIN, NOW)
    got = fires(when.spec, BERLIN, datetime(2026, 10, 23, 12, tzinfo=UTC), 3)
    assert [(d.day, d.hour) for d in got] == [(24, 9), (25, 9), (26, 9)]
    assert [d.astimezone(UTC).hour for d in got] == [7, 8, 8]


def test_skipped_wall_time_fires_once_after_the_jump() -> None:
    when, _ = parse_when("daily 02:30 x", BERLIN, NOW)
    got = fires(when.spec, BERLIN, datetime(2026, 3, 28, 12, tzinfo=UTC), 2)
    # 02:30 does not exist on 29 March; it fires once, at 03:30 CEST (01:30 UTC).
    assert got[0].astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert got[1].astimezone(UTC) == datetime(2026, 3, 30, 0, 30, tzinfo=UTC)


def test_repeated_wall_time_second_pass_is_detected() -> None:
    when, _ = parse_when("daily 02:30 x", BERLIN, NOW)
    got = fires(when.spec, BERLIN, datetime(2026, 10, 24, 12, tzinfo=UTC), 3)
    # APScheduler offers both 02:30s of the autumn night; the second must be recognised and dropped.
    kept = [d for d in got if not repeated_wall_time(d, BERLIN)]
    assert [d.astimezone(UTC) for d in kept] == [
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 26, 1, 30, tzinfo=UTC),
    ]


def test_next_fire_helper() -> None:
    when, _ = parse_when("weekly fri 20:00 x", SH, NOW)
    # NOW is Friday 20:00 Shanghai exactly: the next one is a week later.
    assert next_fire(when.spec, SH, NOW) == NOW + timedelta(days=7)
    once = OnceSpec(NOW + timedelta(hours=1))
    assert next_fire(once, SH, NOW) == once.at
    assert next_fire(once, SH, once.at) is None


# ----------------------------------------------------------------------------------------- START


@pytest.mark.parametrize(
    ("text", "local"),
    [
        ("2026-12-01 20:00", datetime(2026, 12, 1, 20, 0)),
        ("12-01 20:00", datetime(2026, 12, 1, 20, 0)),
        ("明天 20:00", datetime(2026, 10, 24, 20, 0)),
        ("后天 9:30", datetime(2026, 10, 25, 9, 30)),
        ("tomorrow 20:00", datetime(2026, 10, 24, 20, 0)),
        ("今天 21:00", datetime(2026, 10, 23, 21, 0)),
        ("周六 20:00", datetime(2026, 10, 24, 20, 0)),
        ("sat 20:00", datetime(2026, 10, 24, 20, 0)),
        # Friday 20:00 is now, so "fri 20:00" means next week's.
        ("fri 20:00", datetime(2026, 10, 30, 20, 0)),
        ("周五 20:00", datetime(2026, 10, 30, 20, 0)),
        ("周五 21:00", datetime(2026, 10, 23, 21, 0)),
        ("明天20:00", datetime(2026, 10, 24, 20, 0)),
        # A month-day already past this year is next year's.
        ("03-01 10:00", datetime(2027, 3, 1, 10, 0)),
        ("+2h", datetime(2026, 10, 23, 22, 0)),
        ("+90m", datetime(2026, 10, 23, 21, 30)),
        ("+1d", datetime(2026, 10, 24, 20, 0)),
    ],
)
def test_start_forms(text: str, local: datetime) -> None:
    assert parse_start(text, SH, NOW) == local.replace(tzinfo=SH).astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "key", "part"),
    [
        ("2026-10-01 20:00", "events.err_past", "2026-10-01 20:00"),
        ("今天 19:00", "events.err_past", "今天 19:00"),
        ("10-23 19:59", "events.err_past", "10-23 19:59"),
        ("明天 25:00", "events.err_start_time", "25:00"),
        ("someday 20:00", "events.err_start_day", "someday"),
        ("2026-13-01 20:00", "events.err_start_day", "2026-13-01"),
        ("+2x", "events.err_start", "2x"),
        ("+0h", "events.err_start", "0h"),
        ("", "events.err_start", ""),
        ("tomorrow", "events.err_start", "tomorrow"),
    ],
)
def test_bad_start_names_the_bad_part(text: str, key: str, part: str) -> None:
    with pytest.raises(TimeError) as err:
        parse_start(text, SH, NOW)
    assert err.value.key == key
    assert err.value.kw["part"] == part


def test_start_in_berlin_spring_gap_moves_forward() -> None:
    now = datetime(2026, 3, 28, 12, tzinfo=UTC)
    got = parse_start("2026-03-29 02:30", BERLIN, now)
    assert got == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("2h", 120), ("90m", 90), ("1h30m", 90), ("2小时", 120), ("1小时30分钟", 90), ("1d", 1440)],
)
def test_durations(text: str, minutes: int) -> None:
    assert parse_duration(text) == timedelta(minutes=minutes)


@pytest.mark.parametrize("text", ["", "2", "h", "2h-", "0m", "two hours", "99999999999999d"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(TimeError):
        parse_duration(text)


@given(st.integers(0, 23), st.integers(0, 59))
def test_every_valid_time_of_day_parses(hour: int, minute: int) -> None:
    assert parse_time_of_day(f"{hour}:{minute:02d}").hour == hour
    assert parse_time_of_day(f"{hour:02d}：{minute:02d}").minute == minute


@given(st.text(max_size=40))
def test_garbage_never_crashes_the_parsers(text: str) -> None:
    for fn in (lambda: parse_when(text, SH, NOW), lambda: parse_start(text, SH, NOW)):
        try:
            fn()
        except TimeError:
            pass
