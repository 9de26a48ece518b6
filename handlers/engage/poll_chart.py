"""A poll's results as a bar chart (PNG): one horizontal bar per option, in option order, with
its count and share; the question as the title and the number of voters under it.

Drawn with matplotlib's Agg backend and no pyplot global state, in the CJK font the core finds
(``bot/charts.py``), so Chinese questions and options show as text, not boxes. The words around
them (voters, closed) come translated from the caller, in the group's language. The file name
is derived from what the chart shows, so the same results draw the same file once.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Longer option texts are cut on the chart (the text results carry them whole).
LABEL_WIDTH = 28
COLORS = ("#2e86ab", "#f6ae2d", "#66a182", "#d1495b", "#8d99ae")


@dataclass(frozen=True, slots=True)
class PollChart:
    """Everything the chart shows, already translated."""

    title: str
    options: tuple[str, ...]
    counts: tuple[int, ...]
    #: The line under the title (``12 voted · closed``).
    subtitle: str

    def key(self) -> str:
        """A short digest of the content: the file name, so identical results share one file."""
        raw = json.dumps([self.title, self.options, self.counts, self.subtitle], ensure_ascii=False)
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _label(text: str) -> str:
    return text if len(text) <= LABEL_WIDTH else text[: LABEL_WIDTH - 1] + "…"


def render(chart: PollChart, path: Path, font: str | None = None) -> Path:
    """Draw ``chart`` into ``path`` (PNG, written whole then renamed into place) and return it."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rc: dict[Any, Any] = {"font.family": [font, "DejaVu Sans"]} if font else {"font.family": ["DejaVu Sans"]}
    total = sum(chart.counts)
    labels = [f"{i}. {_label(o)}" for i, o in enumerate(chart.options, start=1)]
    with matplotlib.rc_context(rc):
        height = 1.6 + 0.55 * len(chart.options)
        fig = Figure(figsize=(8, height), dpi=100, layout="constrained")
        FigureCanvasAgg(fig)
        fig.suptitle("\n".join(textwrap.wrap(chart.title, 40)[:3]), fontsize=14)
        ax = fig.subplots()
        ax.set_title(chart.subtitle, fontsize=10, color="#555555")
        colors = [COLORS[i % len(COLORS)] for i in range(len(chart.options))]
        bars = ax.barh(labels, list(chart.counts), color=colors)
        ax.invert_yaxis()  # option 1 on top, as in the text results
        shares = [f"{c} ({round(100 * c / total) if total else 0}%)" for c in chart.counts]
        ax.bar_label(bars, labels=shares, padding=4)
        ax.set_xlim(0, max([*chart.counts, 1]) * 1.25)
        ax.xaxis.set_visible(False)
        for side in ("top", "right", "bottom"):
            ax.spines[side].set_visible(False)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fig.savefig(partial, format="png", metadata={"Title": chart.title})
    os.replace(partial, path)
    return path


async def render_file(chart: PollChart, directory: Path, poll_id: int, font: str | None) -> Path:
    """The chart's PNG under ``directory``, drawn in a thread (matplotlib is CPU work) unless
    the same results were drawn already."""
    path = directory / f"poll-{poll_id}-{chart.key()}.png"
    if path.is_file():
        return path
    return await asyncio.to_thread(render, chart, path, font)


__all__ = ["PollChart", "render", "render_file"]
