"""Cache invalidation across workers: a change made by one worker empties the others' caches.

A feature that caches something other workers may change (settings, a group's compiled lexicon)
subscribes to a topic and publishes the key it changed. On PostgreSQL the publication is a
``NOTIFY`` (``storage.notify``) that every worker sharing the database receives; each worker
skips its own (it has already updated its cache). On SQLite one worker runs per file, but a
``bot web`` process may run beside it: there the publication is a line in a change log table
(``storage.dashboard.changes``) that each process reads every ``POLL_SECONDS``
(``poll_once``; the console's and the tests' virtual clock call it when they need it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from storage.dashboard.changes import ChangeLog
from storage.notify import PgChannel

log = logging.getLogger(__name__)

CHANNEL = "qunyou_changes"
#: How often a process on SQLite reads the change log.
POLL_SECONDS = 2.0
#: How long change-log lines are kept.
KEEP = timedelta(hours=1)


class ChangeFeed:
    """``subscribe(topic, fn)``; ``await publish(topic, key)``: ``fn(key)`` in every other worker."""

    def __init__(self, worker: str = "main") -> None:
        self.worker = worker
        self._subscribers: dict[str, list[Callable[[str], object]]] = {}
        self._channel: PgChannel | None = None
        self._log: ChangeLog | None = None
        self._now: Callable[[], datetime] = lambda: datetime.min
        self._seen = 0
        self._poller: asyncio.Task[None] | None = None
        self._publishing: set[asyncio.Task[None]] = set()
        self.received = 0

    @property
    def across_workers(self) -> bool:
        """True on PostgreSQL, where other workers may share the database (and hear ``publish``)."""
        return self._channel is not None

    def subscribe(self, topic: str, fn: Callable[[str], object]) -> None:
        """Call ``fn(key)`` when another worker publishes ``key`` under ``topic``."""
        self._subscribers.setdefault(topic, []).append(fn)

    async def connect(self, channel: PgChannel) -> None:
        """Start listening (PostgreSQL)."""
        await channel.listen(self._deliver)
        self._channel = channel

    async def attach_log(self, log: ChangeLog, now: Callable[[], datetime]) -> None:
        """Publish to and read from a SQLite change log, from its newest line on; ``now`` is
        the bot's clock (lines carry their time, for pruning)."""
        self._log = log
        self._now = now
        self._seen = await log.last_id()

    def start_polling(self, every: float = POLL_SECONDS) -> None:
        """Read the change log every ``every`` seconds until ``close`` (a real clock only)."""

        async def loop() -> None:
            while True:
                await asyncio.sleep(every)
                try:
                    await self.poll_once()
                    if self._log is not None and self._seen % 100 == 0:
                        await self._log.prune(self._now() - KEEP)
                except Exception:  # the next round tries again; caches stay stale a little longer
                    log.exception("could not read the change log")

        self._poller = asyncio.get_running_loop().create_task(loop(), name="change log")

    async def poll_once(self) -> int:
        """Deliver the other processes' changes logged since the last read; returns how many."""
        if self._log is None:
            return 0
        lines = await self._log.since(self._seen)
        for line_id, worker, topic, key in lines:
            self._seen = line_id
            self._deliver(f"{worker}|{topic}|{key}")
        return len(lines)

    async def publish(self, topic: str, key: str | int) -> None:
        """Tell the other workers that ``key`` under ``topic`` changed."""
        if self._log is not None:
            try:
                await self._log.append(self.worker, topic, str(key), self._now())
            except Exception:  # the change is stored; only the other process's cache stays stale
                log.exception("could not log a change of %s %s for the other processes", topic, key)
        if self._channel is None:
            return
        try:
            await self._channel.notify(f"{self.worker}|{topic}|{key}")
        except Exception:  # the change is stored; only other workers' caches stay stale a while
            log.exception("could not announce a change of %s %s to the other workers", topic, key)

    def publish_soon(self, topic: str, key: str | int) -> None:
        """``publish`` from code that cannot wait for it (a synchronous cache drop)."""
        task = asyncio.get_running_loop().create_task(self.publish(topic, key), name=f"publish {topic}")
        self._publishing.add(task)  # a reference, or the task may be collected mid-run
        task.add_done_callback(self._publishing.discard)

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
        """Stop listening (and polling)."""
        poller, self._poller = self._poller, None
        if poller is not None:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
        channel, self._channel = self._channel, None
        if channel is not None:
            await channel.stop()
