"""An activity's timeline: each step a scheduler job ``ev:<id>:<phase>``.

T−3d and T−1d countdowns (预热), T−1h reminder mentioning the participants, the start post at T,
a feedback post with 1–5 buttons at T+1d, and the average to the moderators when feedback closes
48 h later.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.events import UserRef
from bot.messages import Button, OutgoingMessage, Part, Text
from bot.planned_posts import (
    chat_of,
    defer_for_quiet_hours,
    is_rerun,
    notify_moderators,
    send_once,
    tz_of,
    user_ref,
)
from bot.scheduler import At, trigger_to_dict
from bot.timeparse import shift_days
from handlers.activities.cards import local_time, mentions, rsvp_buttons
from handlers.activities.state import activities_repo
from storage.activities import Activity, PlannedJob

if TYPE_CHECKING:
    from bot.services import Services
    from storage.models import Group, Job

log = logging.getLogger(__name__)

KIND = "events-phase"
MAX_TITLE = 100
DEFAULT_DURATION = timedelta(hours=2)
#: ``/here`` is accepted from shortly before the start until the end.
EARLY_CHECKIN = timedelta(minutes=15)
#: Phase → (whole local days, then hours) from the start. Day offsets are taken on the group's
#: calendar, so a countdown "tomorrow at 15:00" stays at 15:00 across a DST change; the T−1h
#: reminder is an exact hour before.
PHASES: tuple[tuple[str, int, timedelta], ...] = (
    ("t3d", -3, timedelta(0)),
    ("t1d", -1, timedelta(0)),
    ("t1h", 0, timedelta(hours=-1)),
    ("start", 0, timedelta(0)),
    ("feedback", 1, timedelta(0)),
    ("summary", 3, timedelta(0)),
)
#: The articles recommend collecting feedback within 48 hours; the summary goes out when it closes.
FEEDBACK_CLOSE_DAYS = 3


def job_id(activity_id: int, phase: str) -> str:
    """The scheduler job of one phase of an activity."""
    return f"ev:{activity_id}:{phase}"


def timeline(start: datetime, tz: ZoneInfo, now: datetime) -> list[tuple[str, datetime]]:
    """The phases of an activity starting at ``start`` that still lie ahead, with their instants.

    Pure arithmetic, done before anything is written: a start it cannot handle fails here.
    """
    ahead = []
    for phase, days, offset in PHASES:
        at = shift_days(start, days, tz) + offset
        if at > now:
            ahead.append((phase, at))
    return ahead


async def create_activity(services: Services, group: Group, **fields: Any) -> Activity:
    """Store an activity and its timeline jobs in one transaction, then let the scheduler know.

    ``fields`` are ``ActivitiesRepo.add``'s (without ``group_id`` and ``now``). Reminders that cannot be
    computed or written leave no activity behind: one that is listed but never announced is worse
    than a refusal.
    """
    now = services.clock.now()
    phases = timeline(fields["start_at"], tz_of(group), now)

    def jobs(activity_id: int) -> list[PlannedJob]:
        return [
            PlannedJob(
                id=job_id(activity_id, phase),
                kind=KIND,
                trigger=trigger_to_dict(At(at)),
                payload={"activity_id": activity_id, "phase": phase},
                next_run_at=at,
            )
            for phase, at in phases
        ]

    act = await activities_repo(services).add(group_id=group.id, now=now, jobs=jobs, **fields)
    for job in jobs(act.id):
        # The rows are committed already; this rewrites them unchanged and, what matters, puts them
        # in the scheduler's in-memory index so they fire without a restart.
        await services.scheduler.schedule(job.id, KIND, At(job.next_run_at), job.payload, group_id=group.id)
    return act


async def cancel_timeline(services: Services, activity_id: int) -> None:
    """Remove every pending phase job of an activity (deferred ones included)."""
    for job in await services.scheduler.list(f"ev:{activity_id}:"):
        await services.scheduler.cancel(job.id)


async def run_phase(services: Services, job: Job, fire: datetime) -> None:
    """One step of an activity's timeline; re-reads the activity so a cancelled one stays quiet."""
    st = activities_repo(services)
    act = await st.by_id(int(job.payload["activity_id"]))
    if act is None or act.status != "open":
        return
    group = await services.directory.group_by_id(act.group_id)
    if group is None or not group.active:
        return
    phase = str(job.payload["phase"])
    lang = group.language
    t = services.i18n.t
    chat = chat_of(services, group, act.channel_id, act.thread_id)
    if phase in ("t3d", "t1d", "t1h"):
        if await defer_for_quiet_hours(services, group, job, fire, event_start=act.start_at):
            return
        going = [r.member for r in await st.rsvps(act.id) if r.status == "going"]
        key = {"t3d": "events.countdown_3d", "t1d": "events.countdown_1d", "t1h": "events.reminder_1h"}[phase]
        parts: tuple[Part, ...] = (
            Text(
                t(
                    lang,
                    key,
                    id=act.id,
                    title=act.title,
                    start=local_time(act.start_at, group),
                    count=len(going),
                )
            ),
        )
        notify: tuple[UserRef, ...] = ()
        if phase == "t1h" and going:
            parts = (*parts, Text("\n"), *mentions(services, group, going))
            notify = tuple(user_ref(services, m, group) for m in going)
        buttons = None if phase == "t1h" else rsvp_buttons(services, lang, act.id)
        message = OutgoingMessage(parts=parts, buttons=buttons, notify=notify)
        await send_once(services, job, fire, chat, message, lang)
    elif phase == "start":
        text = t(lang, "events.starting", id=act.id, title=act.title, end=local_time(act.end_at, group))
        await send_once(services, job, fire, chat, OutgoingMessage.of(text), lang)
    elif phase == "feedback":
        if await defer_for_quiet_hours(services, group, job, fire):
            return
        row = tuple(
            Button(str(n), f"ev:rate:{act.id}:{n}", command=f"/rate {act.id} {n}") for n in range(1, 6)
        )
        text = t(lang, "events.feedback", id=act.id, title=act.title)
        sent = await send_once(
            services, job, fire, chat, OutgoingMessage(parts=(Text(text),), buttons=(row,)), lang
        )
        if sent is not None:
            await st.set_message(act.id, sent.message_id, feedback=True)
    elif phase == "summary":
        if is_rerun(services, job, fire):
            # It goes to the moderators' chat or to each moderator (no one message id to record):
            # after a crash mid-run it stays at most once rather than risk sending it twice.
            log.info("activity %s: summary run cut short by a crash is not repeated", act.id)
            return
        count, avg = await st.rating_summary(act.id)
        key = "events.summary" if count else "events.summary_none"
        text = t(
            lang, key, id=act.id, title=act.title, count=count, avg=f"{avg:.1f}" if avg is not None else "-"
        )
        await notify_moderators(services, group, OutgoingMessage.of(text))
