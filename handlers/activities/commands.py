"""Activity commands (活动): ``/event add|info|cancel``, ``/events``, ``/join``, ``/leave``, ``/here``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.args import BadArgument, UsageError, parse_int
from bot.media import attach_picture, picked_image, split_image_word, with_picture
from bot.mentions import call_circles
from bot.messages import Button, OutgoingMessage, Part, Text
from bot.params import Id, Int, Rest
from bot.planned_posts import channel_of, check_length, tz_of, user_ref
from bot.points_access import award
from bot.roles import Role
from bot.router import Router
from bot.timeparse import TimeError, bad_time, excerpt, parse_duration, parse_start, shift_days
from handlers.activities import signup
from handlers.activities.cards import details, local_time, mentions, rsvp_buttons
from handlers.activities.jobs import (
    DEFAULT_DURATION,
    EARLY_CHECKIN,
    FEEDBACK_CLOSE_DAYS,
    MAX_TITLE,
    cancel_timeline,
    create_activity,
)
from handlers.activities.settings import EventsSettings
from handlers.activities.state import activities_repo
from storage.activities import Activity

if TYPE_CHECKING:
    from bot.context import Context

router = Router("events")


event = router.group("event", usage="events.usage", help="events.help", unknown_sub="events.err_sub")
# An unknown word is answered without quoting it: any member can reach that reply (see topics).
_ID = Id("activity_id")


@event.sub("info", aliases=("详情",), args=[_ID])
async def event_info(ctx: Context, activity_id: int) -> None:
    """``/event info ID``."""
    await _info(ctx, activity_id)


@event.sub(
    "add", aliases=("添加", "新增"), args=[Rest("body", optional=True, default="")], min_role=Role.MODERATOR
)
async def event_add(ctx: Context, body: str) -> None:
    """``/event add title | start [| duration | description | capacity]``."""
    await _add(ctx, body)


@event.sub("cancel", aliases=("取消",), args=[_ID], min_role=Role.MODERATOR)
async def event_cancel(ctx: Context, activity_id: int) -> None:
    """``/event cancel ID``."""
    await _cancel(ctx, activity_id)


async def _add(ctx: Context, body: str) -> None:
    assert ctx.group is not None
    image_name, body = split_image_word(body)
    fields = [f.strip() for f in body.replace("｜", "|").split("|")]
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
    media_id = await picked_image(ctx, image_name)  # before the activity: a refusal leaves none
    st = activities_repo(ctx.services)
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
        + details(ctx.services, ctx.group, act)
        + "\n"
        + ctx.t("events.how_to_join", id=act.id)
    )
    owner = f"event:{act.id}"
    await attach_picture(ctx.services, ctx.group, owner, media_id)
    announcement = OutgoingMessage(parts=(Text(text),), buttons=rsvp_buttons(ctx.services, ctx.lang, act.id))
    sent = await ctx.send(await with_picture(ctx.services, ctx.group, ctx.chat, owner, announcement))
    await st.set_message(act.id, sent.message_id)
    await call_circles(ctx.services, ctx.group, ctx.chat, f"{act.title} {act.description or ''}")


async def _find(ctx: Context, activity_id: int) -> Activity:
    assert ctx.group is not None
    act = await activities_repo(ctx.services).get(ctx.group.id, activity_id)
    if act is None:
        raise BadArgument("events.err_unknown", id=activity_id)
    return act


async def _info(ctx: Context, activity_id: int) -> None:
    assert ctx.group is not None
    act = await _find(ctx, activity_id)
    rsvps = await activities_repo(ctx.services).rsvps(act.id)
    if act.kind == "signup":  # a sign-up list: the list itself
        await ctx.reply(signup.list_text(ctx.services, ctx.group, act, rsvps))
        return
    going = [r.member.display_name for r in rsvps if r.status == "going"]
    waiting = [r.member.display_name for r in rsvps if r.status == "waiting"]
    lines = [details(ctx.services, ctx.group, act)]
    if act.status != "open":
        lines.append(ctx.t("events.is_cancelled"))
    cap = f"/{act.capacity}" if act.capacity else ""
    sep = ctx.t("events.name_sep")
    lines.append(ctx.t("events.going", count=len(going), cap=cap, names=sep.join(going) or "-"))
    if waiting:
        lines.append(ctx.t("events.waiting", count=len(waiting), names=sep.join(waiting)))
    await ctx.reply("\n".join(lines))


async def _cancel(ctx: Context, activity_id: int) -> None:
    assert ctx.group is not None
    act = await _find(ctx, activity_id)
    st = activities_repo(ctx.services)
    people = [r.member for r in await st.rsvps(act.id)]
    if not await st.cancel(ctx.group.id, act.id):
        raise BadArgument("events.err_cancelled", id=act.id)
    await cancel_timeline(ctx.services, act.id)
    parts: tuple[Part, ...] = (Text(ctx.t("events.cancelled", id=act.id, title=act.title)),)
    if people:
        parts = (*parts, Text("\n"), *mentions(ctx.services, ctx.group, people))
    notify = tuple(user_ref(ctx.services, m, ctx.group) for m in people)
    await ctx.send(OutgoingMessage(parts=parts, notify=notify))


@router.command(
    "events", aliases=("活动",), usage="events.list_usage", help="events.list_help", ignore_extra=True
)
async def events_cmd(ctx: Context) -> None:
    """Upcoming activities."""
    assert ctx.group is not None
    st = activities_repo(ctx.services)
    upcoming = await st.upcoming(ctx.group.id, ctx.now, limit=10)
    if not upcoming:
        await ctx.reply(ctx.t("events.none"))
        return
    lines = [ctx.t("events.list_head")]
    joinable: list[int] = []
    for act in upcoming:
        rsvps = await st.rsvps(act.id)
        going = sum(1 for r in rsvps if r.status == "going")
        waiting = len(rsvps) - going
        lines.append(
            ctx.t(
                "events.list_line",
                id=act.id,
                title=act.title,
                start=local_time(act.start_at, ctx.group),
                going=going,
                cap=f"/{act.capacity}" if act.capacity else "",
                waiting=ctx.t("events.list_waiting", count=waiting) if waiting else "",
            )
        )
        if act.start_at > ctx.now:  # sign-up closes at the start
            joinable.append(act.id)
    # A Join button per activity (three to a row); where a platform has no buttons they become
    # numbered lines with the /join command, and a numbered reply presses them.
    join = [Button(ctx.t("events.btn_join_id", id=i), f"ev:join:{i}", command=f"/join {i}") for i in joinable]
    rows = tuple(tuple(join[i : i + 3]) for i in range(0, len(join), 3)) or None
    await ctx.reply(OutgoingMessage(parts=(Text("\n".join(lines)),), buttons=rows))


async def join_activity(ctx: Context, act: Activity) -> None:
    assert ctx.member is not None and ctx.group is not None
    if act.kind == "signup":  # /join on a sign-up list (where buttons and replies are missing)
        await signup.join(ctx, act)
        return
    if act.status != "open":
        raise BadArgument("events.err_cancelled", id=act.id)
    if act.start_at <= ctx.now:
        raise BadArgument("events.err_started", id=act.id)
    result = await activities_repo(ctx.services).join(act.id, ctx.member.id, ctx.now)
    key = {
        "going": "events.joined",
        "waiting": "events.waitlisted",
        "already_going": "events.already_going",
        "already_waiting": "events.already_waiting",
        "closed": "events.err_cancelled",
    }[result.outcome]
    await ctx.reply(ctx.parts(key, user=ctx.user, id=act.id, title=act.title, position=result.position))


async def leave_activity(ctx: Context, act: Activity) -> None:
    assert ctx.member is not None and ctx.group is not None
    if act.kind == "signup":
        await signup.leave(ctx, act)
        return
    result = await activities_repo(ctx.services).leave(act.id, ctx.member.id)
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


@router.command(
    "join", aliases=("参加", "报名"), usage="events.join_usage", help="events.join_help", args=[_ID]
)
async def join_cmd(ctx: Context, activity_id: int) -> None:
    """``/join ID``: where buttons are missing."""
    await join_activity(ctx, await _find(ctx, activity_id))


@router.command(
    "leave", aliases=("取消报名",), usage="events.leave_usage", help="events.leave_help", args=[_ID]
)
async def leave_cmd(ctx: Context, activity_id: int) -> None:
    """``/leave ID``."""
    await leave_activity(ctx, await _find(ctx, activity_id))


@router.command("here", aliases=("到场",), usage="events.here_usage", help="events.here_help", args=[_ID])
async def here_cmd(ctx: Context, activity_id: int) -> None:
    """``/here ID`` during the activity: attendance and points."""
    assert ctx.group is not None and ctx.member is not None
    act = await _find(ctx, activity_id)
    if act.kind == "signup":  # a list has no time of its own: its organiser marks who came
        raise BadArgument("events.signup.err_here_self", id=act.id)
    if act.status != "open":
        raise BadArgument("events.err_cancelled", id=act.id)
    if not act.start_at - EARLY_CHECKIN <= ctx.now <= act.end_at:
        raise BadArgument("events.err_not_now", id=act.id, start=local_time(act.start_at, ctx.group))
    if not await activities_repo(ctx.services).attend(act.id, ctx.member.id, ctx.now):
        await ctx.reply(ctx.t("events.already_here", id=act.id))
        return
    points = (await ctx.settings(EventsSettings)).attend_points
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


@router.command(
    "rate",
    usage="events.rate_usage",
    help="events.rate_help",
    hidden=True,
    args=[_ID, Int("rating", low=1, high=5)],
)
async def rate_cmd(ctx: Context, activity_id: int, rating: int) -> None:
    """``/rate ID N``: the feedback buttons' typed form."""
    act = await _find(ctx, activity_id)
    await rate_activity(ctx, act, rating)


async def rate_activity(ctx: Context, act: Activity, rating: int) -> None:
    assert ctx.member is not None
    assert ctx.group is not None
    if act.status != "open" or ctx.now < act.end_at:
        raise BadArgument("events.err_rate_early", id=act.id)
    if ctx.now > shift_days(act.start_at, FEEDBACK_CLOSE_DAYS, tz_of(ctx.group)):
        raise BadArgument("events.err_rate_closed", id=act.id)
    st = activities_repo(ctx.services)
    if not await st.took_part(act.id, ctx.member.id):
        raise BadArgument("events.err_rate_outsider", id=act.id)
    first = await st.rate(act.id, ctx.member.id, rating, ctx.now)
    await ctx.reply(ctx.t("events.rated" if first else "events.rerated", id=act.id, rating=rating))
