"""Time: one ``Clock`` protocol, the system clock in production and a virtual one in tests.

Nothing else reads the wall clock. All instants are timezone-aware UTC.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class Clock(Protocol):
    """Gives the current instant."""

    @property
    def is_virtual(self) -> bool:
        """True when time moves only when told to."""
        ...

    def now(self) -> datetime:
        """The current instant, aware, in UTC."""
        ...


class SystemClock:
    """The real time."""

    is_virtual = False

    def now(self) -> datetime:
        """The current instant, aware, in UTC."""
        return datetime.now(UTC)


class VirtualClock:
    """A clock that moves only when ``advance`` or ``set`` is called."""

    is_virtual = True

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("a virtual clock needs an aware start time")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        """The current virtual instant."""
        return self._now

    def set(self, instant: datetime) -> None:
        """Move to ``instant``; time never goes backwards."""
        instant = instant.astimezone(UTC)
        if instant > self._now:
            self._now = instant

    def advance(self, delta: timedelta) -> None:
        """Move forward by ``delta``."""
        self.set(self._now + delta)


class TickingClock(VirtualClock):
    """A virtual clock that also follows the wall clock (for the interactive console).

    It keeps an offset so ``/advance`` can jump ahead while time still passes between lines.
    """

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self._anchor = time.monotonic()
        self._base = self._now

    def now(self) -> datetime:
        """The start time plus elapsed real time plus every advance."""
        ticked = self._base + timedelta(seconds=time.monotonic() - self._anchor)
        if ticked > self._now:
            self._now = ticked
        return self._now

    def set(self, instant: datetime) -> None:
        """Jump forward to ``instant`` and keep ticking from there."""
        instant = instant.astimezone(UTC)
        if instant > self.now():
            self._now = instant
            self._base = instant
            self._anchor = time.monotonic()


def zone(name: str) -> ZoneInfo:
    """A ``ZoneInfo`` for an IANA name; raises ``ValueError`` for an unknown name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {name!r}") from None


def local_now(clock: Clock, tz: str) -> datetime:
    """The clock's instant in the timezone ``tz``."""
    return clock.now().astimezone(zone(tz))


def local_day(instant: datetime, tz: str, day_start_minutes: int = 0) -> date:
    """The group's calendar day holding ``instant``, with days starting at ``day_start_minutes``."""
    local = instant.astimezone(zone(tz)) - timedelta(minutes=day_start_minutes)
    return local.date()


def parse_instant(text: str) -> datetime:
    """Read an ISO-8601 instant with an offset (``Z`` allowed) into UTC."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return value.astimezone(UTC)
