"""Topic commands (话题): ``/topic`` today's topic, and ``add|list|del|suggest|now|schedule``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.args import BadArgument
from bot.messages import Button, OutgoingMessage, Text
from bot.params import OFF_WORDS, Id, Int, Rest
from bot.planned_posts import channel_of, check_length, notify_moderators
from bot.roles import Role
from bot.router import Router
from bot.timeparse import TimeError, bad_time, parse_time_of_day
from handlers.topics.bank import starter_topics
from handlers.topics.jobs import job_id, plan_daily, post_next
from handlers.topics.state import topics_state

if TYPE_CHECKING:
    from bot.context import Context

MAX_TOPIC = 500
router = Router("topics")


topic = router.group(
    "topic", aliases=("话题",), usage="topics.usage", help="topics.help", unknown_sub="topics.err_sub"
)
# An unknown word is answered without quoting it: any member can reach that reply, so the bot
# cannot be made to repeat a word in public that moderation merely noted (blue level).
_TEXT = Rest("text", optional=True, default="")


@topic.default()
async def topic_today(ctx: Context) -> None:
    """``/topic``: today's topic."""
    await _today(ctx)


@topic.sub("suggest", aliases=("建议", "投稿"), args=[_TEXT])
async def topic_suggest(ctx: Context, text: str) -> None:
    """A member suggests a topic for the moderators."""
    await _suggest(ctx, text)


@topic.sub("add", aliases=("添加",), args=[_TEXT], min_role=Role.MODERATOR)
async def topic_add(ctx: Context, text: str) -> None:
    """Add a topic to the bank."""
    await _add(ctx, text)


_PAGE = Int("page", optional=True, default=1, low=1, high=10_000)


@topic.sub("list", aliases=("列表",), args=[_PAGE], min_role=Role.MODERATOR)
async def topic_list(ctx: Context, page: int) -> None:
    """One page of the topic bank."""
    await _list(ctx, page)


@topic.sub("del", aliases=("delete", "删除"), args=[Id("topic_id")], min_role=Role.MODERATOR)
async def topic_delete(ctx: Context, topic_id: int) -> None:
    """Remove a topic from the bank."""
    await _delete(ctx, topic_id)


@topic.sub("now", aliases=("现在",), min_role=Role.MODERATOR)
async def topic_now(ctx: Context) -> None:
    """Post the next topic now."""
    assert ctx.group is not None
    if await post_next(ctx.services, ctx.group, ctx.chat) is None:
        await ctx.reply(ctx.t("topics.empty_reply"))


@topic.sub("schedule", aliases=("定时",), args=[_TEXT], min_role=Role.MODERATOR)
async def topic_schedule(ctx: Context, text: str) -> None:
    """Show, set or turn off the daily topic time."""
    await _schedule(ctx, text)


async def _today(ctx: Context) -> None:
    assert ctx.group is not None
    post = await topics_state(ctx.services).topics.post_for_day(ctx.group.id, ctx.today)
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
    st = topics_state(ctx.services)
    await st.topics.seed(ctx.group.id, starter_topics(ctx.group.language), ctx.now)
    if await st.topics.find_text(ctx.group.id, text) is not None:
        raise BadArgument("topics.err_duplicate")
    topic = await st.topics.add(ctx.group.id, text, "custom", ctx.member.id if ctx.member else None, ctx.now)
    await ctx.reply(ctx.t("topics.added", id=topic.id))


async def _list(ctx: Context, page: int) -> None:
    assert ctx.group is not None
    st = topics_state(ctx.services)
    await st.topics.seed(ctx.group.id, starter_topics(ctx.group.language), ctx.now)
    total = await st.topics.count(ctx.group.id)
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


async def _delete(ctx: Context, topic_id: int) -> None:
    assert ctx.group is not None
    if not await topics_state(ctx.services).topics.delete(ctx.group.id, topic_id):
        raise BadArgument("topics.err_unknown", id=topic_id)
    await ctx.reply(ctx.t("topics.deleted", id=topic_id))


async def _schedule(ctx: Context, text: str) -> None:
    assert ctx.group is not None
    st = topics_state(ctx.services)
    if not text:
        state = await st.topics.state(ctx.group.id)
        await ctx.reply(
            ctx.t("topics.schedule_now", time=state.daily_time)
            if state.daily_time
            else ctx.t("topics.schedule_none")
        )
        return
    if text.lower() in OFF_WORDS:
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
    sug = await topics_state(ctx.services).topics.suggest(
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
