"""Activities (活动): sign-ups with a waitlist, a timeline of posts, attendance and feedback.

Timeline of an activity starting at T (each step a scheduler job ``ev:<id>:<phase>``):
T−3d and T−1d countdowns (预热), T−1h reminder mentioning the participants, the start post at T,
a feedback post with 1–5 buttons at T+1d, and the average to the moderators when feedback closes
48 h later.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.args import BadArgument, UsageError, button_fields, decode_id, parse_id, parse_int
from bot.events import ButtonPressed, UserRef
from bot.feature import Feature
from bot.messages import Button, Mention, OutgoingMessage, Part, Text
from bot.router import Router
from bot.scheduler import At, trigger_to_dict
from bot.settings import SettingSpec, int_range
from handlers.schedule.common import (
    award,
    bad_time,
    channel_of,
    chat_of,
    check_length,
    defer_if_quiet,
    excerpt,
    is_moderator,
    is_rerun,
    notify_moderators,
    plan,
    prunes_deferred,
    refuse,
    send_once,
    tz_of,
    user_ref,
)
from handlers.schedule.timeparse import TimeError, localize, parse_duration, parse_start, shift_days
from storage.activities import Activity, PlannedJob

if TYPE_CHECKING:
    from bot.context import Context
    from bot.services import Services
    from storage.models import Group, Job, Member

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
router = Router("events")


def job_id(activity_id: int, phase: str) -> str:
    """The scheduler job of one phase of an activity."""
    return f"ev:{activity_id}:{phase}"


def _local(instant: datetime, group: Group) -> str:
    return instant.astimezone(tz_of(group)).strftime("%Y-%m-%d %H:%M")


def _duration_text(services: Services, lang: str, seconds: int) -> str:
    hours, rest = divmod(seconds // 60, 60)
    if hours and rest:
        return services.i18n.t(lang, "events.dur_hm", h=hours, m=rest)
    if hours:
        return services.i18n.t(lang, "events.dur_h", h=hours)
    return services.i18n.t(lang, "events.dur_m", m=rest)


def rsvp_buttons(services: Services, lang: str, activity_id: int) -> tuple[tuple[Button, ...], ...]:
    """Join / Cancel (参加 / 取消) under an announcement."""
    t = services.i18n.t
    return (
        (
            Button(t(lang, "events.btn_join"), f"ev:join:{activity_id}", command=f"/join {activity_id}"),
            Button(t(lang, "events.btn_leave"), f"ev:leave:{activity_id}", command=f"/leave {activity_id}"),
        ),
    )


def _details(services: Services, group: Group, act: Activity) -> str:
    lang = group.language
    t = services.i18n.t
    lines = [
        t(lang, "events.card_title", id=act.id, title=act.title),
        t(
            lang,
            "events.card_when",
            start=_local(act.start_at, group),
            tz=group.timezone,
            duration=_duration_text(services, lang, act.duration_s),
        ),
    ]
    if act.capacity:
        lines.append(t(lang, "events.card_capacity", capacity=act.capacity))
    if act.description:
        lines.append(act.description)
    return "\n".join(lines)


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

    act = await plan(services).events.add(group_id=group.id, now=now, jobs=jobs, **fields)
    for job in jobs(act.id):
        # The rows are committed already; this rewrites them unchanged and, what matters, puts them
        # in the scheduler's in-memory index so they fire without a restart.
        await services.scheduler.schedule(job.id, KIND, At(job.next_run_at), job.payload, group_id=group.id)
    return act


async def cancel_timeline(services: Services, activity_id: int) -> None:
    """Remove every pending phase job of an activity (deferred ones included)."""
    for job in await services.scheduler.list(f"ev:{activity_id}:"):
        await services.scheduler.cancel(job.id)


def _mentions(services: Services, group: Group, people: list[Member]) -> tuple[Part, ...]:
    parts: list[Part] = []
    for i, member in enumerate(people):
        if i:
            parts.append(Text(" "))
        parts.append(Mention(user_ref(services, member, group)))
    return tuple(parts)


# ------------------------------------------------------------------------------ the timeline


async def run_phase(services: Services, job: Job, fire: datetime) -> None:
    """One step of an activity's timeline; re-reads the activity so a cancelled one stays quiet."""
    st = plan(services)
    act = await st.events.by_id(int(job.payload["activity_id"]))
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
        if await defer_if_quiet(services, group, job, fire, event_start=act.start_at):
            return
        going = [r.member for r in await st.events.rsvps(act.id) if r.status == "going"]
        key = {"t3d": "events.countdown_3d", "t1d": "events.countdown_1d", "t1h": "events.reminder_1h"}[phase]
        parts: tuple[Part, ...] = (
            Text(
                t(lang, key, id=act.id, title=act.title, start=_local(act.start_at, group), count=len(going))
            ),
        )
        notify: tuple[UserRef, ...] = ()
        if phase == "t1h" and going:
            parts = (*parts, Text("\n"), *_mentions(services, group, going))
            notify = tuple(user_ref(services, m, group) for m in going)
        buttons = None if phase == "t1h" else rsvp_buttons(services, lang, act.id)
        message = OutgoingMessage(parts=parts, buttons=buttons, notify=notify)
        await send_once(services, job, fire, chat, message, lang)
    elif phase == "start":
        text = t(lang, "events.starting", id=act.id, title=act.title, end=_local(act.end_at, group))
        await send_once(services, job, fire, chat, OutgoingMessage.of(text), lang)
    elif phase == "feedback":
        if await defer_if_quiet(services, group, job, fire):
            return
        row = tuple(
            Button(str(n), f"ev:rate:{act.id}:{n}", command=f"/rate {act.id} {n}") for n in range(1, 6)
        )
        text = t(lang, "events.feedback", id=act.id, title=act.title)
        sent = await send_once(
            services, job, fire, chat, OutgoingMessage(parts=(Text(text),), buttons=(row,)), lang
        )
        if sent is not None:
            await st.events.set_message(act.id, sent.message_id, feedback=True)
    elif phase == "summary":
        if is_rerun(services, job, fire):
            # It goes to the moderators' chat or to each moderator (no one message id to record):
            # after a crash mid-run it stays at most once rather than risk sending it twice.
            log.info("activity %s: summary run cut short by a crash is not repeated", act.id)
            return
        count, avg = await st.events.rating_summary(act.id)
        key = "events.summary" if count else "events.summary_none"
        text = t(
            lang, key, id=act.id, title=act.title, count=count, avg=f"{avg:.1f}" if avg is not None else "-"
        )
        await notify_moderators(services, group, OutgoingMessage.of(text))


# ------------------------------------------------------------------------------- commands


@router.command("event", usage="events.usage", help="events.help")
async def event_cmd(ctx: Context) -> None:
    """``/event add|info|cancel``."""
    if not ctx.args:
        raise UsageError()
    sub = ctx.args[0].lower()
    if sub in ("info", "详情"):
        await _info(ctx)
        return
    if sub not in ("add", "添加", "新增", "cancel", "取消"):
        # Any member can reach this: the reply does not quote what they typed (see topics.err_sub).
        raise BadArgument("events.err_sub")
    if not await is_moderator(ctx):
        await refuse(ctx)
        return
    if sub == "cancel" or sub == "取消":
        await _cancel(ctx)
    else:
        await _add(ctx)


async def _add(ctx: Context) -> None:
    assert ctx.group is not None
    body = ctx.arg_text.strip().split(maxsplit=1)
    fields = [f.strip() for f in (body[1] if len(body) > 1 else "").replace("｜", "|").split("|")]
    if len(fields) < 2:
        raise UsageError()
    if len(fields) > 5:
        raise BadArgument("events.err_fields", count=len(fields))
    title = fields[0]
    if not title:
        raise BadArgument("events.err_title")
    if len(title) > MAX_TITLE:
        raise BadArgument("events.err_title_long", limit=MAX_TITLE, length=len(title))
    try:
        start = parse_start(fields[1], ctx.zone, ctx.now)
        duration = parse_duration(fields[2]) if len(fields) > 2 and fields[2] else DEFAULT_DURATION
    except TimeError as err:
        raise bad_time(ctx, err) from None
    description = fields[3] if len(fields) > 3 else ""
    capacity: int | None = None
    if len(fields) > 4 and fields[4]:
        try:
            capacity = parse_int(fields[4], min_value=1, max_value=100_000)
        except BadArgument:
            raise BadArgument("events.err_capacity", part=excerpt(fields[4])) from None
    check_length(ctx, description)
    st = plan(ctx.services)
    act = await create_activity(
        ctx.services,
        ctx.group,
        channel_id=channel_of(ctx.chat),
        thread_id=ctx.chat.thread_id,
        title=title,
        description=description,
        start_at=start,
        duration_s=int(duration.total_seconds()),
        capacity=capacity,
        created_by=ctx.member.id if ctx.member else None,
    )
    text = (
        ctx.t("events.announce")
        + "\n"
        + _details(ctx.services, ctx.group, act)
        + "\n"
        + ctx.t("events.how_to_join", id=act.id)
    )
    sent = await ctx.send(
        OutgoingMessage(parts=(Text(text),), buttons=rsvp_buttons(ctx.services, ctx.lang, act.id))
    )
    await st.events.set_message(act.id, sent.message_id)


async def _find(ctx: Context, token: str | None) -> Activity:
    assert ctx.group is not None
    if token is None:
        raise UsageError()
    activity_id = parse_id(token)
    act = await plan(ctx.services).events.get(ctx.group.id, activity_id)
    if act is None:
        raise BadArgument("events.err_unknown", id=activity_id)
    return act


async def _info(ctx: Context) -> None:
    assert ctx.group is not None
    act = await _find(ctx, ctx.args[1] if len(ctx.args) > 1 else None)
    rsvps = await plan(ctx.services).events.rsvps(act.id)
    going = [r.member.display_name for r in rsvps if r.status == "going"]
    waiting = [r.member.display_name for r in rsvps if r.status == "waiting"]
    lines = [_details(ctx.services, ctx.group, act)]
    if act.status != "open":
        lines.append(ctx.t("events.is_cancelled"))
    cap = f"/{act.capacity}" if act.capacity else ""
    sep = ctx.t("events.name_sep")
    lines.append(ctx.t("events.going", count=len(going), cap=cap, names=sep.join(going) or "-"))
    if waiting:
        lines.append(ctx.t("events.waiting", count=len(waiting), names=sep.join(waiting)))
    await ctx.reply("\n".join(lines))


async def _cancel(ctx: Context) -> None:
    assert ctx.group is not None
    act = await _find(ctx, ctx.args[1] if len(ctx.args) > 1 else None)
    st = plan(ctx.services)
    people = [r.member for r in await st.events.rsvps(act.id)]
    if not await st.events.cancel(ctx.group.id, act.id):
        raise BadArgument("events.err_cancelled", id=act.id)
    await cancel_timeline(ctx.services, act.id)
    parts: tuple[Part, ...] = (Text(ctx.t("events.cancelled", id=act.id, title=act.title)),)
    if people:
        parts = (*parts, Text("\n"), *_mentions(ctx.services, ctx.group, people))
    notify = tuple(user_ref(ctx.services, m, ctx.group) for m in people)
    await ctx.send(OutgoingMessage(parts=parts, notify=notify))


@router.command("events", aliases=("活动",), usage="events.list_usage", help="events.list_help")
async def events_cmd(ctx: Context) -> None:
    """Upcoming activities."""
    assert ctx.group is not None
    st = plan(ctx.services)
    upcoming = await st.events.upcoming(ctx.group.id, ctx.now, limit=10)
    if not upcoming:
        await ctx.reply(ctx.t("events.none"))
        return
    lines = [ctx.t("events.list_head")]
    for act in upcoming:
        rsvps = await st.events.rsvps(act.id)
        going = sum(1 for r in rsvps if r.status == "going")
        waiting = len(rsvps) - going
        lines.append(
            ctx.t(
                "events.list_line",
                id=act.id,
                title=act.title,
                start=_local(act.start_at, ctx.group),
                going=going,
                cap=f"/{act.capacity}" if act.capacity else "",
                waiting=ctx.t("events.list_waiting", count=waiting) if waiting else "",
            )
        )
    await ctx.reply("\n".join(lines))


async def _join(ctx: Context, act: Activity) -> None:
    assert ctx.member is not None and ctx.group is not None
    if act.status != "open":
        raise BadArgument("events.err_cancelled", id=act.id)
    if act.start_at <= ctx.now:
        raise BadArgument("events.err_started", id=act.id)
    result = await plan(ctx.services).events.join(act.id, ctx.member.id, ctx.now)
    key = {
        "going": "events.joined",
        "waiting": "events.waitlisted",
        "already_going": "events.already_going",
        "already_waiting": "events.already_waiting",
        "closed": "events.err_cancelled",
    }[result.outcome]
    await ctx.reply(ctx.parts(key, user=ctx.user, id=act.id, title=act.title, position=result.position))


async def _leave(ctx: Context, act: Activity) -> None:
    assert ctx.member is not None and ctx.group is not None
    result = await plan(ctx.services).events.leave(act.id, ctx.member.id)
    key = {
        "left": "events.left",
        "left_waitlist": "events.left_waitlist",
        "not_joined": "events.not_joined",
        "closed": "events.err_cancelled",
    }[result.outcome]
    await ctx.reply(ctx.parts(key, user=ctx.user, id=act.id, title=act.title))
    if result.promoted is not None:
        promoted = user_ref(ctx.services, result.promoted, ctx.group)
        parts = ctx.parts("events.promoted", user=promoted, id=act.id, title=act.title)
        await ctx.send(OutgoingMessage(parts=parts, notify=(promoted,)))


@router.command("join", aliases=("参加", "报名"), usage="events.join_usage", help="events.join_help")
async def join_cmd(ctx: Context) -> None:
    """``/join ID``: where buttons are missing."""
    await _join(ctx, await _find(ctx, ctx.args[0] if ctx.args else None))


@router.command("leave", aliases=("取消报名",), usage="events.leave_usage", help="events.leave_help")
async def leave_cmd(ctx: Context) -> None:
    """``/leave ID``."""
    await _leave(ctx, await _find(ctx, ctx.args[0] if ctx.args else None))


@router.command("here", aliases=("到场",), usage="events.here_usage", help="events.here_help")
async def here_cmd(ctx: Context) -> None:
    """``/here ID`` during the activity: attendance and points."""
    assert ctx.group is not None and ctx.member is not None
    act = await _find(ctx, ctx.args[0] if ctx.args else None)
    if act.status != "open":
        raise BadArgument("events.err_cancelled", id=act.id)
    if not act.start_at - EARLY_CHECKIN <= ctx.now <= act.end_at:
        raise BadArgument("events.err_not_now", id=act.id, start=_local(act.start_at, ctx.group))
    if not await plan(ctx.services).events.attend(act.id, ctx.member.id, ctx.now):
        await ctx.reply(ctx.t("events.already_here", id=act.id))
        return
    points = int(await ctx.setting("events.attend_points"))
    credited = points > 0 and await award(
        ctx.services,
        ctx.member,
        points,
        "event",
        ctx.t("events.reason_attended", id=act.id, title=act.title),
        chat=ctx.chat,
        counters={"events_attended": 1},
    )
    key = "events.here_points" if credited else "events.here"
    await ctx.reply(ctx.parts(key, user=ctx.user, id=act.id, title=act.title, points=points))


@router.command("rate", usage="events.rate_usage", help="events.rate_help", hidden=True)
async def rate_cmd(ctx: Context) -> None:
    """``/rate ID N``: the feedback buttons' typed form."""
    if len(ctx.args) < 2:
        raise UsageError()
    act = await _find(ctx, ctx.args[0])
    await _rate(ctx, act, parse_int(ctx.args[1], min_value=1, max_value=5))


async def _rate(ctx: Context, act: Activity, rating: int) -> None:
    assert ctx.member is not None
    assert ctx.group is not None
    if act.status != "open" or ctx.now < act.end_at:
        raise BadArgument("events.err_rate_early", id=act.id)
    if ctx.now > shift_days(act.start_at, FEEDBACK_CLOSE_DAYS, tz_of(ctx.group)):
        raise BadArgument("events.err_rate_closed", id=act.id)
    st = plan(ctx.services)
    if not await st.events.took_part(act.id, ctx.member.id):
        raise BadArgument("events.err_rate_outsider", id=act.id)
    first = await st.events.rate(act.id, ctx.member.id, rating, ctx.now)
    await ctx.reply(ctx.t("events.rated" if first else "events.rerated", id=act.id, rating=rating))


@router.button("ev:")
async def on_button(ctx: Context) -> None:
    """Join / Cancel under announcements and countdowns; 1–5 under the feedback post."""
    event = ctx.event
    assert isinstance(event, ButtonPressed)
    # ``ev:join:ID``, ``ev:leave:ID`` or ``ev:rate:ID:N``; anything else is forged or stale.
    parts = button_fields(event.data, 4 if event.data.startswith("ev:rate:") else 3)
    activity_id = decode_id(parts[2]) if parts else None
    if parts is None or activity_id is None or ctx.group is None or ctx.member is None:
        return
    act = await plan(ctx.services).events.get(ctx.group.id, activity_id)
    if act is None:
        await ctx.reply(ctx.t("events.err_unknown", id=activity_id))
        return
    try:
        if parts[1] == "join":
            await _join(ctx, act)
        elif parts[1] == "leave":
            await _leave(ctx, act)
        elif parts[1] == "rate" and len(parts) == 4 and parts[3] in ("1", "2", "3", "4", "5"):
            await _rate(ctx, act, int(parts[3]))
    except BadArgument as err:
        await ctx.reply(ctx.t(err.key, **err.values))


async def demo(services: Services, group: Group, members: list[Member]) -> None:
    """The console demo: an activity the day after tomorrow at 20:00, with two people signed up."""
    t = services.i18n.t
    now = services.clock.now()
    tz = tz_of(group)
    start = localize(now.astimezone(tz).date() + timedelta(days=2), time(20, 0), tz)
    st = plan(services)
    act = await create_activity(
        services,
        group,
        channel_id=None,
        thread_id=None,
        title=t(group.language, "events.demo_title"),
        description=t(group.language, "events.demo_description"),
        start_at=start,
        duration_s=int(DEFAULT_DURATION.total_seconds()),
        capacity=3,
        created_by=members[1].id if len(members) > 1 else None,
    )
    for member in members[2:4]:
        await st.events.join(act.id, member.id, now)


async def startup(services: Services) -> None:
    """Register the timeline job kind."""
    # Re-run after a crash: each phase sends one message through ``send_once`` (or, the summary,
    # returns at once on a re-run), so a run cut short is completed without posting twice.
    services.scheduler.register(KIND, prunes_deferred(run_phase), rerun=True)


async def export(services: Services, member: Member) -> dict[str, object]:
    """What the activity feature keeps about a member."""
    return await plan(services).events.export_member(member.id)


async def forget(services: Services, member: Member) -> None:
    """Forget a member's sign-ups, attendance and ratings."""
    await plan(services).events.forget_member(member.id)


FEATURE = Feature(
    name="events",
    router=router,
    settings=[
        SettingSpec("events.attend_points", int_range(0, 10_000), 20, "points for /here at an activity"),
    ],
    startup=startup,
    export_member_data=export,
    delete_member_data=forget,
    demo=demo,
)
