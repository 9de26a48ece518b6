"""Messages that mention many members, a platform's share at a time.

A circle's ping, a giveaway or a scheduled post addressed to a circle all mention a list of
members; every platform caps the mentions that notify per message (``Adapter.max_mentions``), so
the list goes out in several messages, the first with a heading, the rest with a short "more".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.events import UserRef
from bot.messages import Mention, OutgoingMessage, Part, Text


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
