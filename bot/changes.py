"""Cache invalidation across workers: a change made by one worker empties the others' caches.

A feature that caches something other workers may change (settings, a group's compiled lexicon)
subscribes to a topic and publishes the key it changed. On PostgreSQL the publication is a
``NOTIFY`` (``storage.notify``) that every worker sharing the database receives; each worker
skips its own (it has already updated its cache). On SQLite one worker runs per file, so
publishing does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from storage.notify import PgChannel

log = logging.getLogger(__name__)

CHANNEL = "qunyou_changes"


class ChangeFeed:
    """``subscribe(topic, fn)``; ``await publish(topic, key)``: ``fn(key)`` in every other worker."""

    def __init__(self, worker: str = "main") -> None:
        self.worker = worker
        self._subscribers: dict[str, list[Callable[[str], object]]] = {}
        self._channel: PgChannel | None = None
        self.received = 0

    def subscribe(self, topic: str, fn: Callable[[str], object]) -> None:
        """Call ``fn(key)`` when another worker publishes ``key`` under ``topic``."""
        self._subscribers.setdefault(topic, []).append(fn)

    async def connect(self, channel: PgChannel) -> None:
        """Start listening (PostgreSQL)."""
        await channel.listen(self._deliver)
        self._channel = channel

    async def publish(self, topic: str, key: str | int) -> None:
        """Tell the other workers that ``key`` under ``topic`` changed."""
        if self._channel is None:
            return
        try:
            await self._channel.notify(f"{self.worker}|{topic}|{key}")
        except Exception:  # the change is stored; only other workers' caches stay stale a while
            log.exception("could not announce a change of %s %s to the other workers", topic, key)

    def _deliver(self, payload: str) -> None:
        worker, _, rest = payload.partition("|")
        topic, _, key = rest.partition("|")
        if worker == self.worker:
            return
        self.received += 1
        for fn in self._subscribers.get(topic, []):
            try:
                fn(key)
            except Exception:
                log.exception("change handler for %s failed", topic)

    async def close(self) -> None:
        """Stop listening."""
        channel, self._channel = self._channel, None
        if channel is not None:
            await channel.stop()
