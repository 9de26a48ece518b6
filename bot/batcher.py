"""Batched writes for the hot path: features register flush callbacks run every second.

Per-message counters live in memory and reach the database in one transaction per second and
at shutdown, so a plain message costs no database round trip.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Flush = Callable[[], Awaitable[None]]


class Batcher:
    """Runs every registered flush callback periodically and on demand."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self._flushes: list[tuple[str, Flush]] = []
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def register(self, name: str, flush: Flush) -> None:
        """Add a flush callback; they run in registration order."""
        self._flushes.append((name, flush))

    async def flush(self) -> None:
        """Run every callback once; a failing one is logged and the rest still run."""
        async with self._lock:
            for name, flush in self._flushes:
                try:
                    await flush()
                except Exception:
                    log.exception("flush %s failed", name)

    def start(self) -> None:
        """Start the periodic flush task."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="qunyou-batcher")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            # Shielded: callbacks take their data out of memory before writing it, so a flush
            # cancelled half-way by ``stop`` would lose it (seen as a dedupe mark lost on restart).
            await asyncio.shield(self.flush())

    async def stop(self) -> None:
        """Stop the task and flush what is left."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()
