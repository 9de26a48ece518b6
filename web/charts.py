"""Charts as inline SVG, drawn on the server: no chart library, no script, nothing to ship.

Only numbers and already-translated labels go in, every label is escaped, and the drawing uses
SVG presentation attributes (no inline CSS), so the pages' Content-Security-Policy holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from markupsafe import Markup, escape


def sparkline(values: Sequence[int], label: str, width: int = 120, height: int = 28) -> Markup:
    """A small line of ``values`` (oldest first) for an indicator card."""
    if len(values) < 2:
        return Markup("")
    top = max(values) or 1
    step = width / (len(values) - 1)
    points = " ".join(
        f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in enumerate(values)
    )
    return Markup(
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(label)}"><polyline fill="none" stroke="#0a58ca" '
        f'stroke-width="1.5" points="{points}"/></svg>'
    )


def activity_chart(
    days: Sequence[date], messages: Sequence[int], actives: Sequence[int], labels: tuple[str, str, str]
) -> Markup:
    """Messages per day as bars and active members as a line; ``labels`` = (title, messages,
    actives). Each bar carries its numbers as a tooltip (``<title>``)."""
    title, messages_label, actives_label = (escape(x) for x in labels)
    width, height, pad = 720, 220, 28
    count = max(len(days), 1)
    slot = (width - 2 * pad) / count
    top = max([*messages, *actives, 1])

    def y(value: int) -> float:
        return height - pad - (value / top) * (height - 2 * pad)

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{title}">',
        f"<title>{title}</title>",
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#d0d7de"/>',
        f'<text x="{pad}" y="14" font-size="12" fill="#57606a">{escape(str(top))}</text>',
    ]
    for i, (day, count_messages, count_actives) in enumerate(zip(days, messages, actives, strict=True)):
        x = pad + i * slot
        parts.append(
            f'<rect x="{x + slot * 0.15:.1f}" y="{y(count_messages):.1f}" width="{slot * 0.7:.1f}" '
            f'height="{height - pad - y(count_messages):.1f}" fill="#9ec5fe"><title>{day.isoformat()}: '
            f"{messages_label} {count_messages}, {actives_label} {count_actives}</title></rect>"
        )
    points = " ".join(f"{pad + (i + 0.5) * slot:.1f},{y(v):.1f}" for i, v in enumerate(actives))
    parts.append(f'<polyline fill="none" stroke="#b42318" stroke-width="2" points="{points}"/>')
    if days:
        parts.append(
            f'<text x="{pad}" y="{height - 8}" font-size="12" fill="#57606a">{days[0].isoformat()}</text>'
            f'<text x="{width - pad}" y="{height - 8}" font-size="12" fill="#57606a" '
            f'text-anchor="end">{days[-1].isoformat()}</text>'
        )
    parts.append(
        f'<rect x="{width - 230}" y="4" width="10" height="10" fill="#9ec5fe"/>'
        f'<text x="{width - 216}" y="13" font-size="12" fill="#1b1f24">{messages_label}</text>'
        f'<rect x="{width - 120}" y="8" width="10" height="3" fill="#b42318"/>'
        f'<text x="{width - 106}" y="13" font-size="12" fill="#1b1f24">{actives_label}</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def heatmap(grid: Sequence[Sequence[int]], weekdays: Sequence[str], title: str) -> Markup:
    """A 7 × 24 grid of message counts (Monday first); darker is busier."""
    cell, left, top_pad = 26, 44, 18
    width, height = left + 24 * cell + 4, top_pad + 7 * cell + 4
    busiest = max((v for row in grid for v in row), default=0) or 1
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for hour in range(0, 24, 3):
        parts.append(
            f'<text x="{left + hour * cell + 2}" y="12" font-size="11" fill="#57606a">{hour:02d}</text>'
        )
    for d, row in enumerate(grid[:7]):
        name = escape(weekdays[d] if d < len(weekdays) else str(d + 1))
        parts.append(f'<text x="0" y="{top_pad + d * cell + 17}" font-size="12" fill="#57606a">{name}</text>')
        for hour, value in enumerate(row[:24]):
            shade = 0.06 + 0.94 * value / busiest if value else 0.03
            parts.append(
                f'<rect x="{left + hour * cell}" y="{top_pad + d * cell}" width="{cell - 2}" '
                f'height="{cell - 2}" fill="#0a58ca" fill-opacity="{shade:.2f}">'
                f"<title>{name} {hour:02d}:00 — {value}</title></rect>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


#: Stage colours (new, active, sleeping, churned), distinguishable without colour vision too:
#: each segment carries its numbers as a tooltip and the page shows the same in a table.
STAGE_COLOURS = {"new": "#6cc3a0", "active": "#0a58ca", "sleeping": "#f2b441", "churned": "#b42318"}


def stage_chart(
    days: Sequence[date],
    counts: Sequence[Sequence[int] | None],
    stages: Sequence[str],
    names: Sequence[str],
    title: str,
) -> Markup:
    """Members per stage at the end of each day as stacked bars, one colour per stage of
    ``STAGE_COLOURS`` (others, such as ``left``, are left out); ``names`` are the translated
    stage names in the order of ``stages``. A day without counts is an empty slot."""
    shown = [(j, s) for j, s in enumerate(stages) if s in STAGE_COLOURS]
    width, height, pad = 720, 220, 28
    slot = (width - 2 * pad) / max(len(days), 1)
    top = max([sum(row[j] for j, _ in shown) for row in counts if row is not None] + [1])
    scale = (height - 2 * pad) / top
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#d0d7de"/>',
        f'<text x="{pad}" y="14" font-size="12" fill="#57606a">{top}</text>',
    ]
    for i, (day, row) in enumerate(zip(days, counts, strict=True)):
        if row is None:
            continue
        base = float(height - pad)
        for j, stage in shown:
            h = row[j] * scale
            parts.append(
                f'<rect x="{pad + i * slot + slot * 0.1:.1f}" y="{base - h:.1f}" width="{slot * 0.8:.1f}" '
                f'height="{h:.1f}" fill="{STAGE_COLOURS[stage]}"><title>{day.isoformat()}: '
                f"{escape(names[j])} {row[j]}</title></rect>"
            )
            base -= h
    if days:
        parts.append(
            f'<text x="{pad}" y="{height - 8}" font-size="12" fill="#57606a">{days[0].isoformat()}</text>'
            f'<text x="{width - pad}" y="{height - 8}" font-size="12" fill="#57606a" '
            f'text-anchor="end">{days[-1].isoformat()}</text>'
        )
    x = width - pad - 110 * len(shown)
    for k, (j, stage) in enumerate(shown):
        parts.append(
            f'<rect x="{x + 110 * k}" y="4" width="10" height="10" fill="{STAGE_COLOURS[stage]}"/>'
            f'<text x="{x + 110 * k + 14}" y="13" font-size="12" fill="#1b1f24">{escape(names[j])}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def word_bars(words: Sequence[tuple[str, float, str]], title: str) -> Markup:
    """Hot words as horizontal bars by score, best first: (word, score, the caption beside it:
    how many messages and members)."""
    row, left, width = 24, 120, 720
    height = row * len(words) + 8
    best = max((score for _, score, _ in words), default=0.0) or 1.0
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (word, score, caption) in enumerate(words):
        y = 4 + i * row
        length = (width - left - 200) * score / best
        parts.append(
            f'<text x="{left - 8}" y="{y + 15}" font-size="13" fill="#1b1f24" text-anchor="end">'
            f"{escape(word)}</text>"
            f'<rect x="{left}" y="{y + 3}" width="{length:.1f}" height="{row - 8}" fill="#9ec5fe">'
            f"<title>{escape(word)}: {escape(caption)}</title></rect>"
            f'<text x="{left + length + 6:.1f}" y="{y + 15}" font-size="12" fill="#57606a">'
            f"{escape(caption)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
