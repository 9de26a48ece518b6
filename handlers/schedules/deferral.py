"""Quiet hours applied: a group's automated posts wait out its window (``quiet.py`` holds the
window arithmetic, ``settings.py`` the setting)."""

from __future__ import annotations

from datetime import datetime

from bot.planned_posts import DEFERRED_FROM, defer_run, tz_of
from bot.services import Services
from handlers.schedules.quiet import deferred_until
from handlers.schedules.settings import ScheduleSettings
from storage.models import Group, Job


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
    window = (await services.settings.of(group.id, ScheduleSettings)).quiet_window
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
