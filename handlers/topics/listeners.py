"""Reactions: replies to a topic post earn points; Approve / Reject on a suggestion.

Registered on the feature's router in ``handlers/topics/__init__.py``, not here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.args import button_fields, decode_id
from bot.events import ButtonPressed
from bot.points_access import award
from bot.roles import Role
from handlers.topics.desk import decide_suggestion
from handlers.topics.settings import TopicsSettings
from handlers.topics.state import topics_state

if TYPE_CHECKING:
    from bot.context import Context


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
    st = topics_state(services)
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
    decided = await decide_suggestion(services, group, sug.id, verdict == "ok", ctx.user.user_id, ctx.now)
    if decided is None:
        await ctx.reply(ctx.t("topics.already_decided", id=sug.id))
        return
    _suggestion, topic, credited = decided
    if topic is None:
        await ctx.reply(ctx.t("topics.rejected", id=sug.id, by=ctx.user))
        return
    await ctx.reply(
        ctx.t(
            "topics.approved_points" if credited else "topics.approved",
            id=sug.id,
            topic=topic.id,
            by=ctx.user,
        )
    )


async def topic_reply(ctx: Context) -> None:
    """A reply to a topic post: points, at most ``topics.reply_cap`` per member and topic."""
    message = ctx.message
    if message is None or message.edited or not message.reply_to or ctx.group is None or ctx.member is None:
        return
    st = topics_state(ctx.services)
    known = st.topic_messages.get(ctx.group.id)
    if known is None:
        known = set(await st.topics.post_message_ids(ctx.group.id))
        st.topic_messages[ctx.group.id] = known
    if message.reply_to not in known:
        return
    post = await st.topics.post_by_message(ctx.group.id, message.reply_to)
    if post is None:
        return
    cap = (await ctx.settings(TopicsSettings)).reply_cap
    if not await st.topics.count_reply(post.id, ctx.member.id, cap):
        return
    points = (await ctx.settings(TopicsSettings)).reply_points
    await award(
        ctx.services,
        ctx.member,
        points,
        "topic",
        ctx.t("topics.reason_reply"),
        chat=ctx.chat,
        counters={"topic_replies": 1},
    )
