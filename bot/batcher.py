"""Batched writes for the hot path: features register flush callbacks run every second.

Per-message counters live in memory and reach the database in one transaction per second and
at shutdown, so a plain message costs no database round trip.

``write_isolated`` is how a flush writes: one item the database refuses (a character it cannot
encode) is found by halving, logged and dropped, and the rest is written. A flush used to put a
refused batch back whole, so it failed again every second and everything counted after it was
lost with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TypeVar

from storage import is_transient
from storage.sql import CHUNK

log = logging.getLogger(__name__)

Flush = Callable[[], Awaitable[None]]
T = TypeVar("T")


async def write_isolated(
    name: str,
    items: Sequence[T],
    write: Callable[[Sequence[T]], Awaitable[object]],
    *,
    size: int = CHUNK,
    transient: Callable[[BaseException], bool] = is_transient,
) -> list[T]:
    """Write ``items`` with ``write(part)`` in parts of at most ``size``; returns what to retry.

    ``write`` must be all-or-nothing for a part (one transaction). When a part fails because of
    its data (not ``transient``), it is halved until the item at fault stands alone; that item
    is logged and dropped, every other item is written. When the database itself fails
    (``transient``: locked, away), the part in hand and every part after it are returned, in
    order, for the caller to keep for the next flush; parts already written are not.
    """
    # A stack of parts still to write, the next on top.
    stack: list[Sequence[T]] = [items[i : i + size] for i in range(0, len(items), size)][::-1]
    while stack:
        part = stack.pop()
        try:
            await write(part)
        except Exception as exc:
            if transient(exc):
                log.warning("flush %s: database unavailable (%s); will retry", name, type(exc).__name__)
                left = list(part)
                for later in reversed(stack):
                    left.extend(later)
                return left
            if len(part) == 1:
                # repr: the item may hold exactly the characters the log stream cannot encode.
                log.error(
                    "flush %s: dropped an item the database refuses: %r (%s: %r)",
                    name,
                    part[0],
                    type(exc).__name__,
                    str(exc)[:300],
                )
                continue
            half = len(part) // 2
            stack.append(part[half:])
            stack.append(part[:half])
    return []


class Batcher:
    """Runs every registered flush callback periodically and on demand."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self._flushes: list[tuple[str, Flush]] = []
        self._task: asyncio.Task[None] | None = None
        #: Under a clock that moves only when told (scripts, tests), the instant of the last
        #: flush driven by ``tick``: batches follow that clock, not the machine's speed.
        self._last_tick: datetime | None = None
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

    async def tick(self, now: datetime) -> None:
        """Flush when a clock that moves only when told has passed ``interval`` since the last
        flush (the scheduler calls this as it moves such a clock). With the wall clock's own
        timer, a flush would land wherever a slow machine happened to be, so the same script
        would give different output under load."""
        if self._last_tick is None:
            self._last_tick = now
            return
        if (now - self._last_tick).total_seconds() >= self.interval:
            self._last_tick = now
            await self.flush()

    async def flush_at(self, now: datetime) -> None:
        """Flush now, at ``now`` of a clock that moves only when told (the scheduler calls this
        one interval after a script's input or a job, so what they batched goes out when it
        falls due rather than at the next job)."""
        self._last_tick = now
        await self.flush()

    def start(self) -> None:
        """Start the periodic flush task (for clocks that move on their own)."""
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
