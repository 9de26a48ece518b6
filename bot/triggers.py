"""Job triggers: when a scheduled job fires (a date, a cron line in the group's timezone, an
interval), stored as plain dicts in the job row; APScheduler 3 computes the fire times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.clock import parse_instant, zone


@dataclass(frozen=True)
class At:
    """Once, at an instant."""

    at: datetime


@dataclass(frozen=True)
class Cron:
    """Cron fields in a timezone; ``day_of_week`` uses names (``mon``…``sun``), not numbers."""

    tz: str
    minute: str = "0"
    hour: str = "*"
    day: str = "*"
    month: str = "*"
    day_of_week: str = "*"


@dataclass(frozen=True)
class Every:
    """Every ``seconds`` from ``start``."""

    seconds: int
    start: datetime


Trigger = At | Cron | Every


def trigger_to_dict(trigger: Trigger) -> dict[str, Any]:
    """A JSON-able description of a trigger (what the job row stores)."""
    if isinstance(trigger, At):
        return {"type": "at", "at": trigger.at.astimezone(UTC).isoformat()}
    if isinstance(trigger, Cron):
        return {
            "type": "cron",
            "tz": trigger.tz,
            "minute": trigger.minute,
            "hour": trigger.hour,
            "day": trigger.day,
            "month": trigger.month,
            "day_of_week": trigger.day_of_week,
        }
    return {"type": "every", "seconds": trigger.seconds, "start": trigger.start.astimezone(UTC).isoformat()}


def trigger_from_dict(data: dict[str, Any]) -> Trigger:
    """The inverse of ``trigger_to_dict``."""
    kind = data.get("type")
    if kind == "at":
        return At(parse_instant(data["at"]))
    if kind == "cron":
        return Cron(
            tz=data["tz"],
            minute=data["minute"],
            hour=data["hour"],
            day=data["day"],
            month=data["month"],
            day_of_week=data["day_of_week"],
        )
    if kind == "every":
        return Every(seconds=int(data["seconds"]), start=parse_instant(data["start"]))
    raise ValueError(f"unknown trigger {data!r}")


def aps_trigger(trigger: Trigger) -> BaseTrigger:
    """The APScheduler trigger that computes fire times for ``trigger``."""
    if isinstance(trigger, At):
        return DateTrigger(run_date=trigger.at, timezone=UTC)
    if isinstance(trigger, Cron):
        return CronTrigger(
            minute=trigger.minute,
            hour=trigger.hour,
            day=trigger.day,
            month=trigger.month,
            day_of_week=trigger.day_of_week,
            timezone=zone(trigger.tz),
        )
    return IntervalTrigger(seconds=trigger.seconds, start_date=trigger.start, timezone=UTC)


def next_fire(trigger: Trigger, after: datetime, previous: datetime | None = None) -> datetime | None:
    """The first fire time strictly after ``after`` (None when the trigger is spent)."""
    if isinstance(trigger, At):
        return trigger.at.astimezone(UTC) if previous is None and trigger.at > after else None
    aps = aps_trigger(trigger)
    result = aps.get_next_fire_time(previous, after + timedelta(microseconds=1))
    # APScheduler 3 fires a cron time twice when a DST fall-back repeats it (02:30 on the autumn
    # night in Europe/Berlin); cron, and every member, expects it once: skip the second pass.
    # As in cron, jobs with a wildcard hour (hourly, every N minutes) keep running through it.
    fixed_hours = isinstance(trigger, Cron) and trigger.hour != "*"
    while result is not None and fixed_hours and _repeated_wall_time(result):
        # Ask afresh from one second after it, in UTC: handing APScheduler the folded time as
        # ``previous`` returns that same time again.
        result = aps.get_next_fire_time(None, result.astimezone(UTC) + timedelta(seconds=1))
    return result.astimezone(UTC) if result else None


def _repeated_wall_time(local: datetime) -> bool:
    """True for the second occurrence of a wall time that a DST fall-back repeats."""
    return local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset()
