"""Charts as PNG files, drawn with matplotlib's Agg backend and no pyplot global state.

Labels come from the caller (translated). Chinese labels need a CJK font. One comes with the
install: the ``notojp-matplotlib`` dependency ships Noto Sans CJK (SIL Open Font License), which
``cjk_font()`` registers with matplotlib at the first chart and prefers, so a fresh machine draws
a Chinese group's charts in Chinese. Only its file is used (found through the package metadata,
never imported: importing it would change matplotlib's global font). Without it ``cjk_font()``
looks for an installed font that really covers the glyphs; when there is none the caller passes
English labels, so a chart never shows boxes of missing glyphs. Both live in ``bot/charts.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

# The CJK font is found by the core's chart helpers (shared with the polls' results chart);
# re-exported here, where the stats feature and its tests look for it.
from bot.charts import FONT_PACKAGE, cjk_font, packaged_cjk_font

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


@dataclass(frozen=True, slots=True)
class ChartData:
    """Everything the health chart shows."""

    days: Sequence[date]
    messages: Sequence[int]
    actives: Sequence[int]
    #: 7 rows (Monday first) × 24 local hours of message counts.
    heatmap: Sequence[Sequence[int]]
    #: Stage label → member count, in display order.
    stages: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class ChartLabels:
    """The chart's words, already translated (or English when no CJK font is present)."""

    title: str
    activity: str
    messages: str
    actives: str
    heatmap: str
    hour: str
    weekdays: Sequence[str]
    lifecycle: str
    members: str
    no_data: str


def render_health(data: ChartData, labels: ChartLabels, path: Path, font: str | None = None) -> Path:
    """Draw the three-panel health chart into ``path`` (PNG) and return it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rc: dict[Any, Any] = {"font.family": [font, "DejaVu Sans"]} if font else {"font.family": ["DejaVu Sans"]}
    import matplotlib

    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(10, 11), dpi=80, layout="constrained")
        FigureCanvasAgg(fig)
        fig.suptitle(labels.title, fontsize=15)
        ax1, ax2, ax3 = fig.subplots(3, 1, height_ratios=[1.1, 1.0, 0.8])
        _activity(ax1, data, labels)
        _heatmap(fig, ax2, data, labels)
        _lifecycle(ax3, data, labels)
        path.parent.mkdir(parents=True, exist_ok=True)
        # The title in the PNG's metadata too: it says what the chart is (and in which language).
        fig.savefig(path, format="png", metadata={"Title": labels.title})
    return path


def _activity(ax: Axes, data: ChartData, labels: ChartLabels) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.set_title(labels.activity)
    if not data.days:
        ax.text(0.5, 0.5, labels.no_data, ha="center", va="center", transform=ax.transAxes)
        return
    x = list(range(len(data.days)))
    ax.bar(x, list(data.messages), color="#8fb8de", label=labels.messages)
    ax.set_ylabel(labels.messages)
    twin = ax.twinx()
    twin.plot(x, list(data.actives), color="#d1495b", marker="o", markersize=3, label=labels.actives)
    twin.set_ylabel(labels.actives)
    twin.set_ylim(bottom=0)
    twin.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    step = max(1, len(x) // 10)
    ax.set_xticks(x[::step], [d.strftime("%m-%d") for d in data.days][::step])
    handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    ax.legend(handles, [labels.messages, labels.actives], loc="upper left", fontsize=9)


def _heatmap(fig: Figure, ax: Axes, data: ChartData, labels: ChartLabels) -> None:
    ax.set_title(labels.heatmap)
    grid = [list(row) for row in data.heatmap] or [[0] * 24 for _ in range(7)]
    image = ax.imshow(grid, aspect="auto", cmap="YlOrRd", interpolation="nearest", vmin=0)
    ax.set_yticks(range(7), list(labels.weekdays))
    ax.set_xticks(range(0, 24, 2), [str(h) for h in range(0, 24, 2)])
    ax.set_xlabel(labels.hour)
    fig.colorbar(image, ax=ax, shrink=0.8)


def _lifecycle(ax: Axes, data: ChartData, labels: ChartLabels) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.set_title(labels.lifecycle)
    names = list(data.stages)
    values = [data.stages[n] for n in names]
    colors = ["#66a182", "#2e86ab", "#f6ae2d", "#d1495b", "#8d99ae"][: len(names)]
    bars = ax.barh(names, values, color=colors)
    ax.invert_yaxis()
    ax.set_xlabel(labels.members)
    ax.bar_label(bars, padding=3)
    ax.set_xlim(0, max([*values, 1]) * 1.15)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


__all__ = ["FONT_PACKAGE", "ChartData", "ChartLabels", "cjk_font", "packaged_cjk_font", "render_health"]
