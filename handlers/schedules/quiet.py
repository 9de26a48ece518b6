"""Quiet hours (静默时段): a nightly window in which automated, non-urgent posts wait.

The window is pure arithmetic over the group's local wall time (the caller passes instants from
the injected Clock). ``defer_if_quiet`` applies a group's window to a job run, and
``QuietHoursPort`` offers it to the other features as the ``QuietHours`` port.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.planned_posts import DEFERRED_FROM, defer_run, tz_of
from bot.timeparse import TimeError, localize, parse_time_of_day

if TYPE_CHECKING:
    from bot.services import Services
    from storage.models import Group, Job

#: The group setting holding the window (``""`` when off); see ``settings.py``.
QUIET_KEY = "schedule.quiet_hours"

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


async def defer_if_quiet(
    services: Services,
    group: Group,
    job: Job,
    fire: datetime,
    *,
    urgent: bool = False,
    event_start: datetime | None = None,
) -> bool:
    """Re-plan this run for the end of the group's quiet hours; True when it was deferred.

    A run that was itself deferred goes out when it fires. ``defer_run`` says how the deferred run
    is stored (one row per job and morning, posted exactly once).
    """
    if job.payload.get(DEFERRED_FROM):
        return False
    window = window_from_setting(await services.settings.get(group.id, QUIET_KEY))
    target = deferred_until(window, fire, tz_of(group), urgent=urgent, event_start=event_start)
    if target <= fire:
        return False
    await defer_run(services, group, job, fire, target)
    return True


class QuietHoursPort:
    """The ``QuietHours`` port: other features' automated posts wait out quiet hours too."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def defer(
        self, group: Group, job: Job, fire: datetime, *, event_start: datetime | None = None
    ) -> bool:
        """Defer this run to the end of the group's quiet hours; True when it was deferred."""
        return await defer_if_quiet(self._services, group, job, fire, event_start=event_start)
