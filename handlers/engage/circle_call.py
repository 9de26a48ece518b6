"""A giveaway addressed to an interest circle: ``/giveaway start 2h 3 T恤 | circle games``.

The circles belong to the circles feature and are reached only through its ``CircleMembers``
port (``uses``): the giveaway is posted as usual, then the circle's members (not those who
muted its pings) are mentioned under it, a few per message. Anyone may still enter: the circle
says whom the giveaway is *for*, the entry conditions stay the ``| price | points | days |
checkins`` options.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.args import BadArgument
from bot.mentions import first_only, mention_messages
from bot.ports import CircleAudience, CircleMembers
from bot.timeparse import excerpt

if TYPE_CHECKING:
    from bot.context import Context
    from storage.engage import Giveaway

#: The option word naming the circle, in both languages.
CIRCLE_WORDS = frozenset({"circle", "圈", "圈子", "兴趣圈"})


def split_circle(text: str) -> tuple[str, str | None]:
    """The prize text without its ``| circle NAME`` field, and that name (None: no circle)."""
    fields = text.replace("｜", "|").split("|")
    keep, circle = [fields[0]], None
    for field in fields[1:]:
        words = field.split()
        if len(words) == 2 and words[0].casefold() in CIRCLE_WORDS:
            circle = words[1]
        else:
            keep.append(field)
    return "|".join(keep), circle


async def audience(ctx: Context, name: str | None) -> CircleAudience | None:
    """The circle a new giveaway is for; ``BadArgument`` (before anything is stored) when the
    circles feature is missing or the group has no such circle."""
    if name is None:
        return None
    assert ctx.group is not None
    port = ctx.services.ports.find(CircleMembers)
    if port is None:
        raise BadArgument("engage.gw.err_circles_off")
    found = await port.audience(ctx.group, name)
    if found is None:
        raise BadArgument("engage.gw.err_circle", name=excerpt(name))
    return found


async def call(ctx: Context, gw: Giveaway, circle: CircleAudience) -> None:
    """Mention the circle's members under the giveaway's post, at most the platform's share of
    mentions per message."""
    first = ctx.t("engage.gw.circle_call", id=gw.id, prize=gw.prize, name=circle.name)
    for message in mention_messages(circle.members, ctx.adapter.max_mentions, first_only(first)):
        await ctx.send(message)
