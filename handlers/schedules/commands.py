"""Scheduled posts (定时消息) and quiet hours (静默时段).

Every planned post is a ``scheduled_posts`` row plus one scheduler job (``sched:<id>``) whose trigger
runs in the group's timezone; the job re-reads the row, so a paused or deleted post never goes out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.args import BadArgument, UsageError, parse_id
from bot.feature import Feature
from bot.messages import OutgoingMessage
from bot.ports import QuietHours
from bot.roles import Role
from bot.router import Router
from bot.scheduler import At, Cron, Trigger, next_fire
from bot.settings import SettingSpec, int_range
from handlers.schedule.common import (
    QUIET_KEY,
    bad_time,
    channel_of,
    chat_of,
    check_length,
    defer_if_quiet,
    excerpt,
    is_rerun,
    plan,
    prunes_deferred,
    send_once,
    tz_of,
)
from handlers.schedule.quiet import parse_window, window_from_setting
from handlers.schedule.timeparse import CronSpec, OnceSpec, TimeError, parse_when, repeated_wall_time
from storage.schedules import ScheduledPost

if TYPE_CHECKING:
    from bot.context import Context
    from bot.services import Services
    from storage.models import Group, Job, Member

log = logging.getLogger(__name__)

KIND = "schedule-post"
MAX_KEY = "schedule.max_posts"
_URGENT = {"urgent", "紧急", "--urgent", "!"}
_OFF = {"off", "关", "关闭", "none", "无"}

router = Router("schedule")


def job_id(post_id: int) -> str:
    """The scheduler job of a post."""
    return f"sched:{post_id}"


def _quiet_setting(value: Any) -> str:
    """Validate the quiet-hours setting: ``""`` (off) or ``HH:MM-HH:MM``."""
    text = str(value).strip()
    if not text or text.lower() in _OFF:
        return ""
    try:
        return str(parse_window(text))
    except TimeError:
        raise ValueError("HH:MM-HH:MM | off") from None


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


def when_label(t: Callable[..., str], canonical: str) -> str:
    """The canonical WHEN (``weekly fri 20:00``) in the member's language (``每周五 20:00``)."""
    words = canonical.split()
    kind = words[0]
    if kind == "daily" and len(words) == 2:
        return t("schedule.when_daily", time=words[1])
    if kind == "weekdays" and len(words) == 2:
        return t("schedule.when_weekdays", time=words[1])
    if kind == "weekly" and len(words) == 3:
        return t("schedule.when_weekly", day=t(f"schedule.day_{words[1]}"), time=words[2])
    if kind == "monthly" and len(words) == 3:
        return t("schedule.when_monthly", day=words[1], time=words[2])
    if kind == "once" and len(words) == 3:
        return t("schedule.when_once", date=words[1], time=words[2])
    return canonical


async def plan_post(services: Services, group: Group, post: ScheduledPost) -> datetime | None:
    """(Re)create the post's job; returns its next run."""
    return await services.scheduler.schedule(
        job_id(post.id), KIND, trigger_of(post.spec, group.timezone), {"post_id": post.id}, group_id=group.id
    )


# ------------------------------------------------------------------------------------ the job


async def run_post(services: Services, job: Job, fire: datetime) -> None:
    """Post a scheduled message (or defer it past quiet hours); once per local wall time.

    Registered ``rerun=True``: a run a crash cut short runs again at start, so every step here is
    safe to repeat for one fire time (see ``send_once`` for the one window that remains).
    """
    st = plan(services)
    post = await st.schedules.get(int(job.payload["post_id"]))
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
    origin = (
        datetime.fromisoformat(job.payload["deferred_from"]) if job.payload.get("deferred_from") else fire
    )
    if not job.payload.get("deferred_from") and repeated_wall_time(fire, tz):
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
    if not resumed and not await st.schedules.mark_posted(post.id, local_key, done=post.spec["type"] == "at"):
        return
    await send_once(
        services,
        job,
        fire,
        chat_of(services, group, post.channel_id, post.thread_id),
        OutgoingMessage.of(post.text),
        group.language,
    )


# ------------------------------------------------------------------------------- commands


@router.command(
    "schedule",
    aliases=("定时",),
    min_role=Role.MODERATOR,
    usage="schedule.usage",
    help="schedule.help",
)
async def schedule_cmd(ctx: Context) -> None:
    """``/schedule add|list|del|pause|resume``."""
    if not ctx.args:
        raise UsageError()
    sub = ctx.args[0].lower()
    if sub in ("add", "添加", "新增"):
        await _add(ctx)
    elif sub in ("list", "列表", "ls"):
        await _list(ctx)
    elif sub in ("del", "delete", "rm", "删除"):
        await _delete(ctx)
    elif sub in ("pause", "暂停"):
        await _pause(ctx, True)
    elif sub in ("resume", "恢复", "继续"):
        await _pause(ctx, False)
    else:
        raise BadArgument("schedule.err_sub", part=excerpt(ctx.args[0]))


def _after_first_word(text: str) -> str:
    parts = text.strip().split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


async def _add(ctx: Context) -> None:
    assert ctx.group is not None
    rest = _after_first_word(ctx.arg_text)
    urgent = False
    head = rest.split(maxsplit=1)
    if head and head[0].lower() in _URGENT:
        urgent = True
        rest = head[1] if len(head) > 1 else ""
    if not rest.strip():
        raise UsageError()
    try:
        when, text = parse_when(rest, ctx.zone, ctx.now)
    except TimeError as err:
        raise bad_time(ctx, err) from None
    if not text.strip():
        raise BadArgument("schedule.err_no_text")
    check_length(ctx, text)
    st = plan(ctx.services)
    limit = int(await ctx.setting(MAX_KEY))
    if len(await st.schedules.for_group(ctx.group.id)) >= limit:
        raise BadArgument("schedule.err_too_many", limit=limit)
    post = await st.schedules.add(
        group_id=ctx.group.id,
        channel_id=channel_of(ctx.chat),
        thread_id=ctx.chat.thread_id,
        when_text=when.canonical,
        spec=spec_to_dict(when.spec),
        text=text,
        urgent=urgent,
        created_by=ctx.user.user_id,
        now=ctx.now,
    )
    if post is None:
        raise BadArgument("schedule.err_duplicate", when=when_label(ctx.t, when.canonical))
    first = await plan_post(ctx.services, ctx.group, post)
    await ctx.reply(
        ctx.t(
            "schedule.added",
            id=post.id,
            when=when_label(ctx.t, when.canonical),
            next=_local(ctx, first),
            urgent=ctx.t("schedule.urgent_mark") if urgent else "",
        )
    )


def _local(ctx: Context, instant: datetime | None) -> str:
    if instant is None:
        return ctx.t("schedule.never")
    return instant.astimezone(ctx.zone).strftime("%Y-%m-%d %H:%M")


async def _list(ctx: Context) -> None:
    assert ctx.group is not None
    posts = await plan(ctx.services).schedules.for_group(ctx.group.id)
    if not posts:
        await ctx.reply(ctx.t("schedule.list_empty"))
        return
    lines = [ctx.t("schedule.list_head", count=len(posts))]
    for post in posts:
        nxt = None if post.paused else next_fire(trigger_of(post.spec, ctx.group.timezone), ctx.now)
        lines.append(
            ctx.t(
                "schedule.list_line",
                id=post.id,
                when=when_label(ctx.t, post.when_text),
                next=ctx.t("schedule.paused_mark") if post.paused else _local(ctx, nxt),
                text=_preview(post.text),
                urgent=ctx.t("schedule.urgent_mark") if post.urgent else "",
            )
        )
    await ctx.reply("\n".join(lines))


def _preview(text: str, limit: int = 40) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _id_arg(ctx: Context) -> int:
    if len(ctx.args) < 2:
        raise UsageError()
    return parse_id(ctx.args[1])


async def _delete(ctx: Context) -> None:
    assert ctx.group is not None
    post_id = _id_arg(ctx)
    if not await plan(ctx.services).schedules.delete(ctx.group.id, post_id):
        raise BadArgument("schedule.err_unknown", id=post_id)
    await ctx.services.scheduler.cancel(job_id(post_id))
    # A run waiting for quiet hours to end is its own job ("sched:<id>~<time>"); it goes too.
    for deferred in await ctx.services.scheduler.list(job_id(post_id) + "~"):
        await ctx.services.scheduler.cancel(deferred.id)
    await ctx.reply(ctx.t("schedule.deleted", id=post_id))


async def _pause(ctx: Context, paused: bool) -> None:
    assert ctx.group is not None
    post_id = _id_arg(ctx)
    st = plan(ctx.services)
    if not await st.schedules.set_paused(ctx.group.id, post_id, paused):
        raise BadArgument("schedule.err_unknown", id=post_id)
    if paused:
        await ctx.services.scheduler.pause(job_id(post_id))
        await ctx.reply(ctx.t("schedule.paused", id=post_id))
        return
    post = await st.schedules.get(post_id)
    assert post is not None
    # Resuming plans from now on: runs missed while paused are not made up.
    nxt = await plan_post(ctx.services, ctx.group, post)
    await ctx.reply(ctx.t("schedule.resumed", id=post_id, next=_local(ctx, nxt)))


@router.command(
    "quiet",
    aliases=("静默",),
    min_role=Role.MODERATOR,
    usage="schedule.quiet_usage",
    help="schedule.quiet_help",
)
async def quiet_cmd(ctx: Context) -> None:
    """``/quiet 22:00-08:00`` or ``/quiet off``; without arguments, the current window."""
    assert ctx.group is not None
    text = ctx.arg_text.strip()
    if not text:
        window = window_from_setting(await ctx.setting(QUIET_KEY))
        await ctx.reply(
            ctx.t("schedule.quiet_now", window=window) if window else ctx.t("schedule.quiet_none")
        )
        return
    if text.lower() in _OFF:
        await ctx.services.settings.set(ctx.group.id, QUIET_KEY, "", ctx.user.user_id, ctx.now)
        await ctx.reply(ctx.t("schedule.quiet_off"))
        return
    try:
        window = parse_window(text)
    except TimeError as err:
        raise bad_time(ctx, err) from None
    await ctx.services.settings.set(ctx.group.id, QUIET_KEY, str(window), ctx.user.user_id, ctx.now)
    await ctx.reply(ctx.t("schedule.quiet_set", window=window))


async def demo(services: Services, group: Group, members: list[Member]) -> None:
    """The console demo: a morning post on weekdays."""
    when, text = parse_when(
        services.i18n.t(group.language, "schedule.demo_post"), tz_of(group), services.clock.now()
    )
    post = await plan(services).schedules.add(
        group_id=group.id,
        channel_id=None,
        thread_id=None,
        when_text=when.canonical,
        spec=spec_to_dict(when.spec),
        text=text,
        urgent=False,
        created_by=members[0].user_id if members else None,
        now=services.clock.now(),
    )
    if post is not None:
        await plan_post(services, group, post)


async def export(services: Services, member: Member) -> dict[str, object]:
    """The posts a member (a moderator) planned."""
    return await plan(services).schedules.export_member(member.group_id, member.user_id)


async def forget(services: Services, member: Member) -> None:
    """Keep the member's planned posts (they belong to the group) but forget who planned them."""
    await plan(services).schedules.forget_member(member.group_id, member.user_id)


async def startup(services: Services) -> None:
    """Register the job kind; the rows and jobs themselves are already in the database."""
    services.scheduler.register(KIND, prunes_deferred(run_post), rerun=True)


class _QuietHours:
    """The ``QuietHours`` port: other features' automated posts wait out quiet hours too."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def defer(self, group: Group, job: Job, fire: datetime) -> bool:
        """Defer this run to the end of the group's quiet hours; True when it was deferred."""
        return await defer_if_quiet(self._services, group, job, fire)


def _ports(services: Services) -> dict[type[Any], Any]:
    return {QuietHours: _QuietHours(services)}


FEATURE = Feature(
    name="schedule",
    router=router,
    settings=[
        SettingSpec(QUIET_KEY, _quiet_setting, "", "quiet hours HH:MM-HH:MM in which automated posts wait"),
        SettingSpec(MAX_KEY, int_range(1, 10_000), 100, "live scheduled posts a group may have"),
    ],
    provides=_ports,
    startup=startup,
    export_member_data=export,
    delete_member_data=forget,
    demo=demo,
)
