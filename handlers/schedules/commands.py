"""Commands of scheduled posts (定时消息) and quiet hours (静默时段): ``/schedule`` and ``/quiet``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from bot.args import BadArgument, UsageError
from bot.media import attach_picture, forget_picture, picked_image, split_image_word
from bot.params import OFF_WORDS, Id, Rest
from bot.planned_posts import channel_of, check_length
from bot.roles import Role
from bot.router import Router
from bot.scheduler import next_fire
from bot.timeparse import TimeError, bad_time, parse_when
from handlers.schedules.jobs import job_id, picture_owner, plan_post, spec_to_dict, trigger_of
from handlers.schedules.quiet import parse_window
from handlers.schedules.settings import ScheduleSettings
from handlers.schedules.state import post_repo

if TYPE_CHECKING:
    from bot.context import Context

_URGENT = {"urgent", "紧急", "--urgent", "!"}

router = Router("schedule")


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


schedule = router.group(
    "schedule",
    aliases=("定时",),
    min_role=Role.MODERATOR,
    usage="schedule.usage",
    help="schedule.help",
    unknown_sub="schedule.err_sub",
)
_ID = Id("post_id")


@schedule.sub("add", aliases=("添加", "新增"), args=[Rest("rest", optional=True, default="")])
async def schedule_add(ctx: Context, rest: str) -> None:
    """``/schedule add [urgent] WHEN TEXT``."""
    await _add(ctx, rest)


@schedule.sub("list", aliases=("列表", "ls"))
async def schedule_list(ctx: Context) -> None:
    """Every planned post of the group."""
    await _list(ctx)


@schedule.sub("del", aliases=("delete", "rm", "删除"), args=[_ID])
async def schedule_delete(ctx: Context, post_id: int) -> None:
    """Delete a planned post."""
    await _delete(ctx, post_id)


@schedule.sub("pause", aliases=("暂停",), args=[_ID])
async def schedule_pause(ctx: Context, post_id: int) -> None:
    """Pause a planned post."""
    await _pause(ctx, post_id, True)


@schedule.sub("resume", aliases=("恢复", "继续"), args=[_ID])
async def schedule_resume(ctx: Context, post_id: int) -> None:
    """Resume a paused post."""
    await _pause(ctx, post_id, False)


async def _add(ctx: Context, rest: str) -> None:
    assert ctx.group is not None
    urgent = False
    image_name, rest = split_image_word(rest)
    head = rest.split(maxsplit=1)
    if head and head[0].lower() in _URGENT:
        urgent = True
        rest = head[1] if len(head) > 1 else ""
    if image_name is None:
        image_name, rest = split_image_word(rest)  # ``urgent image:FILE WHEN TEXT`` too
    if not rest.strip():
        raise UsageError()
    try:
        when, text = parse_when(rest, ctx.zone, ctx.now)
    except TimeError as err:
        raise bad_time(ctx, err) from None
    if not text.strip():
        raise BadArgument("schedule.err_no_text")
    check_length(ctx, text)
    repo = post_repo(ctx.services)
    limit = (await ctx.settings(ScheduleSettings)).max_posts
    if len(await repo.for_group(ctx.group.id)) >= limit:
        raise BadArgument("schedule.err_too_many", limit=limit)
    # The picture first: one that is refused (too big, not a picture…) leaves no post behind.
    media_id = await picked_image(ctx, image_name)
    post = await repo.add(
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
    pictured = await attach_picture(ctx.services, ctx.group, picture_owner(post.id), media_id)
    first = await plan_post(ctx.services, ctx.group, post)
    added = ctx.t(
        "schedule.added",
        id=post.id,
        when=when_label(ctx.t, when.canonical),
        next=_local(ctx, first),
        urgent=ctx.t("schedule.urgent_mark") if urgent else "",
    )
    await ctx.reply(added + ("\n" + ctx.t("media.attached") if pictured else ""))


def _local(ctx: Context, instant: datetime | None) -> str:
    if instant is None:
        return ctx.t("schedule.never")
    return instant.astimezone(ctx.zone).strftime("%Y-%m-%d %H:%M")


async def _list(ctx: Context) -> None:
    assert ctx.group is not None
    posts = await post_repo(ctx.services).for_group(ctx.group.id)
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


async def _delete(ctx: Context, post_id: int) -> None:
    assert ctx.group is not None
    if not await post_repo(ctx.services).delete(ctx.group.id, post_id):
        raise BadArgument("schedule.err_unknown", id=post_id)
    await ctx.services.scheduler.cancel(job_id(post_id))
    await forget_picture(ctx.services, ctx.group, picture_owner(post_id))
    # A run waiting for quiet hours to end is its own job ("sched:<id>~<time>"); it goes too.
    for deferred in await ctx.services.scheduler.list(job_id(post_id) + "~"):
        await ctx.services.scheduler.cancel(deferred.id)
    await ctx.reply(ctx.t("schedule.deleted", id=post_id))


async def _pause(ctx: Context, post_id: int, paused: bool) -> None:
    assert ctx.group is not None
    repo = post_repo(ctx.services)
    if not await repo.set_paused(ctx.group.id, post_id, paused):
        raise BadArgument("schedule.err_unknown", id=post_id)
    if paused:
        await ctx.services.scheduler.pause(job_id(post_id))
        await ctx.reply(ctx.t("schedule.paused", id=post_id))
        return
    post = await repo.get(post_id)
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
    args=[Rest("text", optional=True, default="")],
)
async def quiet_cmd(ctx: Context, text: str) -> None:
    """``/quiet 22:00-08:00`` or ``/quiet off``; without arguments, the current window."""
    assert ctx.group is not None
    if not text:
        window = (await ctx.settings(ScheduleSettings)).quiet_window
        await ctx.reply(
            ctx.t("schedule.quiet_now", window=window) if window else ctx.t("schedule.quiet_none")
        )
        return
    if text.lower() in OFF_WORDS:
        await ctx.services.settings.write(
            ctx.group.id, ScheduleSettings, ctx.user.user_id, ctx.now, quiet_hours=""
        )
        await ctx.reply(ctx.t("schedule.quiet_off"))
        return
    try:
        window = parse_window(text)
    except TimeError as err:
        raise bad_time(ctx, err) from None
    await ctx.services.settings.write(
        ctx.group.id, ScheduleSettings, ctx.user.user_id, ctx.now, quiet_hours=str(window)
    )
    await ctx.reply(ctx.t("schedule.quiet_set", window=window))
