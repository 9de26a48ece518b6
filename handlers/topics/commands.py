"""Topic prompts (话题): a per-group bank seeded from the starter bank, a daily topic, suggestions.

Replies to a topic post earn points (capped per member and topic) and feed the ``topic_replies``
badge counter through the check-in feature.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from bot.args import BadArgument, UsageError, button_fields, decode_id, parse_id, parse_int
from bot.events import ButtonPressed, ChatRef
from bot.feature import Feature
from bot.messages import Button, OutgoingMessage, Text
from bot.roles import Role
from bot.router import Band, Router
from bot.scheduler import Cron
from bot.settings import SettingSpec, int_range
from handlers.schedule.bank import starter_topics
from handlers.schedule.common import (
    award,
    bad_time,
    channel_of,
    chat_of,
    check_length,
    defer_if_quiet,
    is_moderator,
    notify_moderators,
    plan,
    prunes_deferred,
    refuse,
    send,
    tz_of,
)
from handlers.schedule.timeparse import TimeError, parse_time_of_day
from storage.topics import TopicPost

if TYPE_CHECKING:
    from bot.context import Context
    from bot.services import Services
    from storage.models import Group, Job, Member

log = logging.getLogger(__name__)

KIND = "topics-daily"
MAX_TOPIC = 500
router = Router("topics")


def job_id(group_id: int) -> str:
    """The daily-topic job of a group."""
    return f"topic:{group_id}"


async def post_next(services: Services, group: Group, chat: ChatRef) -> TopicPost | None:
    """Post the least recently used topic into ``chat``; tell the moderators when the bank is empty."""
    st = plan(services)
    await st.topics.seed(group.id, starter_topics(group.language), services.clock.now())
    now = services.clock.now()
    topic = await st.topics.take_next(group.id, now)
    if topic is None:
        await notify_moderators(
            services, group, OutgoingMessage.of(services.i18n.t(group.language, "topics.empty_bank"))
        )
        return None
    day = now.astimezone(tz_of(group)).date()
    post = await st.topics.record_post(group.id, topic, chat.channel_id, now, day)
    message = OutgoingMessage.of(services.i18n.t(group.language, "topics.post", text=topic.text))
    sent = await send(services, chat, message, group.language)
    if sent is not None:
        await st.topics.set_post_message(post.id, sent.message_id)
        st.topic_messages.setdefault(group.id, set()).add(sent.message_id)
    return post


async def plan_daily(services: Services, group: Group, hhmm: str) -> None:
    """(Re)create the group's daily-topic job at local time ``hhmm``."""
    hour, minute = hhmm.split(":")
    await services.scheduler.schedule(
        job_id(group.id),
        KIND,
        Cron(tz=group.timezone, minute=str(int(minute)), hour=str(int(hour))),
        {"group_id": group.id},
        group_id=group.id,
    )


async def run_daily(services: Services, job: Job, fire: datetime) -> None:
    """The daily topic job: re-read the setting, respect quiet hours, post."""
    group = await services.directory.group_by_id(int(job.payload["group_id"]))
    if group is None or not group.active:
        return
    state = await plan(services).topics.state(group.id)
    if state.daily_time is None:
        return  # turned off since the job was planned
    if job.trigger.get("tz", group.timezone) != group.timezone:
        # The group moved to another timezone: re-plan at the same local time there.
        await plan_daily(services, group, state.daily_time)
        return
    if await defer_if_quiet(services, group, job, fire):
        return
    await post_next(services, group, chat_of(services, group, state.channel_id, state.thread_id))


# ------------------------------------------------------------------------------- commands


@router.command("topic", aliases=("话题",), usage="topics.usage", help="topics.help")
async def topic_cmd(ctx: Context) -> None:
    """``/topic`` today's topic; ``add|list|del|suggest|now|schedule`` as sub-commands."""
    assert ctx.group is not None
    if not ctx.args:
        await _today(ctx)
        return
    sub = ctx.args[0].lower()
    rest = ctx.arg_text.strip().split(maxsplit=1)
    text = rest[1].strip() if len(rest) > 1 else ""
    if sub in ("suggest", "建议", "投稿"):
        await _suggest(ctx, text)
        return
    mod_subs = {"add", "添加", "list", "列表", "del", "delete", "删除", "now", "现在", "schedule", "定时"}
    if sub not in mod_subs:
        # Any member can reach this: the reply does not quote what they typed, so the bot cannot be
        # made to repeat a word in public that moderation merely noted (blue level) without removing.
        raise BadArgument("topics.err_sub")
    if not await is_moderator(ctx):
        await refuse(ctx)
        return
    if sub in ("add", "添加"):
        await _add(ctx, text)
    elif sub in ("list", "列表"):
        await _list(ctx)
    elif sub in ("del", "delete", "删除"):
        await _delete(ctx)
    elif sub in ("now", "现在"):
        if await post_next(ctx.services, ctx.group, ctx.chat) is None:
            await ctx.reply(ctx.t("topics.empty_reply"))
    else:
        await _schedule(ctx, text)


async def _today(ctx: Context) -> None:
    assert ctx.group is not None
    post = await plan(ctx.services).topics.post_for_day(ctx.group.id, ctx.today)
    if post is None:
        if await post_next(ctx.services, ctx.group, ctx.chat) is None:
            await ctx.reply(ctx.t("topics.empty_reply"))
        return
    message = OutgoingMessage(
        parts=(Text(ctx.t("topics.today", text=post.text)),),
        reply_to=post.message_id if post.channel_id == ctx.chat.channel_id else None,
    )
    await ctx.reply(message)


async def _add(ctx: Context, text: str) -> None:
    assert ctx.group is not None
    if not text:
        raise BadArgument("topics.err_empty")
    if len(text) > MAX_TOPIC:
        raise BadArgument("topics.err_too_long", limit=MAX_TOPIC, length=len(text))
    st = plan(ctx.services)
    await st.topics.seed(ctx.group.id, starter_topics(ctx.group.language), ctx.now)
    if await st.topics.find_text(ctx.group.id, text) is not None:
        raise BadArgument("topics.err_duplicate")
    topic = await st.topics.add(ctx.group.id, text, "custom", ctx.member.id if ctx.member else None, ctx.now)
    await ctx.reply(ctx.t("topics.added", id=topic.id))


async def _list(ctx: Context) -> None:
    assert ctx.group is not None
    st = plan(ctx.services)
    await st.topics.seed(ctx.group.id, starter_topics(ctx.group.language), ctx.now)
    total = await st.topics.count(ctx.group.id)
    page = 1
    if len(ctx.args) > 1:
        page = parse_int(ctx.args[1], min_value=1, max_value=10_000)
    size = 15
    items = await st.topics.bank(ctx.group.id, limit=size, offset=(page - 1) * size)
    if not items:
        await ctx.reply(ctx.t("topics.list_empty"))
        return
    pages = (total + size - 1) // size
    lines = [ctx.t("topics.list_head", count=total, page=page, pages=pages)]
    lines += [ctx.t("topics.list_line", id=t.id, text=_short(t.text), uses=t.uses) for t in items]
    await ctx.reply("\n".join(lines))


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def _delete(ctx: Context) -> None:
    assert ctx.group is not None
    if len(ctx.args) < 2:
        raise UsageError()
    topic_id = parse_id(ctx.args[1])
    if not await plan(ctx.services).topics.delete(ctx.group.id, topic_id):
        raise BadArgument("topics.err_unknown", id=topic_id)
    await ctx.reply(ctx.t("topics.deleted", id=topic_id))


async def _schedule(ctx: Context, text: str) -> None:
    assert ctx.group is not None
    st = plan(ctx.services)
    if not text:
        state = await st.topics.state(ctx.group.id)
        await ctx.reply(
            ctx.t("topics.schedule_now", time=state.daily_time)
            if state.daily_time
            else ctx.t("topics.schedule_none")
        )
        return
    if text.lower() in ("off", "关", "关闭"):
        await st.topics.set_daily(ctx.group.id, None, None, None)
        await ctx.services.scheduler.cancel(job_id(ctx.group.id))
        await ctx.reply(ctx.t("topics.schedule_off"))
        return
    try:
        at = parse_time_of_day(text)
    except TimeError as err:
        raise bad_time(ctx, err) from None
    hhmm = f"{at.hour:02d}:{at.minute:02d}"
    await st.topics.set_daily(ctx.group.id, hhmm, channel_of(ctx.chat), ctx.chat.thread_id)
    await plan_daily(ctx.services, ctx.group, hhmm)
    await ctx.reply(ctx.t("topics.schedule_set", time=hhmm))


async def _suggest(ctx: Context, text: str) -> None:
    assert ctx.group is not None
    if not text:
        raise BadArgument("topics.err_empty")
    if len(text) > MAX_TOPIC:
        raise BadArgument("topics.err_too_long", limit=MAX_TOPIC, length=len(text))
    check_length(ctx, text)
    group = ctx.group
    sug = await plan(ctx.services).topics.suggest(
        group.id, ctx.member.id if ctx.member else None, text, ctx.now
    )
    lang = group.language
    t = ctx.services.i18n.t
    alert = OutgoingMessage(
        parts=(
            *ctx.services.i18n.parts(lang, "topics.suggest_alert", user=ctx.user, id=sug.id),
            Text("\n" + text),
        ),
        buttons=(
            (
                Button(t(lang, "topics.approve"), f"topics:ok:{sug.id}"),
                Button(t(lang, "topics.reject"), f"topics:no:{sug.id}"),
            ),
        ),
    )
    await notify_moderators(ctx.services, group, alert)
    await ctx.reply(ctx.t("topics.suggested", id=sug.id))


@router.button("topics:")
async def decide(ctx: Context) -> None:
    """Approve / Reject on a suggestion, pressed in the moderator chat."""
    event = ctx.event
    assert isinstance(event, ButtonPressed)
    fields = button_fields(event.data, 3)
    suggestion_id = decode_id(fields[2]) if fields else None
    if fields is None or fields[1] not in ("ok", "no") or suggestion_id is None:
        return  # forged or garbled
    verdict = fields[1]
    services = ctx.services
    st = plan(services)
    sug = await st.topics.get_suggestion(suggestion_id)
    if sug is None:
        return
    group = await services.directory.group_by_id(sug.group_id)
    if group is None:
        return
    # The button lives in the moderator chat; the right to decide is a role in the suggesting group.
    role = await services.permissions.role_of(
        ctx.adapter, services.directory.chat_for(group), group.id, ctx.user.user_id
    )
    if role < Role.MODERATOR:
        await ctx.reply(ctx.t("core.denied"))
        return
    decided = await st.topics.decide(sug.id, verdict == "ok", ctx.user.user_id, ctx.now)
    if decided is None:
        await ctx.reply(ctx.t("topics.already_decided", id=sug.id))
        return
    suggestion, topic = decided
    if topic is None:
        await ctx.reply(ctx.t("topics.rejected", id=sug.id, by=ctx.user))
        return
    credited = False
    author: Member | None = None
    if suggestion.member_id is not None:
        author = await services.members.get(suggestion.member_id)
    if author is not None:
        points = int(await services.settings.get(group.id, "topics.suggest_points"))
        credited = points > 0 and await award(
            services,
            author,
            points,
            "topic",
            # The ledger reason is shown to the member by /points: in the group's language.
            services.i18n.t(group.language, "topics.reason_suggestion", id=sug.id),
            chat=services.directory.chat_for(group),
        )
    await ctx.reply(
        ctx.t(
            "topics.approved_points" if credited else "topics.approved",
            id=sug.id,
            topic=topic.id,
            by=ctx.user,
        )
    )


@router.message(band=Band.LISTENER)
async def topic_reply(ctx: Context) -> None:
    """A reply to a topic post: points, at most ``topics.reply_cap`` per member and topic."""
    message = ctx.message
    if message is None or message.edited or not message.reply_to or ctx.group is None or ctx.member is None:
        return
    st = plan(ctx.services)
    known = st.topic_messages.get(ctx.group.id)
    if known is None:
        known = set(await st.topics.post_message_ids(ctx.group.id))
        st.topic_messages[ctx.group.id] = known
    if message.reply_to not in known:
        return
    post = await st.topics.post_by_message(ctx.group.id, message.reply_to)
    if post is None:
        return
    cap = int(await ctx.setting("topics.reply_cap"))
    if not await st.topics.count_reply(post.id, ctx.member.id, cap):
        return
    points = int(await ctx.setting("topics.reply_points"))
    await award(
        ctx.services,
        ctx.member,
        points,
        "topic",
        ctx.t("topics.reason_reply"),
        chat=ctx.chat,
        counters={"topic_replies": 1},
    )


async def demo(services: Services, group: Group, members: list[Member]) -> None:
    """The console demo: a daily topic at 20:00."""
    await plan(services).topics.set_daily(group.id, "20:00", None, None)
    await plan_daily(services, group, "20:00")


async def startup(services: Services) -> None:
    """Register the daily-topic job kind."""
    services.scheduler.register(KIND, prunes_deferred(run_daily))


async def export(services: Services, member: Member) -> dict[str, object]:
    """What the topic feature keeps about a member."""
    return await plan(services).topics.export_member(member.id)


async def forget(services: Services, member: Member) -> None:
    """Forget a member's suggestions and reply counts."""
    await plan(services).topics.forget_member(member.id)


FEATURE = Feature(
    name="topics",
    router=router,
    settings=[
        SettingSpec("topics.reply_points", int_range(0, 1000), 2, "points per reply to a topic post"),
        SettingSpec(
            "topics.reply_cap", int_range(0, 100), 3, "replies per member and topic that earn points"
        ),
        SettingSpec("topics.suggest_points", int_range(0, 10_000), 10, "points for an approved suggestion"),
    ],
    startup=startup,
    export_member_data=export,
    delete_member_data=forget,
    demo=demo,
)
