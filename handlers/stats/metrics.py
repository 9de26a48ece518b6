"""KPI arithmetic for ``/stats``, the weekly report and the export, from per-day rows.

Pure functions over plain numbers so the figures can be checked exactly in unit tests. Every
period is made of *complete* local days ending yesterday: today's figures are still moving, and
a number that changes while a moderator reads it is worse than a number that is a day old.

Definitions (the README repeats them for moderators):

* **DAU** — distinct members who posted on the last day of the period (yesterday).
* **WAU / MAU** — distinct members who posted in the 7 / 30 days ending yesterday.
* **stickiness** — the period's average DAU ÷ MAU. Averaging DAU over the period keeps one
  quiet Sunday from swinging the ratio.
* **messages per day** — messages in the period ÷ its days.
* **interaction rate** — replies ÷ messages in the period.
* **check-in rate** — check-ins ÷ active member-days (the sum of DAU) in the period: the share
  of the members who showed up that also checked in. Capped at 100 % (a member may check in
  without posting on some platforms).
* **change** — against the period of the same length just before. Counts change by a relative
  percentage; ratios change by percentage points. No previous value means no change is shown,
  never a division by zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

#: The periods ``/stats`` understands, by their argument.
PERIODS: Mapping[str, int] = {"7d": 7, "30d": 30, "7": 7, "30": 30, "7天": 7, "30天": 30}


@dataclass(frozen=True, slots=True)
class DayRow:
    """One group's counters for one local day (zero when nothing happened)."""

    day: date
    messages: int = 0
    replies: int = 0
    commands: int = 0
    joins: int = 0
    leaves: int = 0
    checkins: int = 0
    #: Distinct members who posted that day.
    dau: int = 0


@dataclass(frozen=True, slots=True)
class Change:
    """A figure with its value in the previous period.

    ``delta`` is relative (0.25 = +25 %) for counts and absolute (0.05 = +5 points) for ratios;
    it is None when there is nothing to compare with.
    """

    value: float | None
    previous: float | None
    delta: float | None
    is_ratio: bool = False


@dataclass(frozen=True, slots=True)
class MemberFigure:
    """A member's messages in the period and the change against the previous one."""

    member_id: int
    name: str
    messages: int
    change: Change


@dataclass(frozen=True, slots=True)
class HourFigure:
    """Messages posted in one local hour of the day across the period."""

    hour: int
    messages: int
    change: Change


@dataclass(frozen=True, slots=True)
class Kpis:
    """Everything ``/stats`` shows for one period."""

    start: date
    end: date
    days: int
    members_now: int
    joined: Change
    left: Change
    dau: Change
    wau: Change
    mau: Change
    stickiness: Change
    messages_per_day: Change
    interaction_rate: Change
    checkin_rate: Change
    top: tuple[MemberFigure, ...] = ()
    busiest_hours: tuple[HourFigure, ...] = ()
    has_data: bool = True
    #: False when no check-in feature is loaded: the rate is then left out, not shown as 0 %.
    checkins_tracked: bool = True


def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, or None when the denominator is zero."""
    if not denominator:
        return None
    return numerator / denominator


def count_change(value: float | None, previous: float | None) -> Change:
    """A count with its relative change; no change when the previous value is missing or zero."""
    delta = None
    if value is not None and previous:
        delta = (value - previous) / previous
    return Change(value, previous, delta)


def ratio_change(value: float | None, previous: float | None) -> Change:
    """A ratio with its change in points; no change when either side is missing."""
    delta = None
    if value is not None and previous is not None:
        delta = value - previous
    return Change(value, previous, delta, is_ratio=True)


def period_bounds(end: date, days: int) -> tuple[date, date, date, date]:
    """(start, end, previous start, previous end) for ``days`` days ending at ``end``."""
    start = end - timedelta(days=days - 1)
    prev_end = start - timedelta(days=1)
    prev_start = prev_end - timedelta(days=days - 1)
    return start, end, prev_start, prev_end


def days_between(start: date, end: date) -> list[date]:
    """Every day from ``start`` to ``end`` inclusive."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


@dataclass(frozen=True, slots=True)
class _Totals:
    messages: int
    replies: int
    joins: int
    leaves: int
    checkins: int
    dau_sum: int
    active_days: int


def _totals(rows: Mapping[date, DayRow], start: date, end: date) -> _Totals:
    picked = [rows[d] for d in days_between(start, end) if d in rows]
    return _Totals(
        messages=sum(r.messages for r in picked),
        replies=sum(r.replies for r in picked),
        joins=sum(r.joins for r in picked),
        leaves=sum(r.leaves for r in picked),
        checkins=sum(r.checkins for r in picked),
        dau_sum=sum(r.dau for r in picked),
        active_days=sum(1 for r in picked if r.messages or r.dau or r.joins or r.leaves or r.checkins),
    )


def compute_kpis(
    *,
    end: date,
    days: int,
    rows: Iterable[DayRow],
    members_now: int,
    wau: tuple[int, int],
    mau: tuple[int, int],
    top: Sequence[tuple[int, str, int, int]] = (),
    hours: Mapping[int, tuple[int, int]] | None = None,
    checkins_tracked: bool = True,
) -> Kpis:
    """Build the period's KPIs.

    ``rows`` holds day rows covering both this period and the previous one (missing days count
    as zero). ``wau`` and ``mau`` are (this period's end, previous period's end) distinct counts.
    ``top`` is (member id, name, messages now, messages before), best first. ``hours`` maps a
    local hour to (messages now, messages before).
    """
    by_day = {r.day: r for r in rows}
    start, end, prev_start, prev_end = period_bounds(end, days)
    cur = _totals(by_day, start, end)
    prev = _totals(by_day, prev_start, prev_end)
    prev_known = prev.active_days > 0

    def _prev(value: float) -> float | None:
        return value if prev_known else None

    dau_now = by_day[end].dau if end in by_day else 0
    dau_before = by_day[prev_end].dau if prev_end in by_day else 0
    avg_dau = cur.dau_sum / days
    prev_avg_dau = prev.dau_sum / days
    stick = ratio(avg_dau, mau[0])
    prev_stick = ratio(prev_avg_dau, mau[1]) if prev_known else None
    checkin = ratio(cur.checkins, cur.dau_sum)
    prev_checkin = ratio(prev.checkins, prev.dau_sum) if prev_known else None

    top_figs = tuple(
        MemberFigure(mid, name, now, count_change(now, _prev(before))) for mid, name, now, before in top
    )
    hour_figs: tuple[HourFigure, ...] = ()
    if hours:
        ranked = sorted(((h, v) for h, v in hours.items() if v[0] > 0), key=lambda kv: (-kv[1][0], kv[0]))
        hour_figs = tuple(
            HourFigure(h, now, count_change(now, _prev(before))) for h, (now, before) in ranked[:3]
        )

    return Kpis(
        start=start,
        end=end,
        days=days,
        members_now=members_now,
        joined=count_change(cur.joins, _prev(prev.joins)),
        left=count_change(cur.leaves, _prev(prev.leaves)),
        dau=count_change(dau_now, _prev(dau_before)),
        wau=count_change(wau[0], _prev(wau[1])),
        mau=count_change(mau[0], _prev(mau[1])),
        stickiness=ratio_change(stick, prev_stick),
        messages_per_day=count_change(cur.messages / days, _prev(prev.messages / days)),
        interaction_rate=ratio_change(ratio(cur.replies, cur.messages), _nz_ratio(prev, prev_known)),
        checkin_rate=ratio_change(
            min(checkin, 1.0) if checkin is not None and checkins_tracked else None,
            min(prev_checkin, 1.0) if prev_checkin is not None and checkins_tracked else None,
        ),
        top=top_figs,
        busiest_hours=hour_figs,
        has_data=cur.active_days > 0,
        checkins_tracked=checkins_tracked,
    )


def _nz_ratio(prev: _Totals, known: bool) -> float | None:
    return ratio(prev.replies, prev.messages) if known else None


def average(values: Sequence[float]) -> float | None:
    """The mean, or None for an empty sequence."""
    return sum(values) / len(values) if values else None
