"""Level 2's chart: what the alert's numbers say, drawn (PNG, matplotlib's Agg backend, no pyplot
global state).

Two panels, in the chart's language (the group's, English where no CJK font is installed;
``bot.charts``):

* **daily active members** over the last 14 complete local days, the earlier week grey and the
  latest one coloured, so a fall in DAU is seen against the week before;
* **each watched rate, last period against the one before**, as a pair of bars scaled to the
  earlier value (= 100 %) so counts and ratios share one axis; each pair is labelled with the
  real figures and the change, and the rates that fell by the group's ``desk.rate_drop`` or
  more are red.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bot import charts
from bot.ports import GroupIndicators, Indicator
from storage.models import Group

#: Days of daily actives the first panel shows (two weeks: this one and the one before).
DAYS = 14


@dataclass(frozen=True, slots=True)
class RatePair:
    """One watched rate: its label, the earlier and the latest value as shown, the relative
    change, and whether it fell far enough to alert."""

    label: str
    before: float
    after: float
    shown_before: str
    shown_after: str
    change: float
    fallen: bool


@dataclass(frozen=True, slots=True)
class Level2Chart:
    """Everything the chart shows, with its words already translated."""

    title: str
    days: Sequence[date]
    actives: Sequence[int]
    actives_label: str
    rates_label: str
    before_label: str
    after_label: str
    rates: Sequence[RatePair]


def _shown(f: Indicator) -> tuple[str, str]:
    if f.is_ratio:
        return f"{(f.previous or 0) * 100:.1f}%", f"{(f.value or 0) * 100:.1f}%"
    return f"{f.previous or 0:g}", f"{f.value or 0:g}"


async def gather(
    indicators: GroupIndicators,
    group: Group,
    now: datetime,
    figures: Sequence[Indicator],
    fallen: set[str],
    watched: Sequence[str],
    t: Callable[..., str],
    percent: int,
) -> Level2Chart:
    """The chart's data: 14 days of actives from the stats feature, and the watched rates."""
    series = await indicators.activity(group, now, DAYS)
    by_key = {f.key: f for f in figures}
    rates = []
    for key in watched:
        f = by_key.get(key)
        if f is None or f.value is None or not f.previous:
            continue
        before, after = _shown(f)
        rates.append(
            RatePair(
                label=t(f"desk.chart.{key}"),
                before=f.previous,
                after=f.value,
                shown_before=before,
                shown_after=after,
                change=(f.value - f.previous) / f.previous,
                fallen=key in fallen,
            )
        )
    return Level2Chart(
        title=t("desk.chart.title", group=group.title or group.scope_id, percent=percent),
        days=series.days,
        actives=series.actives,
        actives_label=t("desk.chart.actives"),
        rates_label=t("desk.chart.rates"),
        before_label=t("desk.chart.before"),
        after_label=t("desk.chart.after"),
        rates=rates,
    )


def render(data: Level2Chart, path: Path, font: str | None = None) -> Path:
    """Draw the chart into ``path`` (PNG) and return it."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    rc: dict[Any, Any] = {"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"]}
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(9, 8), dpi=80, layout="constrained")
        FigureCanvasAgg(fig)
        fig.suptitle(data.title, fontsize=14)
        top, bottom = fig.subplots(2, 1, height_ratios=[1.0, 1.1])
        top.set_title(data.actives_label)
        x = list(range(len(data.days)))
        split = max(0, len(x) - 7)
        colors = ["#b0b7c3"] * split + ["#2e86ab"] * (len(x) - split)
        top.bar(x, list(data.actives), color=colors)
        top.set_xticks(x, [d.strftime("%m-%d") for d in data.days], rotation=45, fontsize=8)
        top.yaxis.set_major_locator(MaxNLocator(integer=True))
        top.set_ylim(bottom=0)

        bottom.set_title(data.rates_label)
        names = [r.label for r in data.rates]
        pos = list(range(len(names)))
        width = 0.38
        left = [p - width / 2 for p in pos]
        bottom.bar(left, [100.0] * len(pos), width, color="#b0b7c3", label=data.before_label)
        after = [100.0 * r.after / r.before for r in data.rates]
        bars = bottom.bar(
            [p + width / 2 for p in pos],
            after,
            width,
            color=["#d1495b" if r.fallen else "#66a182" for r in data.rates],
            label=data.after_label,
        )
        labels = [f"{r.shown_before} → {r.shown_after}\n{r.change * 100:+.1f}%" for r in data.rates]
        bottom.bar_label(bars, labels, padding=3, fontsize=9)
        bottom.set_xticks(pos, names, fontsize=9)
        bottom.set_ylabel("%")
        bottom.set_ylim(0, max([*after, 100.0]) * 1.3)
        bottom.axhline(100.0, color="#555555", linewidth=0.8, linestyle="--")
        bottom.legend(loc="upper right", fontsize=9)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png", metadata={"Title": data.title})
    return path


async def draw(data: Level2Chart, directory: Path, group_id: int, day: date) -> Path:
    """Render in a thread (matplotlib is CPU work) to a new file under ``directory``."""
    path = directory / f"desk-level2-{group_id}-{day.isoformat()}-{uuid.uuid4().hex[:12]}.png"
    return await asyncio.to_thread(render, data, path, charts.cjk_font())
