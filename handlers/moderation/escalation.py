"""The escalation ladder: an unacknowledged red alert is re-sent on a configured ladder.

The rungs are times after the hit: ``moderation.escalate_minutes`` (default 15) and then each of
``moderation.escalate_later_minutes`` (default 60). Each rung is its own one-shot scheduler job
(``mod-esc:<alert>`` for the first, ``mod-esc:<alert>:<n>`` after it), planned when the rung
before it has run, so the ladder survives a restart, follows the virtual clock and stops as soon
as the alert is handled. After the last rung only the daily digest lists the alert, every day
for as long as it stays open. The ladder is bounded: at most five later rungs, within a day.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.scheduler import At
from handlers.moderation.alerting import send_alert
from handlers.moderation.ladder import ladder
from handlers.moderation.service import BOT_ACTOR, JOB_ESCALATE, get_state
from handlers.moderation.settings import ModerationSettings

if TYPE_CHECKING:
    from bot.services import Services


def job_id(alert_id: int, rung: int) -> str:
    """The job of one rung (the first keeps the id it always had)."""
    return f"mod-esc:{alert_id}" if rung == 0 else f"mod-esc:{alert_id}:{rung}"


async def plan_rung(
    services: Services, group_id: int, alert_id: int, created_at: datetime, rung: int
) -> datetime | None:
    """Schedule rung ``rung`` of an alert's ladder; None when the ladder has no such rung."""
    rules = await services.settings.of(group_id, ModerationSettings)
    minutes = ladder(rules.escalate_minutes, rules.escalate_later_minutes)
    if rung >= len(minutes):
        return None
    # A rung already due (the bot was down, or the ladder changed) runs at once, not never.
    at = max(created_at + timedelta(minutes=minutes[rung]), services.clock.now() + timedelta(seconds=1))
    await services.scheduler.schedule(
        job_id(alert_id, rung), JOB_ESCALATE, At(at), {"alert": alert_id, "rung": rung}, group_id=group_id
    )
    return at


async def cancel_ladder(services: Services, alert_id: int) -> None:
    """Drop every rung still planned for an alert (it was handled)."""
    await services.scheduler.cancel(job_id(alert_id, 0))
    for job in await services.scheduler.list(f"mod-esc:{alert_id}:"):
        await services.scheduler.cancel(job.id)


async def run_escalate_job(services: Services, job: Any, fire_time: datetime) -> None:
    """A red alert still open at a rung: alert again, mentioning moderators, and plan the next rung."""
    state = get_state(services)
    alert = await state.repos.alerts.alert(int(job.payload.get("alert", 0)))
    if alert is None or alert.status != "open":
        return
    group = await services.directory.group_by_id(alert.group_id)
    if group is None:
        return
    await send_alert(services, group, alert.id, escalation=True)
    await state.repos.audit.log(
        group.id,
        services.clock.now(),
        BOT_ACTOR,
        "escalated",
        "",
        member_id=alert.member_id,
        alert_id=alert.id,
    )
    await plan_rung(services, group.id, alert.id, alert.created_at, int(job.payload.get("rung", 0)) + 1)
