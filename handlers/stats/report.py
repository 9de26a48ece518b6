"""From the repository to words and pictures: KPIs, lifecycle, churn, hot words, the weekly report.

Functions here take a ``T`` (a translate function already bound to the group's language) so the
same code serves commands (``ctx.t``) and scheduled jobs (``services.i18n.t``).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.ports import MoodSummary
from handlers.stats import charts
from handlers.stats.hotwords import HotWord, engine
from handlers.stats.lifecycle import STAGES, ChurnCheck, churn_check
from handlers.stats.metrics import Change, DayRow, Kpis, compute_kpis, period_bounds
from storage.stats import StatsRepo

log = logging.getLogger(__name__)

T = Callable[..., str]


class MemberCounts:
    """Members now, per group, kept for a minute of bot time and dropped on every join or leave.

    Counting 100,000 member rows is the slowest part of ``/stats``; a member first seen by a
    post shows up in the count within a minute.
    """

    def __init__(self, ttl_seconds: float = 60.0) -> None:
        self.ttl = timedelta(seconds=ttl_seconds)
        self._counts: dict[int, tuple[datetime, int]] = {}

    def invalidate(self, group_id: int) -> None:
        """Forget a group's count (a join or a leave happened)."""
        self._counts.pop(group_id, None)

    async def get(self, repo: StatsRepo, group_id: int, now: datetime) -> int:
        """The group's member count, from the cache when fresh."""
        hit = self._counts.get(group_id)
        if hit is not None and timedelta(0) <= now - hit[0] < self.ttl:
            return hit[1]
        value = await repo.members_now(group_id)
        self._counts[group_id] = (now, value)
        return value


async def gather_kpis(
    repo: StatsRepo, group_id: int, today: date, days: int, members_now: int | None = None
) -> Kpis:
    """The KPIs of the ``days`` complete days ending yesterday, with the previous period."""
    start, end, prev_start, prev_end = period_bounds(today - timedelta(days=1), days)
    data = await repo.kpi_inputs(group_id, start, end, prev_start, prev_end, members_now=members_now)
    return compute_kpis(
        end=end,
        days=days,
        rows=[
            DayRow(r.day, r.messages, r.replies, r.commands, r.joins, r.leaves, r.checkins, r.dau)
            for r in data.rows
        ],
        members_now=data.members_now,
        wau=data.wau,
        mau=data.mau,
        top=data.top,
        hours=data.hours,
        checkins_tracked=repo.checkins_tracked(),
    )


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.1f}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def delta_text(t: T, change: Change) -> str:
    """The change in brackets, or nothing when there is nothing to compare with."""
    if change.delta is None:
        return ""
    if change.is_ratio:
        return t("stats.delta_points", delta=f"{change.delta * 100:+.1f}")
    return t("stats.delta_percent", delta=f"{change.delta * 100:+.0f}")


def format_kpis(t: T, k: Kpis, extra: Sequence[str] = ()) -> str:
    """The ``/stats`` text (``extra``: lines from other features, after the figures)."""
    lines = [t("stats.title", days=k.days, start=k.start.isoformat(), end=k.end.isoformat())]
    if not k.has_data:
        lines.append(t("stats.no_data_period"))
    figures: list[tuple[str, str, Change]] = [
        ("stats.kpi.joined", _num(k.joined.value), k.joined),
        ("stats.kpi.left", _num(k.left.value), k.left),
        ("stats.kpi.dau", _num(k.dau.value), k.dau),
        ("stats.kpi.wau", _num(k.wau.value), k.wau),
        ("stats.kpi.mau", _num(k.mau.value), k.mau),
        ("stats.kpi.stickiness", _pct(k.stickiness.value), k.stickiness),
        ("stats.kpi.messages_per_day", _num(k.messages_per_day.value), k.messages_per_day),
        ("stats.kpi.interaction_rate", _pct(k.interaction_rate.value), k.interaction_rate),
    ]
    if k.checkins_tracked:
        figures.append(("stats.kpi.checkin_rate", _pct(k.checkin_rate.value), k.checkin_rate))
    lines.append(t("stats.kpi.members", value=k.members_now))
    for key, value, change in figures:
        lines.append(t(key, value=value) + delta_text(t, change))
    lines.extend(extra)
    if k.top:
        lines.append(t("stats.top_header"))
        for i, m in enumerate(k.top, 1):
            lines.append(
                t("stats.top_line", rank=i, name=m.name, messages=m.messages) + delta_text(t, m.change)
            )
    if k.busiest_hours:
        lines.append(t("stats.hours_header"))
        for h in k.busiest_hours:
            lines.append(
                t(
                    "stats.hour_line",
                    start=f"{h.hour:02d}:00",
                    end=f"{(h.hour + 1) % 24:02d}:00",
                    messages=h.messages,
                )
                + delta_text(t, h.change)
            )
    lines.append(t("stats.footer"))
    return "\n".join(lines)


def format_retention(t: T, change: Change) -> list[str]:
    """New members' 7-day retention (``handlers.stats.retention``) as a ``/stats`` line with its
    change; no line when nobody in the period's cohort joined (a group without joins is not at 0 %)."""
    if change.value is None:
        return []
    return [t("stats.kpi.retention_7d", value=_pct(change.value)) + delta_text(t, change)]


def format_mood(t: T, mood: MoodSummary) -> list[str]:
    """The mood lines (the desk feature's ``GroupMood``): the average on -1 … +1 with its change,
    the negative messages, and the most negative topics."""
    assert mood.average is not None
    line = t("stats.mood_line", value=f"{mood.average:+.2f}", negative=mood.negative, messages=mood.messages)
    if mood.previous_average is not None:
        line += t("stats.mood_delta", delta=f"{mood.average - mood.previous_average:+.2f}")
    lines = [line]
    if mood.negative_words:
        lines.append(t("stats.mood_topics", words=t("stats.mood_separator").join(mood.negative_words)))
    return lines


def stage_labels(t: T) -> dict[str, str]:
    """Stage value → translated label, in display order."""
    return {s.value: t(f"stats.stage.{s.value}") for s in STAGES}


def format_lifecycle(t: T, counts: dict[str, int]) -> str:
    """The ``/lifecycle`` text."""
    total = sum(counts.values())
    if total == 0:
        return t("stats.lifecycle_empty")
    lines = [t("stats.lifecycle_title", total=total)]
    for stage, label in stage_labels(t).items():
        n = counts.get(stage, 0)
        lines.append(t("stats.lifecycle_line", stage=label, count=n, share=_pct(n / total)))
    lines.append(t("stats.lifecycle_hint"))
    return "\n".join(lines)


# -- charts ----------------------------------------------------------------------------------


def chart_language(lang: str) -> str:
    """The language a chart can be drawn in on this machine (English without a CJK font)."""
    return lang if lang == "en" or charts.cjk_font() else "en"


async def chart_data(
    repo: StatsRepo, group_id: int, today: date, now: datetime, t_chart: T
) -> charts.ChartData:
    """30 days of messages and actives, the 7 × 24 grid, and members per stage."""
    end = today - timedelta(days=1)
    start = end - timedelta(days=29)
    await repo.ensure_rollups(group_id, start, end)
    rows = {r.day: r for r in await repo.daily(group_id, start, end)}
    days = [start + timedelta(days=i) for i in range(30)]
    counts = await repo.stage_counts(group_id, now)
    labels = stage_labels(t_chart)
    return charts.ChartData(
        days=days,
        messages=[rows[d].messages if d in rows else 0 for d in days],
        actives=[rows[d].dau if d in rows else 0 for d in days],
        heatmap=await repo.hour_of_week(group_id, start, end),
        stages={labels[s]: counts.get(s, 0) for s in labels},
    )


def chart_labels(t_chart: T, title: str) -> charts.ChartLabels:
    """The chart's words in the chart's language."""
    return charts.ChartLabels(
        title=title,
        activity=t_chart("stats.chart.activity"),
        messages=t_chart("stats.chart.messages"),
        actives=t_chart("stats.chart.actives"),
        heatmap=t_chart("stats.chart.heatmap"),
        hour=t_chart("stats.chart.hour"),
        weekdays=t_chart("stats.chart.weekdays").split(","),
        lifecycle=t_chart("stats.chart.lifecycle"),
        members=t_chart("stats.chart.members"),
        no_data=t_chart("stats.chart.no_data"),
    )


async def render_chart(
    repo: StatsRepo, group_id: int, today: date, now: datetime, t_chart: T, title: str, out_dir: Path
) -> Path:
    """Draw the health chart to a new PNG under ``out_dir`` (in a thread: matplotlib is CPU work)."""
    data = await chart_data(repo, group_id, today, now, t_chart)
    path = out_dir / f"stats-{group_id}-{today.isoformat()}-{uuid.uuid4().hex[:12]}.png"
    font = charts.cjk_font()
    return await asyncio.to_thread(charts.render_health, data, chart_labels(t_chart, title), path, font)


# -- hot words ---------------------------------------------------------------------------------


@dataclass
class _Cached:
    at: datetime
    words: list[HotWord]


class HotWordCache:
    """On-demand hot words with a short cache, computed in a thread off the event loop."""

    def __init__(self, ttl_seconds: float = 600.0) -> None:
        self.ttl = timedelta(seconds=ttl_seconds)
        self._cache: dict[tuple[int, int, int], _Cached] = {}
        #: Computations started by ``warm`` and not finished yet.
        self._running: dict[tuple[int, int, int], asyncio.Task[list[HotWord]]] = {}

    def peek(self, group_id: int, now: datetime, hours: int, top: int = 10) -> list[HotWord] | None:
        """The cached words when still fresh, else None (nothing is computed)."""
        hit = self._cache.get((group_id, hours, top))
        return hit.words if hit is not None and timedelta(0) <= now - hit.at < self.ttl else None

    def warm(
        self,
        repo: StatsRepo,
        group_id: int,
        now: datetime,
        hours: int,
        exclude: Callable[[str], bool] | None = None,
        top: int = 10,
    ) -> None:
        """Start computing the words in the background unless that is already under way (a page
        does not wait seconds for jieba to load or for a week of text to be cut)."""
        key = (group_id, hours, top)
        if key in self._running:
            return
        task = asyncio.create_task(self.get(repo, group_id, now, hours, exclude, top))
        self._running[key] = task

        def done(finished: asyncio.Task[list[HotWord]]) -> None:
            self._running.pop(key, None)
            if not finished.cancelled() and finished.exception() is not None:
                log.warning("hot words of group %s failed", group_id, exc_info=finished.exception())

        task.add_done_callback(done)

    def invalidate(self, group_id: int) -> None:
        """Forget a group's cached words (text dropped or purged)."""
        for key in [k for k in self._cache if k[0] == group_id]:
            del self._cache[key]

    async def get(
        self,
        repo: StatsRepo,
        group_id: int,
        now: datetime,
        hours: int,
        exclude: Callable[[str], bool] | None = None,
        top: int = 10,
    ) -> list[HotWord]:
        """The group's hot words over the last ``hours`` hours."""
        key = (group_id, hours, top)
        hit = self._cache.get(key)
        # The bot's clock, not the wall clock: under a virtual clock a jump ahead expires the cache.
        if hit is not None and timedelta(0) <= now - hit.at < self.ttl:
            return hit.words
        texts = await repo.texts(group_id, now - timedelta(hours=hours))
        words = await asyncio.to_thread(engine().hot_words, texts, top=top, exclude=exclude)
        self._cache[key] = _Cached(now, words)
        return words


def format_hot(t: T, words: Sequence[HotWord], hours: int) -> str:
    """The ``/hot`` text."""
    window = t("stats.hot_window_24h") if hours == 24 else t("stats.hot_window_7d")
    if not words:
        return t("stats.hot_empty", window=window)
    lines = [t("stats.hot_title", window=window)]
    for i, w in enumerate(words, 1):
        lines.append(t("stats.hot_line", rank=i, word=w.word, messages=w.messages, members=w.members))
    return "\n".join(lines)


# -- churn -----------------------------------------------------------------------------------


async def churn_status(repo: StatsRepo, group_id: int, today: date) -> ChurnCheck:
    """Apply the churn rule to the 35 complete days ending yesterday."""
    end = today - timedelta(days=1)
    start = end - timedelta(days=34)
    await repo.ensure_rollups(group_id, start, end)
    rows = {r.day: r.dau for r in await repo.daily(group_id, start, end)}
    first = await repo.first_day(group_id)
    if first is None or first > start:
        # Days before the group's first activity are not a baseline of zero: not enough data.
        return churn_check([])
    return churn_check([rows.get(start + timedelta(days=i), 0) for i in range(35)])


def format_churn(t: T, check: ChurnCheck, quiet: Sequence[Any]) -> str:
    """The moderator alert text."""
    lines = [
        t(
            "stats.churn_warning",
            recent=f"{check.recent_avg:.1f}",
            baseline=f"{check.baseline_avg:.1f}",
            drop=f"{(1 - (check.ratio or 0)) * 100:.0f}",
        )
    ]
    if quiet:
        lines.append(t("stats.churn_quiet_header"))
        for m in quiet:
            lines.append(t("stats.churn_quiet_line", name=m.name, messages=m.value))
    return "\n".join(lines)
