"""Message counts: messages, replies and commands per member per local day, batched.

The feature keeps its public name ``activity`` (config section, ``/mydata`` key); in code the
word "activity" means an organised event (``handlers/activities``), so this module, its repo
(``MessageCountRepo``) and ``services.message_counts`` say what they count.

This listener is on the hot path (every plain group message), so it only touches memory; the
counts reach the database through the batcher once a second and at shutdown.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from bot.batcher import write_isolated
from bot.clock import local_day
from bot.context import Context
from bot.feature import Feature
from bot.router import Band, Router
from bot.services import Services

router = Router("activity")

_STATE = "activity"


class Counters:
    """In-memory counts waiting for the next flush."""

    def __init__(self) -> None:
        self.pending: defaultdict[tuple[int, int, date], list[int]] = defaultdict(lambda: [0, 0, 0])

    def count(self, group_id: int, member_id: int, day: date, *, reply: bool, command: bool) -> None:
        """Count one message."""
        row = self.pending[(group_id, member_id, day)]
        row[0] += 1
        if reply:
            row[1] += 1
        if command:
            row[2] += 1

    def add_back(self, group_id: int, member_id: int | None, day: date, n: int, r: int, c: int) -> None:
        """Return counts a flush could not write, for the next flush."""
        if member_id is None:
            return
        row = self.pending[(group_id, member_id, day)]
        row[0] += n
        row[1] += r
        row[2] += c

    def take(self) -> list[tuple[int, int | None, date, int, int, int]]:
        """Everything counted since the last take."""
        pending, self.pending = self.pending, defaultdict(lambda: [0, 0, 0])
        return [(g, m, d, n, r, c) for (g, m, d), (n, r, c) in sorted(pending.items())]


@router.message(band=Band.LISTENER)
async def count_message(ctx: Context) -> None:
    """Count a group message (no database round trip)."""
    if ctx.group is None or ctx.member is None or ctx.message is None or ctx.message.edited:
        return
    counters: Counters = ctx.services.state[_STATE]
    day = local_day(ctx.message.at, ctx.group.timezone)
    counters.count(
        ctx.group.id, ctx.member.id, day, reply=ctx.message.reply_to is not None, command=ctx.is_command
    )


async def _startup(services: Services) -> None:
    counters = Counters()
    services.state[_STATE] = counters
    directory = services.directory

    async def flush() -> None:
        # A row the database refuses is dropped alone; what it could not take at all (locked,
        # away) goes back into memory for the next flush (rows already written do not).
        rows = counters.take()
        for g, m, d, n, r, c in await write_isolated("activity", rows, services.message_counts.add):
            counters.add_back(g, m, d, n, r, c)
        seen, directory.seen = directory.seen, {}
        for member_id, at in await write_isolated(
            "last-seen", sorted(seen.items()), services.members.touch_many
        ):
            directory.seen[member_id] = max(at, directory.seen.get(member_id, at))

    services.batcher.register("activity", flush)


FEATURE = Feature(name="activity", router=router, startup=_startup)
