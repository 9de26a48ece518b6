"""Button presses under giveaway posts (``gw:join:<id>``).

Registered on the feature's router in ``handlers/engage/__init__.py``, not here. Data that does
not have that exact shape can only come from a forged or stale button and is ignored quietly; an
id that names no giveaway of this group is answered privately.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.args import button_fields, decode_id
from bot.errors import QunyouError
from bot.events import ButtonPressed
from handlers.engage.commands import answer_entry
from handlers.engage.state import get_state

if TYPE_CHECKING:
    from bot.context import Context


async def on_giveaway_button(ctx: Context) -> None:
    """Join a giveaway from its post."""
    event = ctx.event
    assert isinstance(event, ButtonPressed)
    parts = button_fields(event.data, 3)
    giveaway_id = decode_id(parts[2]) if parts else None
    if parts is None or parts[1] != "join" or giveaway_id is None or ctx.group is None or ctx.member is None:
        return
    gw = await get_state(ctx.services).giveaway(ctx.group.id, giveaway_id)
    if gw is None:
        try:
            await ctx.send_private(ctx.t("engage.gw.err_unknown", id=giveaway_id))
        except QunyouError:
            pass
        return
    await answer_entry(ctx, gw)
