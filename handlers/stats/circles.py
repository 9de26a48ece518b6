"""``/stats circles``: each interest circle's size and activity.

The circles belong to the circles feature, read through its ``CircleFacts`` port (``uses``:
without it the command says circles are not installed); how active the circles' members were
is this feature's own message counts over the same 7 local days as ``/stats``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bot.ports import CircleFacts
from handlers.stats.state import stats_state

if TYPE_CHECKING:
    from bot.context import Context

#: The window, in local days (today included), like ``/stats``'s default period.
DAYS = 7


async def circles_report(ctx: Context) -> str:
    """The lines of ``/stats circles`` in the member's language."""
    assert ctx.group is not None
    facts = ctx.services.ports.find(CircleFacts)
    if facts is None:
        return ctx.t("stats.circles.off")
    first = ctx.today - timedelta(days=DAYS - 1)
    figures = await facts.circle_figures(ctx.group.id, ctx.now - timedelta(days=DAYS))
    if not figures:
        return ctx.t("stats.circles.none")
    st = stats_state(ctx.services)
    await ctx.services.batcher.flush()  # the messages counted so far today
    lines = [ctx.t("stats.circles.title", days=DAYS)]
    for circle in figures:
        counts = await st.repo.member_messages(ctx.group.id, circle.member_ids, first, ctx.today)
        lines.append(
            ctx.t(
                "stats.circles.line",
                name=circle.name,
                members=circle.members,
                muted=circle.muted,
                joined=circle.joined,
                active=sum(1 for n in counts.values() if n > 0),
                messages=sum(counts.values()),
                pings=circle.pings,
            )
        )
    return "\n".join(lines)
