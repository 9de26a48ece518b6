"""Helpers for features that plan posts: where a post goes, sending it once from a job, quiet hours.

Generic scheduling helpers with no tables of their own, shared by the topics, schedules,
activities and onboarding features (and open to any other). Quiet hours themselves belong to the
schedules feature; a feature reaches them through the ``QuietHours`` port (``defer_for_quiet_hours``),
and ``defer_run`` / ``prunes_deferred`` are the mechanism that port uses to re-plan a run.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.args import BadArgument
from bot.clock import zone
from bot.errors import QunyouError
from bot.events import ChatRef, SentMessage, UserRef
from bot.messages import OutgoingMessage
from bot.ports import QuietHours
from bot.roles import Role
from bot.scheduler import At, JobHandler

if TYPE_CHECKING:
    from bot.context import Context
    from bot.services import Services
    from storage.models import Group, Job, Member

log = logging.getLogger(__name__)

#: The payload key of a run re-planned by ``defer_run``: the fire time it was deferred from.
DEFERRED_FROM = "deferred_from"


def check_length(ctx: Context, text: str, key: str = "schedule.err_too_long") -> None:
    """Refuse text the platform could not post in one message."""
    limit = ctx.adapter.max_text_length
    if len(text) > limit:
        raise BadArgument(key, limit=limit, length=len(text))


def tz_of(group: Group) -> ZoneInfo:
    """The group's timezone."""
    return zone(group.timezone)


def channel_of(chat: ChatRef) -> str | None:
    """The channel to remember for a planned post: None when it is the group's own chat.

    Telegram gives a group a new id when it becomes a supergroup; the core moves ``scope_id`` along,
    and a post that stored None follows it instead of aiming at the dead chat id.
    """
    return None if chat.channel_id == chat.scope_id else chat.channel_id


def chat_of(
    services: Services, group: Group, channel_id: str | None, thread_id: str | None = None
) -> ChatRef:
    """Where a planned post goes: the channel it was planned in (a Discord guild has many)."""
    chat = services.directory.chat_for(group, channel_id)
    if thread_id is None:
        return chat
    return ChatRef(
        platform=chat.platform,
        adapter=chat.adapter,
        scope_id=chat.scope_id,
        channel_id=chat.channel_id,
        kind=chat.kind,
        thread_id=thread_id,
        title=chat.title,
    )


def user_ref(services: Services, member: Member, group: Group) -> UserRef:
    """A mentionable reference to a stored member."""
    return services.directory.user_ref(member, group.platform)


async def is_moderator(ctx: Context) -> bool:
    """True when the caller may use moderator sub-commands."""
    return await ctx.role() >= Role.MODERATOR


async def refuse(ctx: Context) -> None:
    """The core's polite refusal, the same for every command."""
    await ctx.reply(ctx.t("core.denied"))


async def send(services: Services, chat: ChatRef, message: OutgoingMessage, lang: str) -> SentMessage | None:
    """Post from a scheduled job; a platform failure is logged, never raised into the scheduler."""
    try:
        return await services.send(chat, message, lang)
    except QunyouError as exc:
        log.warning("could not post to %s/%s: %s", chat.adapter, chat.channel_id, exc)
        return None


async def send_once(
    services: Services, job: Job, fire: datetime, chat: ChatRef, message: OutgoingMessage, lang: str
) -> SentMessage | None:
    """Send the one message of a scheduled run, so that a re-run after a crash does not repeat it.

    The platform's message id is recorded with the run's lease right after the send; a re-run that
    finds it knows the message already went out. One window remains: a crash after the platform
    accepted the message and before that id is committed (one small UPDATE). The re-run cannot tell
    and sends again, since none of our platforms can be asked whether a message went out.
    """
    lease = services.scheduler.lease(job.id, fire)
    if lease is not None and lease.message_id is not None:
        log.info("job %s at %s: already sent as message %s before a restart", job.id, fire, lease.message_id)
        return None
    sent = await send(services, chat, message, lang)
    if sent is not None:
        await services.scheduler.record_sent(job.id, fire, sent.message_id)
    return sent


def is_rerun(services: Services, job: Job, fire: datetime) -> bool:
    """True when this run is being run again after a crash cut it short."""
    lease = services.scheduler.lease(job.id, fire)
    return lease is not None and lease.attempts > 1


async def notify_moderators(services: Services, group: Group, message: OutgoingMessage) -> None:
    """An alert to the group's moderators (their chat, else privately, else the group)."""
    try:
        await services.alerts.notify(group, message)
    except QunyouError as exc:
        log.warning("could not alert moderators of group %s: %s", group.id, exc)


async def defer_for_quiet_hours(
    services: Services, group: Group, job: Job, fire: datetime, *, event_start: datetime | None = None
) -> bool:
    """True when this run waits for the end of the group's quiet hours (the caller posts nothing now).

    Quiet hours belong to the schedules feature: honoured through the ``QuietHours`` port when a
    listed feature provides it, and without it every post goes out when due.
    """
    quiet = services.ports.find(QuietHours)
    return quiet is not None and await quiet.defer(group, job, fire, event_start=event_start)


async def defer_run(services: Services, group: Group, job: Job, fire: datetime, target: datetime) -> None:
    """Re-plan the run of ``job`` due at ``fire`` for the later instant ``target``.

    The deferred run is its own job row, so it survives restarts and is claimed like any other job:
    deferred, it is still posted exactly once. Its id is derived from where it goes (the job and the
    target), not from the run it replaces: every run of a repeating job deferred to the same
    morning shares one row, so a per-minute schedule leaves one row a night, not 600, and posts
    once when the window ends (the last run's payload wins). Runs deferred earlier and already
    finished are pruned here too (``prunes_deferred`` removes them at completion; this catches a
    crash between the run and its prune, and rows from before that existed).
    """
    payload = {**job.payload, DEFERRED_FROM: fire.isoformat()}
    deferred_id = f"{job.id}~{target.strftime('%Y%m%dT%H%M')}"
    for earlier in await services.scheduler.list(f"{job.id}~"):
        if earlier.id != deferred_id and earlier.next_run_at is None and not earlier.paused:
            await services.scheduler.cancel(earlier.id)  # spent: claimed and run, never fires again
    await services.scheduler.schedule(deferred_id, job.kind, At(target), payload, group_id=group.id)
    log.info("job %s deferred by quiet hours from %s to %s", job.id, fire.isoformat(), target.isoformat())


def prunes_deferred(handler: JobHandler[Services]) -> JobHandler[Services]:
    """``handler`` for a job kind that ``defer_run`` may defer, deleting a deferred run's row
    once the run is over.

    Safe against posting twice: the scheduler claimed the row (moved it past its only fire time)
    before the run started, so it could never fire again anyway, and a restart does not rebuild
    spent rows; keeping it served nothing but growth (one row per skipped run).
    """

    async def run(services: Services, job: Job, fire: datetime) -> None:
        try:
            await handler(services, job, fire)
        finally:
            if job.payload.get(DEFERRED_FROM):
                await services.scheduler.cancel(job.id)

    run.__qualname__ = getattr(handler, "__qualname__", "deferrable")
    return run
