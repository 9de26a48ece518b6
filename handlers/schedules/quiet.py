"""Quiet hours (静默时段): a nightly window in which automated, non-urgent posts wait.

The window is pure arithmetic over the group's local wall time (the caller passes instants from
the injected Clock). ``deferral.defer_if_quiet`` applies a group's window to a job run, and
``deferral.QuietHoursPort`` offers it to the other features as the ``QuietHours`` port.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.timeparse import TimeError, localize, parse_time_of_day

#: Activity reminders for an activity starting sooner than this are never deferred: a reminder sent
#: after the start would be useless.
URGENT_BEFORE_START = timedelta(hours=2)


@dataclass(frozen=True, slots=True)
class QuietWindow:
    """From ``start`` to ``end`` local time; ``start > end`` means the window spans midnight."""

    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def contains(self, local: time) -> bool:
        """True when the local wall time ``local`` falls inside the window (end excluded)."""
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def defer(self, instant: datetime, tz: ZoneInfo) -> datetime:
        """``instant`` itself when outside the window, else the window's end (UTC)."""
        local = instant.astimezone(tz)
        wall = local.time().replace(tzinfo=None)
        if not self.contains(wall):
            return instant.astimezone(UTC)
        day = local.date()
        if self.start >= self.end and wall >= self.start:
            day += timedelta(days=1)  # the window ends tomorrow morning
        return localize(day, self.end, tz)


def parse_window(text: str) -> QuietWindow:
    """``22:00-08:00`` (also ``22:00~08:00``, ``22:00 - 08:00``, ``22点-8点``); start ≠ end."""
    parts = re.split(r"\s*[-~～—到至]\s*", text.strip(), maxsplit=1)
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise TimeError("schedule.err_quiet", part=text.strip())
    start = parse_time_of_day(parts[0])
    end = parse_time_of_day(parts[1])
    if start == end:
        raise TimeError("schedule.err_quiet_empty", part=text.strip())
    return QuietWindow(start, end)


def window_from_setting(value: str | None) -> QuietWindow | None:
    """The stored setting (``""`` or ``"22:00-08:00"``) as a window, or None when off."""
    if not value:
        return None
    try:
        return parse_window(value)
    except TimeError:
        return None


def deferred_until(
    window: QuietWindow | None,
    fire: datetime,
    tz: ZoneInfo,
    *,
    urgent: bool = False,
    event_start: datetime | None = None,
) -> datetime:
    """When a post due at ``fire`` should go out: ``fire`` itself, or the end of quiet hours.

    Urgent posts never wait. An activity reminder (``event_start`` given) waits only while the
    activity stays more than two hours away from the deferred time; otherwise it goes out now, since
    a reminder that arrives after the start is worse than one at night.
    """
    fire = fire.astimezone(UTC)
    if window is None or urgent:
        return fire
    target = window.defer(fire, tz)
    if target == fire:
        return fire
    if event_start is not None and event_start - target < URGENT_BEFORE_START:
        return fire
    return target
