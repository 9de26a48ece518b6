"""Presses of the join/leave buttons under ``/circles`` (``cc:t:<circle id>``).

Registered on the feature's router in ``handlers/circles/__init__.py``, not here. Data of any
other shape can only come from a forged or stale button and is ignored quietly; an id that names
no circle of this group (removed since, or another group's) gets a private answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.args import button_fields, decode_id
from bot.errors import QunyouError
from bot.events import ButtonPressed
from handlers.circles import service
from handlers.circles.state import circle_repo

if TYPE_CHECKING:
    from bot.context import Context


async def _answer(ctx: Context, text: str) -> None:
    # Privately where the platform can (a button press is nobody else's business), else in the group.
    try:
        await ctx.send_private(text)
    except QunyouError:
        await ctx.reply(text)


async def on_circle_button(ctx: Context) -> None:
    """Join or leave a circle from the ``/circles`` card."""
    event = ctx.event
    assert isinstance(event, ButtonPressed)
    parts = button_fields(event.data, 3)
    circle_id = decode_id(parts[2]) if parts else None
    if parts is None or parts[1] != "t" or circle_id is None or ctx.group is None or ctx.member is None:
        return
    if ctx.member.is_bot:
        return
    found = await circle_repo(ctx.services).by_id(circle_id)
    if found is None or found.group_id != ctx.group.id:
        await _answer(ctx, ctx.t("circles.err_gone"))
        return
    await _answer(ctx, await service.toggle(ctx, found))
