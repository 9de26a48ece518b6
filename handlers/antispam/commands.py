"""``/approve`` (end a newcomer's probation early) and ``/spam`` (teach the group a spam sample).

The router lives here; ``listeners`` attaches the screen and the join listener to it.
"""

from __future__ import annotations

import logging

from bot.args import BadArgument, UsageError
from bot.context import Context
from bot.errors import QunyouError
from bot.params import Member
from bot.roles import Role
from bot.router import Router
from handlers.antispam import told
from handlers.antispam.settings import AntispamSettings
from handlers.antispam.state import get_state
from storage.models import Member as MemberRow

log = logging.getLogger(__name__)

router = Router("antispam")


@router.command(
    "approve",
    aliases=("放行",),
    min_role=Role.MODERATOR,
    usage="antispam.approve_usage",
    help="antispam.approve_help",
    args=[Member("member")],
)
async def approve(ctx: Context, member: MemberRow) -> None:
    """End a member's probation early; remembered in this group, also across a re-join."""
    group = ctx.group
    assert group is not None  # group-only command
    state = get_state(ctx.services)
    await state.settle(group.id, member.id)
    row = await state.repos.probation.get(group.id, member.id)
    if not await state.repos.probation.approve(group.id, member.id, ctx.user.user_id, ctx.now):
        await ctx.reply(ctx.t("antispam.approve_already", name=member.display_name))
        return
    state.rows.pop((group.id, member.id), None)
    state.approvals[(group.id, member.id)] = (ctx.now, ctx.user.user_id)
    await told.approved(ctx.services, group.id, member.id, ctx.now, ctx.user.user_id)
    if row is not None and row.strikes >= (await ctx.settings(AntispamSettings)).mute_after:
        try:
            await ctx.adapter.unmute(ctx.chat, member.user_id)  # the probation mute ends with it
        except QunyouError as exc:
            log.warning("could not unmute approved member %s: %s", member.user_id, exc)
    await state.audit(group.id, ctx.now, ctx.user.user_id, "approve", f"member={member.id}")
    await ctx.reply(ctx.t("antispam.approve_done", name=member.display_name))


@router.command(
    "spam", aliases=("垃圾",), min_role=Role.MODERATOR, usage="antispam.spam_usage", help="antispam.spam_help"
)
async def spam(ctx: Context) -> None:
    """As a reply: delete the message, ban its sender, keep its text as a spam sample."""
    group, message = ctx.group, ctx.message
    assert group is not None and message is not None
    if message.reply_to is None:  # a reply to the spam, nothing else
        raise UsageError()
    state = get_state(ctx.services)
    known = state.recent.get((group.id, message.reply_to))
    target = ctx.reply_target
    user_id = known[0] if known else (target.user_id if target else None)
    if user_id is None:
        raise BadArgument("antispam.spam_unknown")
    if target is not None and target.is_bot:
        raise BadArgument("antispam.spam_bot")
    if await ctx.role_of(user_id) >= Role.MODERATOR:
        raise BadArgument("antispam.spam_moderator")
    deleted = await _attempt(ctx.adapter.delete(ctx.chat, message.reply_to))
    banned = await _attempt(ctx.adapter.ban(ctx.chat, user_id, None))
    text = known[1] if known else ""
    if text.strip():
        await state.repos.samples.add(group.id, text, ctx.user.user_id, ctx.now)
        state.samples.pop(group.id, None)  # reloaded with the new sample on the next message
        await told.sampled(ctx.services, group.id)
    count = await state.repos.samples.count(group.id)
    await state.audit(
        group.id, ctx.now, ctx.user.user_id, "spam", f"user={user_id} deleted={deleted} banned={banned}"
    )
    key = "antispam.spam_done" if text.strip() else "antispam.spam_done_no_text"
    await ctx.reply(ctx.t(key, count=count) + ("" if banned else " " + ctx.t("antispam.spam_not_banned")))


async def _attempt(action: object) -> bool:
    try:
        await action  # type: ignore[misc]
    except QunyouError as exc:
        log.warning("/spam action failed: %s", exc)
        return False
    return True
