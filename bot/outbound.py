"""A polite outbound queue: per-chat and overall rate limits, ``retry_after`` and retries.

Every adapter sends through one of these so bursts stay within the platform's limits, a server's
``retry_after`` is honoured exactly, and a passing network fault does not drop a reply.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from bot import metrics
from bot.errors import RateLimited, TransportError

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``count`` calls in any window of ``period`` seconds."""

    count: int
    period: float


class _Window:
    def __init__(self, limit: Limit) -> None:
        self.limit = limit
        self.stamps: deque[float] = deque()

    def wait_time(self, now: float) -> float:
        while self.stamps and now - self.stamps[0] >= self.limit.period:
            self.stamps.popleft()
        if len(self.stamps) < self.limit.count:
            return 0.0
        return self.limit.period - (now - self.stamps[0])


class OutboundQueue:
    """Runs outbound calls in order per chat, within the limits, retrying what may pass."""

    def __init__(
        self,
        *,
        per_chat: Limit | None = None,
        overall: Limit | None = None,
        max_retries: int = 5,
        backoff: float = 0.5,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._per_chat = per_chat
        self._overall = _Window(overall) if overall else None
        self._chats: dict[str, _Window] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._max_retries = max_retries
        self._backoff = backoff
        self._sleep = sleep
        self._monotonic = monotonic
        #: Seconds spent waiting on limits and retry_after, for tests and ``/status``.
        self.waited = 0.0
        #: Calls in this queue not finished yet (waiting or in flight): the desk's watchdog reads
        #: it per adapter; the metrics gauge only has the sum over every queue.
        self.pending = 0

    async def _take_slot(self, chat_key: str) -> None:
        windows = [w for w in (self._overall, self._chat_window(chat_key)) if w is not None]
        while True:
            now = self._monotonic()
            delay = max((w.wait_time(now) for w in windows), default=0.0)
            if delay <= 0:
                for w in windows:
                    w.stamps.append(now)
                return
            self.waited += delay
            await self._sleep(delay)

    def _chat_window(self, chat_key: str) -> _Window | None:
        if self._per_chat is None:
            return None
        window = self._chats.get(chat_key)
        if window is None:
            window = self._chats[chat_key] = _Window(self._per_chat)
        return window

    async def run(self, chat_key: str, call: Callable[[], Awaitable[T]]) -> T:
        """Run ``call`` for ``chat_key`` once a slot is free, honouring retry_after and retrying."""
        lock = self._locks.setdefault(chat_key, asyncio.Lock())
        metrics.OUTBOUND_WAITING.inc()
        self.pending += 1
        try:
            return await self._run_locked(lock, chat_key, call)
        finally:
            self.pending -= 1
            metrics.OUTBOUND_WAITING.dec()

    async def _run_locked(self, lock: asyncio.Lock, chat_key: str, call: Callable[[], Awaitable[T]]) -> T:
        async with lock:
            attempt = 0
            while True:
                await self._take_slot(chat_key)
                try:
                    return await call()
                except RateLimited as exc:
                    # The server said exactly how long: wait that, not a guess.
                    metrics.RATE_LIMITED.inc()
                    self.waited += exc.retry_after
                    await self._sleep(exc.retry_after)
                except TransportError:
                    attempt += 1
                    if attempt > self._max_retries:
                        raise
                    delay = self._backoff * (2 ** (attempt - 1))
                    log.warning("transport error for %s, retry %d in %.1fs", chat_key, attempt, delay)
                    self.waited += delay
                    await self._sleep(delay)
