"""Time: one ``Clock`` protocol, the system clock in production and a virtual one in tests.

Nothing else reads the wall clock. All instants are timezone-aware UTC.
"""

from __future__ import annotations

import difflib
import functools
import time
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


class Clock(Protocol):
    """Gives the current instant."""

    @property
    def is_virtual(self) -> bool:
        """True when time moves only when told to."""
        ...

    @property
    def moves_on_its_own(self) -> bool:
        """True when time passes between events (so timers may follow the wall clock)."""
        ...

    def now(self) -> datetime:
        """The current instant, aware, in UTC."""
        ...


class SystemClock:
    """The real time."""

    is_virtual = False
    moves_on_its_own = True

    def now(self) -> datetime:
        """The current instant, aware, in UTC."""
        return datetime.now(UTC)


class VirtualClock:
    """A clock that moves only when ``advance`` or ``set`` is called."""

    is_virtual = True
    moves_on_its_own = False

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

    moves_on_its_own = True

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


class UnknownTimezone(ValueError):
    """A name that is not in the tz database; ``suggestions`` holds the closest real names."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        self.name = name
        self.suggestions = suggestions
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        shown = name if len(name) <= 40 else name[:39] + "…"
        super().__init__(f"unknown timezone {shown!r}{hint}")


@functools.cache
def timezone_names() -> frozenset[str]:
    """Every IANA name the tz database on this machine knows (read once)."""
    return frozenset(available_timezones())


def suggest_timezones(name: str, limit: int = 3) -> list[str]:
    """The real timezone names closest to ``name`` (``Asia/Shanghia`` → ``Asia/Shanghai``)."""
    text = name.strip()[:64]  # difflib's cost grows with the length; no real name is longer
    names = sorted(timezone_names())
    folded = {n.casefold(): n for n in names}
    if text.casefold() in folded:
        return [folded[text.casefold()]]
    region = text.casefold().rstrip("/")
    if region in _WELL_KNOWN:
        # A region alone ("Asia" is a directory of the tz database): difflib would offer
        # Asia/Omsk; the cities most groups mean are more use.
        return [n for n in _WELL_KNOWN[region] if n in timezone_names()][:limit]
    close = difflib.get_close_matches(text.casefold(), list(folded), n=limit, cutoff=0.6)
    return [folded[c] for c in close]


_WELL_KNOWN: dict[str, tuple[str, ...]] = {
    "asia": ("Asia/Shanghai", "Asia/Tokyo", "Asia/Singapore"),
    "europe": ("Europe/London", "Europe/Berlin", "Europe/Moscow"),
    "america": ("America/New_York", "America/Chicago", "America/Los_Angeles"),
    "us": ("America/New_York", "America/Chicago", "America/Los_Angeles"),
    "africa": ("Africa/Cairo", "Africa/Lagos", "Africa/Johannesburg"),
    "australia": ("Australia/Sydney", "Australia/Melbourne", "Australia/Perth"),
    "pacific": ("Pacific/Auckland", "Pacific/Honolulu", "Pacific/Fiji"),
    "etc": ("UTC",),
}


def check_timezone(name: object) -> str:
    """The IANA name ``name`` means, validated against the tz database's list of names.

    The one validator for timezone names from config, commands and stored settings. Checking the
    list first matters: ``ZoneInfo`` reads a file under that name, so ``Asia`` (a directory),
    a 300-character name or one with a NUL raise ``OSError`` rather than a clean refusal. A name
    that differs from a real one only in case is taken as that one. Raises ``UnknownTimezone``.
    """
    text = name.strip() if isinstance(name, str) else ""
    if text in timezone_names():
        return text
    suggestions = suggest_timezones(text) if text else []
    if len(suggestions) == 1 and suggestions[0].casefold() == text.casefold():
        return suggestions[0]
    raise UnknownTimezone(text if isinstance(name, str) else repr(name), suggestions)


def zone(name: str) -> ZoneInfo:
    """A ``ZoneInfo`` for an IANA name; raises ``ValueError`` (``UnknownTimezone``) for an unknown name."""
    if name not in timezone_names():
        raise UnknownTimezone(str(name), [])
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UnknownTimezone(name, []) from None


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
