"""The ``GroupIndicators`` port: the dashboard's overview figures, from what ``/stats`` reads.

The same ``gather_kpis`` as ``/stats`` (so the two never disagree), the lifecycle stage counts
of ``/lifecycle``, the churn rule of the daily churn check, new members' 7-day retention
(``retention``), the latest NPS poll, and what other features publish when they are
installed: alerts (``ModerationFacts``), topic participation (``TopicFacts``) and activity
attendance (``ActivityFacts``). Each figure gets a tone from the
group's ``stats.thresholds`` on every call, so a changed threshold shows at once.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from datetime import date, datetime, time, timedelta
from typing import TypeVar

from bot.clock import local_day, zone
from bot.ports import (
    ActivityFacts,
    ActivitySeries,
    HotWordFigure,
    HotWords,
    Indicator,
    RetentionCohort,
    StageSeries,
    TopicFacts,
)
from bot.services import Services
from bot.timeparse import localize
from handlers.stats import report
from handlers.stats.facts import alert_summary, blocked_words
from handlers.stats.lifecycle import STAGES
from handlers.stats.metrics import Change, period_bounds
from handlers.stats.nps import nps
from handlers.stats.retention import cohorts, retention_change
from handlers.stats.settings import StatsSettings
from handlers.stats.thresholds import parse_rules
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


def _net_growth(joined: Change, left: Change) -> Indicator:
    """Joined minus left, with the previous period's (no relative change: it crosses zero)."""
    value = None if joined.value is None or left.value is None else joined.value - left.value
    previous = None if joined.previous is None or left.previous is None else joined.previous - left.previous
    return Indicator("net_growth", value, previous)


def _rate(
    key: str, part: float, whole: float | None, prev_part: float, prev_whole: float | None
) -> Indicator:
    """``part ÷ whole`` as a ratio figure with its change in points (None without a whole)."""
    value = part / whole if whole else None
    previous = prev_part / prev_whole if prev_whole else None
    delta = value - previous if value is not None and previous is not None else None
    return Indicator(key, value, previous, delta, is_ratio=True)


K = TypeVar("K")
V = TypeVar("V")


def _keep(cache: OrderedDict[K, V], key: K, value: V) -> None:
    """Remember ``value``, forgetting the oldest entries past ``CACHE_SIZE``."""
    cache[key] = value
    while len(cache) > CACHE_SIZE:
        cache.popitem(last=False)


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
        # Retention reads only complete days: kept until the day turns, like the series (its
        # first computation over 100,000 members takes about a second on SQLite).
        self._retention: OrderedDict[tuple[int, int, date], Change] = OrderedDict()
        self._cohorts: OrderedDict[tuple[int, int, date], list[RetentionCohort]] = OrderedDict()
        self._stages: OrderedDict[int, tuple[datetime, dict[str, int]]] = OrderedDict()

    async def indicators(self, group: Group, now: datetime, days: int) -> list[Indicator]:
        """The overview figures of the ``days`` complete local days before ``now``."""
        key = (group.id, days)
        hit = self._figures.get(key)
        if hit is not None and timedelta(0) <= now - hit[0] < TTL:
            figures = hit[1]
        else:
            figures = await self._compute(group, now, days)
            self._figures[key] = (now, figures)
            self._figures.move_to_end(key)
            while len(self._figures) > CACHE_SIZE:
                self._figures.popitem(last=False)
        return await self._toned(group, figures)

    async def _toned(self, group: Group, figures: list[Indicator]) -> list[Indicator]:
        """The figures with the tone the group's thresholds give them."""
        setting = (await self._services.settings.of(group.id, StatsSettings)).thresholds
        rules = parse_rules(setting)
        return [
            dataclasses.replace(f, tone=rules[f.key].tone(f.value))
            if f.key in rules and f.value is not None
            else f
            for f in figures
        ]

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
            _net_growth(k.joined, k.left),
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
        key = (group.id, days, today)
        retention = self._retention.get(key)
        if retention is None:
            retention = await retention_change(st.repo, group.id, group.timezone, today, days)
            _keep(self._retention, key, retention)
        out.append(_figure("retention_7d", retention))
        stages = await self._stage_counts(group, now)
        out.extend(Indicator(f"stage_{name}", float(count)) for name, count in sorted(stages.items()))
        summary = await alert_summary(services, group.id, now - timedelta(days=days), now)
        if summary is not None:
            out.extend(Indicator(f"alerts_{lvl}", float(n)) for lvl, n in sorted(summary.by_level.items()))
            handling = [s / 3600 for s in summary.handling_seconds]
            out.append(Indicator("handling_median_hours", _percentile(handling, 0.5)))
            out.append(Indicator("handling_p90_hours", _percentile(handling, 0.9)))
        out.extend(await self._engagement(group, today, days, k.wau if days <= 7 else k.mau))
        churn = await report.churn_status(st.repo, group.id, today)
        if churn.enough_data and churn.ratio is not None:
            # Recent 7-day DAU against its 28-day baseline: the daily churn check warns below 0.8.
            out.append(Indicator("churn_ratio", churn.ratio, is_ratio=True))
        poll = await st.repo.latest_poll(group.id)
        score = nps(await st.repo.scores(poll.id)).score if poll is not None else None
        if score is not None:
            out.append(Indicator("nps", score))
        return out

    async def _engagement(self, group: Group, today: date, days: int, active: Change) -> list[Indicator]:
        """Topic participation (repliers ÷ members active in the period) and activity attendance
        (attended ÷ signed up as going), where those features are installed."""
        services = self._services
        start, end, prev_start, prev_end = period_bounds(today - timedelta(days=1), days)
        tz = zone(group.timezone)

        def span(first: date, last: date) -> tuple[datetime, datetime]:
            return localize(first, time(0), tz), localize(last + timedelta(days=1), time(0), tz)

        out = []
        topics = services.ports.find(TopicFacts)
        if topics is not None:
            now_n = await topics.participants(group.id, *span(start, end))
            prev_n = await topics.participants(group.id, *span(prev_start, prev_end))
            out.append(_rate("topic_participation", now_n, active.value, prev_n, active.previous))
        activities = services.ports.find(ActivityFacts)
        if activities is not None:
            going, came = await activities.attendance(group.id, *span(start, end))
            prev_going, prev_came = await activities.attendance(group.id, *span(prev_start, prev_end))
            out.append(_rate("attendance_rate", came, going, prev_came, prev_going))
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

    async def cohorts(self, group: Group, now: datetime, weeks: int) -> list[RetentionCohort]:
        """Weekly join cohorts and their retention in weeks 1…4 (``retention.cohorts``)."""
        today = local_day(now, group.timezone)
        hit = self._cohorts.get((group.id, weeks, today))
        if hit is None:
            repo = self._services.state[STATE_KEY].repo
            hit = await cohorts(repo, group.id, group.timezone, today, weeks)
            _keep(self._cohorts, (group.id, weeks, today), hit)
        return hit

    async def stages(self, group: Group, now: datetime, days: int) -> StageSeries:
        """The stage counts the nightly job recorded for the ``days`` days before today, and now."""
        repo = self._services.state[STATE_KEY].repo
        end = local_day(now, group.timezone) - timedelta(days=1)
        span = tuple(end - timedelta(days=days - 1 - i) for i in range(days))
        recorded = await repo.stage_history(group.id, span[0], end)
        names = tuple(str(s) for s in STAGES)
        live = await self._stage_counts(group, now)
        return StageSeries(
            days=span,
            stages=names,
            counts=tuple(
                tuple(recorded[d].get(n, 0) for n in names) if d in recorded else None for d in span
            ),
            now=tuple(live.get(n, 0) for n in names),
        )

    async def _stage_counts(self, group: Group, now: datetime) -> dict[str, int]:
        """Members per stage now, reused for ``TTL`` (a count over 100,000 members takes a while):
        the overview and the Charts page share it."""
        hit = self._stages.get(group.id)
        if hit is not None and timedelta(0) <= now - hit[0] < TTL:
            return hit[1]
        counts = await self._services.state[STATE_KEY].repo.stage_counts(group.id, now)
        _keep(self._stages, group.id, (now, counts))
        return counts

    async def hot_words(self, group: Group, now: datetime, hours: int, *, wait: bool = True) -> HotWords:
        """``/hot``'s words (same cache, same blocked words left out)."""
        services = self._services
        if not (await services.settings.of(group.id, StatsSettings)).store_text:
            return HotWords("off")
        st = services.state[STATE_KEY]
        words = st.hot.peek(group.id, now, hours)
        if words is None:
            await services.batcher.flush()
            exclude = await blocked_words(services, group.id)
            if not wait:
                st.hot.warm(st.repo, group.id, now, hours, exclude=exclude)
                return HotWords("counting")
            words = await st.hot.get(st.repo, group.id, now, hours, exclude=exclude)
        return HotWords("ready", tuple(HotWordFigure(w.word, w.score, w.messages, w.members) for w in words))

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
