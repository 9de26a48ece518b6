"""New members' 7-day retention, the overview figure ``retention_7d``, and the weekly retention
cohorts of the Charts page.

A member who joined on local day J (the group's timezone) is *retained* when they were active —
posted a message or used a command, as DAU counts — on any of the local days J+6, J+7 or J+8.
The figure of a period (the ``days`` complete local days ``start``…``end``) is taken over the
members whose J+8 falls in the period (J in ``start−8``…``end−8``): their whole window has been
seen by the period's end, and each joiner is counted in exactly one of consecutive periods. It
is retained ÷ that cohort; no value when nobody joined then. Bots are not members here.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from bot.clock import zone
from bot.ports import RetentionCohort
from bot.timeparse import localize
from handlers.stats.metrics import Change, period_bounds, ratio_change
from storage.stats import JoinDay, StatsRepo

#: The retention window, in local days after the join day.
FIRST, LAST = 6, 8


def _join_day(tz: ZoneInfo, day: date, key: int, windows: tuple[tuple[date, date], ...]) -> JoinDay:
    """The local day ``day`` as a join day in bucket ``key``."""
    return JoinDay(key, localize(day, time(0), tz), localize(day + timedelta(days=1), time(0), tz), windows)


def _after(day: date, first: int, last: int) -> tuple[date, date]:
    """The local days ``first``…``last`` days after ``day``."""
    return day + timedelta(days=first), day + timedelta(days=last)


async def retention_of(repo: StatsRepo, group_id: int, timezone: str, start: date, end: date) -> float | None:
    """Share of the members whose J+8 lies in ``start``…``end`` who were active on J+6…J+8."""
    tz = zone(timezone)
    span = (end - start).days + 1
    joins = [start - timedelta(days=LAST) + timedelta(days=i) for i in range(span)]
    counted = await repo.join_retention(
        group_id, [_join_day(tz, j, 0, (_after(j, FIRST, LAST),)) for j in joins]
    )
    size, (retained,) = counted.get(0, (0, (0,)))
    return retained / size if size else None


async def retention_change(repo: StatsRepo, group_id: int, timezone: str, today: date, days: int) -> Change:
    """The figure of the ``days`` complete days before ``today`` and of the period before."""
    start, end, prev_start, prev_end = period_bounds(today - timedelta(days=1), days)
    return ratio_change(
        await retention_of(repo, group_id, timezone, start, end),
        await retention_of(repo, group_id, timezone, prev_start, prev_end),
    )


#: Weeks after joining the cohort table follows.
COHORT_WEEKS = 4


async def cohorts(
    repo: StatsRepo, group_id: int, timezone: str, today: date, weeks: int
) -> list[RetentionCohort]:
    """Members who joined in each of the ``weeks`` weeks ending yesterday (local days), oldest
    first, and the share of each week's joiners active (as DAU counts) on any day 7k…7k+6 after
    their own join day, for k = 1…``COHORT_WEEKS``; None until that week is complete for the
    cohort's last joiner."""
    tz = zone(timezone)
    end = today - timedelta(days=1)
    first = end - timedelta(days=7 * weeks - 1)
    joins = [first + timedelta(days=i) for i in range(7 * weeks)]
    counted = await repo.join_retention(
        group_id,
        [
            _join_day(
                tz,
                j,
                (j - first).days // 7,
                tuple(_after(j, 7 * k, 7 * k + 6) for k in range(1, COHORT_WEEKS + 1)),
            )
            for j in joins
        ],
    )
    out = []
    for i in range(weeks):
        start = first + timedelta(days=7 * i)
        size, retained = counted.get(i, (0, (0,) * COHORT_WEEKS))
        shares: list[float | None] = []
        for k in range(1, COHORT_WEEKS + 1):
            complete = start + timedelta(days=6 + 7 * k + 6) <= end
            shares.append(retained[k - 1] / size if complete and size else None)
        out.append(RetentionCohort(start, size, tuple(shares)))
    return out
