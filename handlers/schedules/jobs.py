"""The scheduled-post job: one ``sched:<id>`` scheduler job per ``scheduled_posts`` row.

The job's trigger runs in the group's timezone; the job re-reads the row, so a paused or deleted
post never goes out.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.media import with_picture
from bot.mentions import call_circles
from bot.messages import OutgoingMessage
from bot.planned_posts import DEFERRED_FROM, chat_of, is_rerun, send_once, tz_of
from bot.scheduler import At, Cron, Trigger
from bot.timeparse import CronSpec, OnceSpec, repeated_wall_time
from handlers.schedules.deferral import defer_if_quiet
from handlers.schedules.state import post_repo
from storage.schedules import ScheduledPost

if TYPE_CHECKING:
    from bot.services import Services
    from storage.models import Group, Job

log = logging.getLogger(__name__)

KIND = "schedule-post"


def job_id(post_id: int) -> str:
    """The scheduler job of a post."""
    return f"sched:{post_id}"


def picture_owner(post_id: int) -> str:
    """The post's name in the media store (``bot.media``)."""
    return f"schedule:{post_id}"


def spec_to_dict(spec: CronSpec | OnceSpec) -> dict[str, Any]:
    """The trigger spec as stored on the post row."""
    if isinstance(spec, OnceSpec):
        return {"type": "at", "at": spec.at.astimezone(UTC).isoformat()}
    return {
        "type": "cron",
        "minute": spec.minute,
        "hour": spec.hour,
        "day": spec.day,
        "month": spec.month,
        "day_of_week": spec.day_of_week,
    }


def trigger_of(spec: dict[str, Any], tz: str) -> Trigger:
    """The scheduler trigger for a stored spec, in the group's timezone."""
    if spec["type"] == "at":
        return At(datetime.fromisoformat(spec["at"]))
    return Cron(
        tz=tz,
        minute=spec["minute"],
        hour=spec["hour"],
        day=spec["day"],
        month=spec["month"],
        day_of_week=spec["day_of_week"],
    )


async def plan_post(services: Services, group: Group, post: ScheduledPost) -> datetime | None:
    """(Re)create the post's job; returns its next run."""
    return await services.scheduler.schedule(
        job_id(post.id), KIND, trigger_of(post.spec, group.timezone), {"post_id": post.id}, group_id=group.id
    )


async def run_post(services: Services, job: Job, fire: datetime) -> None:
    """Post a scheduled message (or defer it past quiet hours); once per local wall time.

    Registered ``rerun=True``: a run a crash cut short runs again at start, so every step here is
    safe to repeat for one fire time (see ``send_once`` for the one window that remains).
    """
    post = await post_repo(services).get(int(job.payload["post_id"]))
    if post is None or post.paused:
        return
    group = await services.directory.group_by_id(post.group_id)
    if group is None or not group.active:
        return
    if job.trigger.get("tz", group.timezone) != group.timezone:
        # The group moved to another timezone since this was planned: re-plan in the new one.
        await plan_post(services, group, post)
        return
    tz = tz_of(group)
    origin = datetime.fromisoformat(job.payload[DEFERRED_FROM]) if job.payload.get(DEFERRED_FROM) else fire
    if not job.payload.get(DEFERRED_FROM) and repeated_wall_time(fire, tz):
        log.info("post %s: %s repeats a wall time after a DST fall-back; already posted", post.id, fire)
        return
    if await defer_if_quiet(services, group, job, fire, urgent=post.urgent):
        return
    local_key = origin.astimezone(tz).strftime("%Y-%m-%dT%H:%M")
    # A re-run finds this wall time already marked by the attempt a crash cut short: that mark says
    # the post was due, not that it went out (the lease's message id says that, in ``send_once``).
    resumed = is_rerun(services, job, fire) and post.last_local == local_key
    if post.done and not resumed:
        return
    if not resumed and not await post_repo(services).mark_posted(
        post.id, local_key, done=post.spec["type"] == "at"
    ):
        return
    chat = chat_of(services, group, post.channel_id, post.thread_id)
    message = await with_picture(services, group, chat, picture_owner(post.id), OutgoingMessage.of(post.text))
    if await send_once(services, job, fire, chat, message, group.language) is not None:
        await call_circles(services, group, chat, post.text)
