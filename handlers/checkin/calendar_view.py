"""The check-in calendar: a text grid for every platform, a PNG where images can be sent.

The PNG is drawn with matplotlib's object API on an Agg canvas (no pyplot global state), so
it is safe to render in a worker thread while the event loop goes on.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

CHECKED = "✅"
MADE_UP = "🔁"
MISSED = "▫️"
FUTURE = "  "


def text_grid(year: int, month: int, days: Mapping[date, bool], today: date, weekdays: Sequence[str]) -> str:
    """A month as lines of seven cells; ``days`` maps a checked day to whether it was a make-up.

    Each cell is the day number and a mark, so the grid stays readable in proportional fonts
    (WeChat, QQ) where column alignment cannot be trusted.
    """
    # A day before the member's first check-in this month is not "missed": they were not here yet.
    start = min(days, default=today)
    lines = [" ".join(weekdays)]
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        cells = []
        for d in week:
            if d.month != month:
                cells.append("    ")
                continue
            if d in days:
                mark = MADE_UP if days[d] else CHECKED
            elif start < d < today:
                mark = MISSED
            else:
                mark = FUTURE
            cells.append(f"{d.day:>2}{mark}")
        lines.append(" ".join(cells).rstrip())
    return "\n".join(lines)


def render_png(
    path: Path,
    year: int,
    month: int,
    days: Mapping[date, bool],
    today: date,
    title: str,
    weekdays: Sequence[str],
) -> Path:
    """Draw the month to ``path`` (PNG) and return it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    start = min(days, default=today)
    fig = Figure(figsize=(5.6, 1.2 + 0.8 * len(weeks)), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.02, 0.02, 0.96, 0.84))
    ax.set_xlim(0, 7)
    ax.set_ylim(len(weeks) + 1, 0)
    ax.axis("off")
    fig.suptitle(title, fontsize=13)
    for col, name in enumerate(weekdays):
        ax.text(col + 0.5, 0.5, name, ha="center", va="center", fontsize=10, color="#555555")
    for row, week in enumerate(weeks, start=1):
        for col, d in enumerate(week):
            if d.month != month:
                continue
            if d in days:
                color = "#f4b942" if days[d] else "#4caf50"
            elif start < d < today:
                color = "#eeeeee"
            else:
                color = "#ffffff"
            ax.add_patch(Rectangle((col + 0.05, row + 0.05), 0.9, 0.9, facecolor=color, edgecolor="#cccccc"))
            weight = "bold" if d == today else "normal"
            ax.text(
                col + 0.5, row + 0.5, str(d.day), ha="center", va="center", fontsize=11, fontweight=weight
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path
