"""Messages that mention many members, a platform's share at a time, and posts addressed to
interest circles.

A circle's ping, a giveaway or a post addressed to a circle all mention a list of members; every
platform caps the mentions that notify per message (``Adapter.max_mentions``), so the list goes
out in several messages, the first with a heading.

A post (scheduled post, daily topic, activity announcement) is addressed to a circle when its text
tags it with ``#NAME``: :func:`call_circles` follows it with the circle's members' mentions (not
those who muted its pings). Circles belong to the circles feature and are reached only through its
``CircleMembers`` port; without it a ``#word`` is just text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bot.events import ChatRef, UserRef
from bot.messages import Mention, OutgoingMessage, Part, Text
from bot.planned_posts import send
from bot.ports import CircleMembers

if TYPE_CHECKING:
    from bot.services import Services
    from storage.models import Group

#: ``#NAME``: a word after a hash (half- or full-width), as members tag circles.
_TAG = re.compile(r"[#＃]([\w-]{1,24})")


def mention_messages(
    people: Sequence[UserRef], size: int, heading: Callable[[int, int], str | None]
) -> list[OutgoingMessage]:
    """One message per ``size`` members (at least one each); ``heading(number, total)`` gives
    each message's first line (1-based; None: no heading), mentions follow separated by spaces."""
    size = max(1, size)
    batches = [list(people[i : i + size]) for i in range(0, len(people), size)]
    messages: list[OutgoingMessage] = []
    for number, batch in enumerate(batches, start=1):
        head = heading(number, len(batches))
        parts: list[Part] = [] if head is None else [Text(head + "\n")]
        for i, user in enumerate(batch):
            if i:
                parts.append(Text(" "))
            parts.append(Mention(user))
        messages.append(OutgoingMessage(parts=tuple(parts), notify=tuple(batch)))
    return messages


def first_only(heading: str) -> Callable[[int, int], str | None]:
    """A ``heading`` for :func:`mention_messages` that titles the first message only."""
    return lambda number, _total: heading if number == 1 else None


async def call_circles(services: Services, group: Group, chat: ChatRef, text: str) -> int:
    """Mention the members of each circle ``text`` tags, after the post; how many circles."""
    port = services.ports.find(CircleMembers)
    if port is None:
        return 0
    size = services.adapter_for(chat).max_mentions
    called = 0
    seen: set[str] = set()
    for word in _TAG.findall(text):
        audience = await port.audience(group, word)
        if audience is None or audience.name in seen or not audience.members:
            continue
        seen.add(audience.name)
        called += 1
        heading = services.i18n.t(group.language, "core.circles.call", name=audience.name)
        for message in mention_messages(audience.members, size, first_only(heading)):
            await send(services, chat, message, group.language)
    return called
