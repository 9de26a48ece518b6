"""Reactions: Join / Cancel under announcements and countdowns, 1–5 under the feedback post.

Registered on the feature's router in ``handlers/activities/__init__.py``, not here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.args import BadArgument, button_fields, decode_id
from bot.events import ButtonPressed
from handlers.activities.commands import join_activity, leave_activity, rate_activity
from handlers.activities.state import activities_repo

if TYPE_CHECKING:
    from bot.context import Context


async def on_button(ctx: Context) -> None:
    """Join / Cancel under announcements and countdowns; 1–5 under the feedback post."""
    event = ctx.event
    assert isinstance(event, ButtonPressed)
    # ``ev:join:ID``, ``ev:leave:ID`` or ``ev:rate:ID:N``; anything else is forged or stale.
    parts = button_fields(event.data, 4 if event.data.startswith("ev:rate:") else 3)
    activity_id = decode_id(parts[2]) if parts else None
    if parts is None or activity_id is None or ctx.group is None or ctx.member is None:
        return
    act = await activities_repo(ctx.services).get(ctx.group.id, activity_id)
    if act is None:
        await ctx.reply(ctx.t("events.err_unknown", id=activity_id))
        return
    try:
        if parts[1] == "join":
            await join_activity(ctx, act)
        elif parts[1] == "leave":
            await leave_activity(ctx, act)
        elif parts[1] == "rate" and len(parts) == 4 and parts[3] in ("1", "2", "3", "4", "5"):
            await rate_activity(ctx, act, int(parts[3]))
    except BadArgument as err:
        await ctx.reply(ctx.t(err.key, **err.values))
