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

from bot.clock import local_day, zone
from bot.ports import RetentionCohort
from bot.timeparse import localize
from handlers.stats.metrics import Change, period_bounds, ratio_change
from storage.stats import StatsRepo

#: The retention window, in local days after the join day.
FIRST, LAST = 6, 8


async def retention_of(repo: StatsRepo, group_id: int, timezone: str, start: date, end: date) -> float | None:
    """Share of the members whose J+8 lies in ``start``…``end`` who were active on J+6…J+8."""
    tz = zone(timezone)
    since = localize(start - timedelta(days=LAST), time(0), tz)
    until = localize(end - timedelta(days=LAST - 1), time(0), tz)
    cohort, active = await repo.join_cohort(group_id, since, until, start - timedelta(days=LAST - FIRST), end)
    if not cohort:
        return None
    joined = {member: local_day(at, timezone) for member, at in cohort}
    retained = {
        member for member, day in active if member in joined and FIRST <= (day - joined[member]).days <= LAST
    }
    return len(retained) / len(cohort)


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
    cohort, active = await repo.join_cohort(
        group_id, localize(first, time(0), tz), localize(today, time(0), tz), first + timedelta(days=7), end
    )
    joined = {member: local_day(at, timezone) for member, at in cohort}
    seen: dict[int, set[int]] = {}  # member → the weeks after joining they were active in
    for member, day in active:
        if member in joined:
            seen.setdefault(member, set()).add((day - joined[member]).days // 7)
    out = []
    for i in range(weeks):
        start = first + timedelta(days=7 * i)
        members = [m for m, d in joined.items() if start <= d < start + timedelta(days=7)]
        shares: list[float | None] = []
        for k in range(1, COHORT_WEEKS + 1):
            complete = start + timedelta(days=6 + 7 * k + 6) <= end
            if not complete or not members:
                shares.append(None)
            else:
                shares.append(sum(1 for m in members if k in seen.get(m, ())) / len(members))
        out.append(RetentionCohort(start, len(members), tuple(shares)))
    return out
