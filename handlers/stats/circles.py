"""``/stats circles``: each interest circle's size and activity; and the recall post's line
about upcoming activities in a dormant member's circles.

The circles belong to the circles feature, read through its ``CircleFacts`` port (``uses``:
without it the command says circles are not installed); how active the circles' members were
is this feature's own message counts over the same 7 local days as ``/stats``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.clock import zone
from bot.ports import CircleFacts, CircleMembers, UpcomingActivities
from handlers.stats.state import group_t, stats_state

if TYPE_CHECKING:
    from bot.context import Context
    from bot.services import Services
    from storage.models import Group, Member

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


#: How far ahead the recall post looks for activities in a dormant member's circles.
RECALL_AHEAD = timedelta(days=14)
#: At most this many activity lines under one recall post.
RECALL_ACTIVITIES = 5


async def recall_activities(services: Services, group: Group, people: Sequence[Member], now: datetime) -> str:
    """Lines for the recall post: upcoming activities in the named members' interest circles
    (an activity is in a circle when its title or description tags ``#NAME``), each with whom it
    is for. Empty when circles or activities are not installed, or nothing matches."""
    circles = services.ports.find(CircleMembers)
    activities = services.ports.find(UpcomingActivities)
    if circles is None or activities is None or not people:
        return ""
    coming = await activities.upcoming(group.id, now, now + RECALL_AHEAD)
    if not coming:
        return ""
    names_of = {m.id: await circles.circles_of(group, m) for m in people}
    t = group_t(services, group)
    tz = zone(group.timezone)
    lines = []
    for activity in coming:
        text = f"{activity.title}\n{activity.description}"
        who = [m.display_name for m in people if circles.tagged(text, names_of[m.id])]
        if not who:
            continue
        lines.append(
            t(
                "stats.circles.recall_line",
                id=activity.id,
                title=activity.title,
                when=activity.start_at.astimezone(tz).strftime("%m-%d %H:%M"),
                names=t("stats.recall_separator").join(who),
            )
        )
        if len(lines) == RECALL_ACTIVITIES:
            break
    return "\n".join([t("stats.circles.recall_intro"), *lines]) if lines else ""
