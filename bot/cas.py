"""Combot Anti-Spam (CAS, https://cas.chat) lookups: one global list of Telegram spammers.

``GET https://api.cas.chat/check?user_id=ID`` answers a JSON object whose boolean ``ok`` says
whether the account is listed (``{"ok": true, "result": {...}}``) or not (``{"ok": false,
"description": "Record not found."}``). The checker asks with a timeout, keeps every answer in
an in-memory cache for a while (listed and clean alike, so a raid of re-joins costs one request
per account), asks once for an account however many joins wait on it, and never raises: an
unreachable or garbled service is ``UNKNOWN`` and the caller lets the member in.

The HTTP call is an injected function (``Fetch``); the default one is the standard library's
``urllib`` in a worker thread, so ``bot/`` needs no HTTP client library.
"""

from __future__ import annotations

import asyncio
import enum
import http.client
import json
import logging
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.clock import Clock

log = logging.getLogger(__name__)

#: GET ``url`` within the given seconds; returns the body, raises on any failure.
Fetch = Callable[[str, float], Awaitable[bytes]]

DEFAULT_URL = "https://api.cas.chat/check"
#: The most of an answer read: CAS's is a few hundred bytes; a huge body is not CAS.
MAX_BODY = 64 * 1024
#: Lookups in flight at once: a raid must not take every worker thread.
MAX_PARALLEL = 4


class CasVerdict(enum.Enum):
    """What CAS said about an account."""

    BANNED = "banned"
    CLEAN = "clean"
    #: No usable answer (timeout, network error, garbage): the member is let in.
    UNKNOWN = "unknown"


def cas_user_id(platform: str, user_id: str) -> str | None:
    """The Telegram user id CAS knows ``user_id`` by, or None when CAS cannot know it.

    CAS lists Telegram accounts only. The console names a simulated Telegram account
    ``telegram:ID``; the prefix is dropped so a script can play a Telegram newcomer.
    """
    if platform != "telegram":
        return None
    plain = user_id.removeprefix("telegram:")
    return plain if plain.isascii() and plain.isdigit() else None


def parse_answer(body: bytes) -> CasVerdict:
    """CAS's JSON answer as a verdict; anything but an object with a boolean ``ok`` is UNKNOWN."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return CasVerdict.UNKNOWN
    ok = data.get("ok") if isinstance(data, dict) else None
    if ok is True:
        return CasVerdict.BANNED
    if ok is False:
        return CasVerdict.CLEAN
    return CasVerdict.UNKNOWN


async def urllib_fetch(url: str, seconds: float) -> bytes:
    """GET ``url`` with the standard library in a worker thread (the event loop never waits)."""

    def get() -> bytes:
        request = urllib.request.Request(url, headers={"User-Agent": "qunyou-bot (+CAS check)"})
        with urllib.request.urlopen(request, timeout=seconds) as response:
            body: bytes = response.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            raise ValueError("answer too large")
        return body

    return await asyncio.to_thread(get)


class CasChecker:
    """Asks CAS about Telegram accounts, with a timeout, a TTL cache and one request per account."""

    def __init__(
        self,
        clock: Clock,
        *,
        url: str = DEFAULT_URL,
        timeout: float = 3.0,
        ttl: timedelta = timedelta(hours=1),
        fetch: Fetch = urllib_fetch,
    ) -> None:
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"CAS url must be http(s): {url!r}")
        self._clock = clock
        self._url = url
        self._timeout = timeout
        self._ttl = ttl
        self._fetch = fetch
        self._cache: dict[str, tuple[CasVerdict, datetime]] = {}
        self._pending: dict[str, asyncio.Future[CasVerdict]] = {}
        self._gate = asyncio.Semaphore(MAX_PARALLEL)
        #: Requests made so far (logs and debugging; the tests count at the server instead).
        self.requests = 0

    def cached(self, user_id: str) -> CasVerdict | None:
        """The cached verdict for ``user_id`` if it is still fresh."""
        hit = self._cache.get(user_id)
        if hit is None:
            return None
        verdict, until = hit
        if self._clock.now() >= until:
            del self._cache[user_id]
            return None
        return verdict

    async def check(self, user_id: str) -> CasVerdict:
        """CAS's verdict on the Telegram account ``user_id``; never raises."""
        hit = self.cached(user_id)
        if hit is not None:
            return hit
        pending = self._pending.get(user_id)
        if pending is not None:
            # Another join of the same account is already asking: share its answer.
            return await asyncio.shield(pending)
        future: asyncio.Future[CasVerdict] = asyncio.get_running_loop().create_future()
        self._pending[user_id] = future
        verdict = CasVerdict.UNKNOWN
        try:
            verdict = await self._ask(user_id)
        finally:
            # Set even when this task is cancelled, so joins sharing the lookup never hang.
            del self._pending[user_id]
            future.set_result(verdict)
        if verdict is not CasVerdict.UNKNOWN:
            # Not knowing is not cached: the next join of this account asks again.
            self._cache[user_id] = (verdict, self._clock.now() + self._ttl)
            self._prune()
        return verdict

    async def _ask(self, user_id: str) -> CasVerdict:
        url = f"{self._url}?{urllib.parse.urlencode({'user_id': user_id})}"
        async with self._gate:
            self.requests += 1
            try:
                body = await asyncio.wait_for(self._fetch(url, self._timeout), self._timeout)
            except (TimeoutError, OSError, ValueError, http.client.HTTPException) as exc:
                log.warning(
                    "CAS check of %s failed (%s); letting them in", user_id, exc or type(exc).__name__
                )
                return CasVerdict.UNKNOWN
        verdict = parse_answer(body)
        if verdict is CasVerdict.UNKNOWN:
            log.warning("CAS answered garbage for %s: %r", user_id, body[:120])
        return verdict

    def _prune(self) -> None:
        """Drop expired entries once the cache grows, so a long raid cannot grow it for good."""
        if len(self._cache) < 10_000:
            return
        now = self._clock.now()
        for key in [k for k, (_, until) in self._cache.items() if now >= until]:
            del self._cache[key]
