"""Helpers the planning features share: repositories, where to post, quiet hours, points."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.args import BadArgument
from bot.clock import zone
from bot.errors import QunyouError
from bot.events import ChatRef, SentMessage, UserRef
from bot.messages import OutgoingMessage
from bot.roles import Role
from bot.scheduler import At, JobHandler
from handlers.schedule.quiet import deferred_until, window_from_setting
from handlers.schedule.timeparse import TimeError
from storage.activities import ActivitiesRepo
from storage.schedules import ScheduleRepo
from storage.topics import TopicRepo

if TYPE_CHECKING:
    from bot.context import Context
    from bot.services import Services
    from storage.models import Group, Job, Member

log = logging.getLogger(__name__)

STATE_KEY = "schedule"
QUIET_KEY = "schedule.quiet_hours"
#: What a bad-input reply quotes of the member's text: enough to recognise, never a wall of text.
EXCERPT = 24


@dataclass
class PlanState:
    """Runtime state of the planning features, kept in ``services.state`` (never module globals)."""

    topics: TopicRepo
    schedules: ScheduleRepo
    events: ActivitiesRepo
    #: group id → message ids of recent topic posts, so the reply listener needs no query per message.
    topic_messages: dict[int, set[str]]


def plan(services: Services) -> PlanState:
    """The shared state, created on first use."""
    st = services.state.get(STATE_KEY)
    if st is None:
        st = PlanState(TopicRepo(services.db), ScheduleRepo(services.db), ActivitiesRepo(services.db), {})
        services.state[STATE_KEY] = st
    return st


def excerpt(text: str) -> str:
    """A short, single-line quote of member input for an error reply."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1] + "…"


def bad_time(ctx: Context, err: TimeError) -> BadArgument:
    """A parser failure as the core's ``BadArgument``, quoting only a short excerpt."""
    values: dict[str, Any] = dict(err.kw)
    if "part" in values:
        values["part"] = excerpt(str(values["part"]))
    if "field" in values:
        values["field"] = ctx.t(f"schedule.field_{values['field']}")
    return BadArgument(err.key, **values)


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
    if services.alerts is None:
        await send(services, services.directory.chat_for(group), message, group.language)
        return
    try:
        await services.alerts.notify(group, message)
    except QunyouError as exc:
        log.warning("could not alert moderators of group %s: %s", group.id, exc)


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

    The deferred run is its own job row, so it survives restarts and is claimed like any other job:
    deferred, it is still posted exactly once. Its id is derived from where it goes (the job and the
    end of the window), not from the run it replaces: every run of a repeating job deferred to the
    same morning shares one row, so a per-minute schedule leaves one row a night, not 600, and
    posts once when the window ends (the last run's payload wins). Runs deferred earlier and
    already finished are pruned here too (``prunes_deferred`` removes them at completion; this
    catches a crash between the run and its prune, and rows from before that existed).
    """
    if job.payload.get("deferred_from"):
        return False
    window = window_from_setting(await services.settings.get(group.id, QUIET_KEY))
    target = deferred_until(window, fire, tz_of(group), urgent=urgent, event_start=event_start)
    if target <= fire:
        return False
    payload = {**job.payload, "deferred_from": fire.isoformat()}
    deferred_id = f"{job.id}~{target.strftime('%Y%m%dT%H%M')}"
    for earlier in await services.scheduler.list(f"{job.id}~"):
        if earlier.id != deferred_id and earlier.next_run_at is None and not earlier.paused:
            await services.scheduler.cancel(earlier.id)  # spent: claimed and run, never fires again
    await services.scheduler.schedule(deferred_id, job.kind, At(target), payload, group_id=group.id)
    log.info("job %s deferred by quiet hours from %s to %s", job.id, fire.isoformat(), target.isoformat())
    return True


def prunes_deferred(handler: JobHandler) -> JobHandler:
    """``handler`` for a job kind that ``defer_if_quiet`` may defer, deleting a deferred run's row
    once the run is over.

    Safe against posting twice: the scheduler claimed the row (moved it past its only fire time)
    before the run started, so it could never fire again anyway, and a restart does not rebuild
    spent rows; keeping it served nothing but growth (one row per skipped run).
    """

    async def run(services: Services, job: Job, fire: datetime) -> None:
        try:
            await handler(services, job, fire)
        finally:
            if job.payload.get("deferred_from"):
                await services.scheduler.cancel(job.id)

    run.__qualname__ = getattr(handler, "__qualname__", "deferrable")
    return run


def _checkin_module(services: Services) -> Any | None:
    """The check-in feature's module when it is installed and enabled, else None.

    Points belong to the check-in feature; topics and activities credit them through its public
    ``award``. Without that feature the planning features still work, they just award nothing.
    """
    if not any(getattr(f, "name", None) == "checkin" for f in services.features):
        return None
    try:
        import handlers.checkin as checkin
    except ImportError:
        return None
    return checkin


async def award(
    services: Services,
    member: Member,
    points: int,
    kind: str,
    reason: str,
    *,
    chat: ChatRef | None = None,
    counters: dict[str, int] | None = None,
) -> bool:
    """Credit points (and badge counters) through the check-in feature; False when unavailable."""
    checkin = _checkin_module(services)
    if checkin is None or not hasattr(checkin, "award"):
        log.info("no points feature: %s points for member %s (%s) not credited", points, member.id, kind)
        return False
    try:
        await checkin.award(services, member, points, kind, reason, chat=chat, counters=counters or None)
    except (QunyouError, ValueError) as exc:
        log.warning("award to member %s failed: %s", member.id, exc)
        return False
    return True


async def checked_in_since(services: Services, group: Group, member: Member) -> bool | None:
    """Whether the member has ever checked in (None: the check-in feature is not there)."""
    checkin = _checkin_module(services)
    try:
        repo = checkin.state(services).repo if checkin is not None else None
        if repo is None:
            return None
        status = await repo.checkin_status(
            group.id, member.id, services.clock.now().astimezone(tz_of(group)).date()
        )
        return bool(status.total)
    except (AttributeError, KeyError, QunyouError) as exc:
        log.info("check-in status unavailable: %s", exc)
        return None


async def points_of(services: Services, group: Group, member: Member) -> int | None:
    """The member's balance (None: the check-in feature is not there)."""
    checkin = _checkin_module(services)
    try:
        repo = checkin.state(services).repo if checkin is not None else None
        if repo is None:
            return None
        balance, _ = await repo.balance(group.id, member.id)
        return int(balance)
    except (AttributeError, KeyError, QunyouError) as exc:
        log.info("points balance unavailable: %s", exc)
        return None
