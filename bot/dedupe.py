"""Inbound dedupe: platforms redeliver after a restart, so each event is handled once.

Recent event ids are kept in memory and persisted with the batched flush (not a row per
message at the moment it arrives); a platform sequence number that only grows (Telegram's
``update_id``) is kept as a per-adapter high-water mark.

When several workers share one PostgreSQL database (``shared``), memory is not enough: two of them
may receive the same update (a redelivery after a failover, a webhook retried to another worker).
Each event is then also claimed by inserting its id at once, and the table's primary key lets one
insert win; the loser drops the event.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime, timedelta

from bot.batcher import write_isolated
from bot.clock import Clock
from storage import EventLogRepo

_WINDOW = timedelta(days=1)
_PRUNE_EVERY = timedelta(minutes=1)


class Deduper:
    """Remembers which events were handled."""

    def __init__(
        self, repo: EventLogRepo, clock: Clock, capacity: int = 100_000, *, shared: bool = False
    ) -> None:
        self._repo = repo
        self.shared = shared
        self._pruned_at = datetime.min.replace(tzinfo=UTC)
        self._clock = clock
        self._capacity = capacity
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._pending: list[tuple[str, str, datetime]] = []
        self._high_water: dict[str, int] = {}
        self._dirty_marks: set[str] = set()
        self.dropped = 0

    async def load(self, adapters: list[str]) -> None:
        """Load recent ids and high-water marks (at start)."""
        since = self._clock.now() - _WINDOW
        for adapter, event_id in await self._repo.recent(since):
            self._seen[(adapter, event_id)] = None
        for adapter in adapters:
            value = await self._repo.get_state(adapter, "high_water")
            if value is not None:
                self._high_water[adapter] = int(value)

    def high_water(self, adapter: str) -> int | None:
        """The highest sequence number handled for ``adapter`` (for adapters resuming a stream)."""
        return self._high_water.get(adapter)

    def is_new(self, adapter: str, event_id: str, seq: int | None) -> bool:
        """True the first time an event is offered; remembers it."""
        if seq is not None:
            mark = self._high_water.get(adapter)
            if mark is not None and seq <= mark:
                self.dropped += 1
                return False
        key = (adapter, event_id)
        if key in self._seen:
            self.dropped += 1
            return False
        self._seen[key] = None
        if len(self._seen) > self._capacity:
            self._seen.popitem(last=False)
        if not self.shared:  # shared: ``claim`` writes the id as the event is handled
            self._pending.append((adapter, event_id, self._clock.now()))
        if seq is not None:
            self._high_water[adapter] = max(seq, self._high_water.get(adapter, seq))
            self._dirty_marks.add(adapter)
        return True

    async def claim(self, adapter: str, event_id: str) -> bool:
        """True when this worker is the one to handle the event (always, when not ``shared``)."""
        if not self.shared:
            return True
        if await self._repo.claim(adapter, event_id, self._clock.now()):
            return True
        self.dropped += 1
        return False

    async def flush(self) -> None:
        """Persist what was handled since the last flush.

        An id the database refuses is logged and dropped alone: the rest of the flush is still
        written, so a restart does not handle those events a second time. What the database
        could not take at all (locked, away) is kept for the next flush.
        """
        pending, self._pending = self._pending, []
        marks = [(a, "high_water", str(self._high_water[a])) for a in sorted(self._dirty_marks)]
        self._dirty_marks.clear()
        if pending:
            left = await write_isolated("dedupe", pending, self._repo.insert)
            self._pending[:0] = left
            if not left:
                await self._repo.prune(self._clock.now() - _WINDOW)
        elif self.shared and self._clock.now() - self._pruned_at >= _PRUNE_EVERY:
            # Shared: the ids were written by ``claim``; old ones still go, a minute apart.
            self._pruned_at = self._clock.now()
            await self._repo.prune(self._pruned_at - _WINDOW)
        unsaved = await write_isolated("dedupe marks", marks, self._repo.set_states)
        self._dirty_marks.update(adapter for adapter, _key, _value in unsaved)
