"""The ``GroupIndicators`` port: the dashboard's overview figures, from what ``/stats`` reads.

The same ``gather_kpis`` as ``/stats`` (so the two never disagree), the lifecycle stage counts
of ``/lifecycle``, and the alert figures the moderation feature publishes (``ModerationFacts``)
when it is installed.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import date, datetime, timedelta

from bot.clock import local_day
from bot.ports import ActivitySeries, Indicator
from bot.services import Services
from handlers.stats import report
from handlers.stats.facts import alert_summary
from handlers.stats.metrics import Change
from storage.models import Group

STATE_KEY = "stats"


def _figure(key: str, change: Change) -> Indicator:
    return Indicator(key, change.value, change.previous, change.delta, change.is_ratio)


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


#: How long the overview's figures are reused: the member count and the stages move slowly (the
#: same minute ``/stats`` caches the member count for), the day figures only at midnight.
TTL = timedelta(seconds=60)
#: Cached entries kept (groups × periods).
CACHE_SIZE = 256


class Indicators:
    """``GroupIndicators`` over the stats feature's repository (looked up per call).

    A page reloaded within ``TTL`` reuses the figures (counting 100,000 members by stage takes
    a while); the day-by-day series covers complete days only, so it is kept until the day turns.
    """

    def __init__(self, services: Services) -> None:
        self._services = services
        self._figures: OrderedDict[tuple[int, int], tuple[datetime, list[Indicator]]] = OrderedDict()
        self._series: OrderedDict[tuple[int, int, date], ActivitySeries] = OrderedDict()

    async def indicators(self, group: Group, now: datetime, days: int) -> list[Indicator]:
        """The overview figures of the ``days`` complete local days before ``now``."""
        key = (group.id, days)
        hit = self._figures.get(key)
        if hit is not None and timedelta(0) <= now - hit[0] < TTL:
            return hit[1]
        figures = await self._compute(group, now, days)
        self._figures[key] = (now, figures)
        self._figures.move_to_end(key)
        while len(self._figures) > CACHE_SIZE:
            self._figures.popitem(last=False)
        return figures

    async def _compute(self, group: Group, now: datetime, days: int) -> list[Indicator]:
        services = self._services
        st = services.state[STATE_KEY]
        today = local_day(now, group.timezone)
        first = await st.repo.first_day(group.id)
        if first is None or first >= today:
            return []
        members_now = await st.counts.get(st.repo, group.id, now)
        k = await report.gather_kpis(st.repo, group.id, today, days, members_now)
        out = [
            Indicator("members", float(k.members_now)),
            _figure("joined", k.joined),
            _figure("left", k.left),
            _figure("dau", k.dau),
            _figure("wau", k.wau),
            _figure("mau", k.mau),
            _figure("stickiness", k.stickiness),
            _figure("messages_per_day", k.messages_per_day),
            _figure("interaction_rate", k.interaction_rate),
        ]
        if k.checkins_tracked:
            out.append(_figure("checkin_rate", k.checkin_rate))
        stages = await st.repo.stage_counts(group.id, now)
        out.extend(Indicator(f"stage_{name}", float(count)) for name, count in sorted(stages.items()))
        summary = await alert_summary(services, group.id, now - timedelta(days=days), now)
        if summary is not None:
            out.extend(Indicator(f"alerts_{lvl}", float(n)) for lvl, n in sorted(summary.by_level.items()))
            handling = [s / 3600 for s in summary.handling_seconds]
            out.append(Indicator("handling_median_hours", _percentile(handling, 0.5)))
            out.append(Indicator("handling_p90_hours", _percentile(handling, 0.9)))
        return out

    async def activity(self, group: Group, now: datetime, days: int) -> ActivitySeries:
        """Per-day messages and actives and the 7 × 24 grid (``/stats chart``'s queries)."""
        end = local_day(now, group.timezone) - timedelta(days=1)
        key = (group.id, days, end)
        hit = self._series.get(key)
        if hit is not None:
            return hit
        series = await self._activity(group, end, days)
        self._series[key] = series
        while len(self._series) > CACHE_SIZE:
            self._series.popitem(last=False)
        return series

    async def _activity(self, group: Group, end: date, days: int) -> ActivitySeries:
        repo = self._services.state[STATE_KEY].repo
        start = end - timedelta(days=days - 1)
        await repo.ensure_rollups(group.id, start, end)
        rows = {r.day: r for r in await repo.daily(group.id, start, end)}
        span = tuple(start + timedelta(days=i) for i in range(days))
        grid = await repo.hour_of_week(group.id, start, end)
        return ActivitySeries(
            days=span,
            messages=tuple(rows[d].messages if d in rows else 0 for d in span),
            actives=tuple(rows[d].dau if d in rows else 0 for d in span),
            heatmap=tuple(tuple(row) for row in grid),
        )
