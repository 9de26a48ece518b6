"""Flood windows across the workers sharing one PostgreSQL database.

Each worker keeps every member's recent messages in memory (``FloodTracker``) and decides on
them alone, as before. When workers share PostgreSQL and a group's updates are spread over them
(Telegram webhooks behind a load balancer, say), each sees only its share of a flood, so a
member whose messages *on this worker* reach half the limit within the window (``asks_from``:
4 of the rate's 8, 2 of the same text's 4) is also counted in the database, with every worker's
(``services.counts``, table ``shared_counts``: one row per key and second, added to by upsert;
the key is a digest of group and account, so the table holds no member id):

* at that member's first such message, this worker writes the times it holds for the member
  (its backlog), then every further message, one each (never one twice: ``_mark``);
* in the same transaction it reads the count of every worker over the window, and the flood is
  caught when that count tips over the limit, on whichever worker sees that message;
* a caught window starts again on both sides: the member's rows are deleted and the memory of
  this worker cleared (the other's is muted with them).

Below half the limit nothing is asked: ordinary chat (a few messages in ten seconds per member
and worker) costs no round trip. The price is a bound, not a miss: each *other* worker's
messages below its threshold are not counted yet, so with N workers a flood is caught at most
``(N - 1) × (asks_from - 1)`` messages past the limit; with two workers dealt a flood in turn,
at the message that completes it; and at once when a group's updates all reach one worker
(sticky). Alone (SQLite, one worker) nothing of this
runs: ``ModState.shared_flood`` is None and the memory decides alone, as fast as before.

Counts older than ``bot.cooldowns.PRUNE_EVERY`` (ten minutes) are pruned: a window of the same
text longer than that is counted across workers over its last ten minutes only.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.cooldowns import Counts

if TYPE_CHECKING:
    from handlers.moderation.service import FloodTracker

SCOPE = "moderation.flood"


def asks_from(limit: int) -> int:
    """A member's messages on this worker within a window before the database is asked: half
    the limit (at least 2). Two workers each seeing half a flood then both pass it before the
    flood is complete, so it is caught at the very message that completes it; ordinary chat
    (a few lines in ten seconds) never gets there."""
    return max(2, -(-limit // 2))


#: Members whose written times this worker remembers; the oldest are forgotten first.
MEMORY = 50_000

#: Name → (the latest time written, how many of this worker's messages at that very time).
Mark = tuple[datetime, int]


def _unwritten(times: list[datetime], mark: Mark | None) -> list[datetime]:
    """Of the member's times (oldest first), those not written yet."""
    if mark is None:
        return times
    last, done = mark
    at_last = sum(1 for t in times if t == last)
    return [last] * max(0, at_last - done) + [t for t in times if t > last]


def _mark_of(times: list[datetime]) -> Mark:
    last = times[-1]
    return last, sum(1 for t in times if t == last)


class SharedFloods:
    """The database side of the flood windows (see the module docstring)."""

    def __init__(self, counts: Counts) -> None:
        self._counts = counts
        self._marks: OrderedDict[str, Mark] = OrderedDict()
        #: Messages that asked the database, and floods only the shared count caught.
        self.asked = 0
        self.caught = 0

    async def check(
        self,
        tracker: FloodTracker,
        group_id: int,
        user_id: str,
        at: datetime,
        folded: str,
        *,
        max_messages: int,
        window: timedelta,
        max_identical: int,
        identical_window: timedelta,
    ) -> str | None:
        """After ``tracker.observe`` found no flood: ``"rate"`` or ``"identical"`` when the
        member's messages on every worker together tip over the limit, else None."""
        text = folded[:200]
        # A digest, not the account id: the counts are no member data (a /forgetme leaves no
        # trace in them), and the name still tells members and groups apart.
        rate_name = hashlib.blake2b(f"{group_id}:{user_id}".encode(), digest_size=12).hexdigest()
        asks: list[tuple[str, list[datetime], datetime, str, int]] = []
        rate_times = tracker.recent(group_id, user_id, at - window)
        if len(rate_times) >= asks_from(max_messages):
            asks.append((rate_name, rate_times, at - window, "rate", max_messages + 1))
        if text:
            same_times = tracker.recent(group_id, user_id, at - identical_window, text)
            if len(same_times) >= asks_from(max_identical):
                digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()
                asks.append(
                    (f"{rate_name}:{digest}", same_times, at - identical_window, "identical", max_identical)
                )
        if not asks:
            return None
        self.asked += 1
        items = [
            (name, [(t, 1) for t in _unwritten(times, self._marks.get(name))], since)
            for name, times, since, _, _ in asks
        ]
        # Marked before the write, with no await in between: the member's next message,
        # handled concurrently while this write waits, must not write these times again
        # (counted twice, a burst of ordinary replies would look like a flood).
        before = {name: self._marks.get(name) for name, *_ in asks}
        for name, times, _, _, _ in asks:
            self._marks[name] = _mark_of(times)
            self._marks.move_to_end(name)
        while len(self._marks) > MEMORY:
            self._marks.popitem(last=False)
        totals = await self._counts.add_many(SCOPE, items)
        if totals is None:
            for name, mark in before.items():  # nothing was written: write them next time
                if mark is None:
                    self._marks.pop(name, None)
                else:
                    self._marks[name] = mark
            return None
        for (_, _, _, kind, limit), total in zip(asks, totals, strict=True):
            if total >= limit:
                self.caught += 1
                tracker.clear(group_id, user_id)
                names = [n for n, *_ in asks]
                for done in names:
                    self._marks.pop(done, None)
                await self._counts.forget(SCOPE, names)
                return kind
        return None
