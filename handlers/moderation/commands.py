"""Moderator commands about one member (warn, mute, ban, kick, del, credit); the feature's router."""

from __future__ import annotations

from datetime import timedelta

from bot.args import BadArgument, resolve_member
from bot.context import Context
from bot.messages import OutgoingMessage, Part, Text
from bot.params import Duration, MemberRef, Words
from bot.ports import LinkedAccounts
from bot.roles import Role
from bot.router import Router
from handlers.moderation.plans import _ladder, _minutes, _warn
from handlers.moderation.sanctions import Shared, attempt, lift, sanction
from handlers.moderation.service import (
    WARNING_MAX,
    Step,
    category_key,
    credit_level,
    current_credit,
    get_state,
    human_duration,
)
from handlers.moderation.settings import ModerationSettings
from handlers.moderation.targets import _moderator_group, _ref, _target

router = Router("moderation")


# -- moderator commands --------------------------------------------------------------------


_WHO = MemberRef("who")
_REST = Words("rest", optional=True, default="", hint="core.param.reason")


@router.command(
    "warn",
    usage="moderation.usage.warn",
    help="moderation.help.warn",
    min_role=Role.MODERATOR,
    args=[_WHO, _REST],
)
async def warn_command(ctx: Context, who: str | None, rest: str) -> None:
    """Warn a member; the warning ladder applies."""
    group = await _moderator_group(ctx)
    if group is None:
        return
    member = await _target(ctx, group, who)
    reason = rest.strip()[:200] or None
    services = ctx.services
    count = await _warn(services, group, member, None, reason, ctx.user.user_id, None)
    steps: list[Step] = []
    parts = list(
        ctx.parts(
            "moderation.warned",
            member=_ref(services, group, member),
            count=min(count, WARNING_MAX),
            max=WARNING_MAX,
        )
    )
    if reason:
        parts.append(Text(" " + ctx.t("moderation.reason", reason=reason)))
    ladder = await _ladder(services, group, member, count, ctx.user.user_id, steps, None)
    if ladder:
        parts.append(Text(" " + ctx.t(ladder)))
    await ctx.reply(OutgoingMessage(parts=tuple(parts)))


@router.command(
    "unwarn",
    usage="moderation.usage.unwarn",
    help="moderation.help.unwarn",
    min_role=Role.MODERATOR,
    args=[_WHO],
)
async def unwarn_command(ctx: Context, who: str | None) -> None:
    """Revoke a member's newest active warning."""
    group = await _moderator_group(ctx)
    if group is None:
        return
    member = await _target(ctx, group, who)
    state = get_state(ctx.services)
    revoked = await state.repos.sanctions.revoke_latest_warning(member.id, ctx.now)
    if revoked is None:
        raise BadArgument("moderation.no_warnings")
    left = len(await state.repos.sanctions.active_warnings(member.id, ctx.now))
    await state.repos.audit.log(
        group.id, ctx.now, ctx.user.user_id, "unwarn", f"warning={revoked.id}", member_id=member.id
    )
    await ctx.reply(ctx.parts("moderation.unwarned", member=_ref(ctx.services, group, member), count=left))


@router.command(
    "warns",
    usage="moderation.usage.warns",
    help="moderation.help.warns",
    min_role=Role.MODERATOR,
    args=[_WHO],
)
async def warns_command(ctx: Context, who: str | None) -> None:
    """List a member's active warnings."""
    group = await _moderator_group(ctx)
    if group is None:
        return
    member = await _target(ctx, group, who)
    state = get_state(ctx.services)
    active = await state.repos.sanctions.active_warnings(member.id, ctx.now)
    lines = [ctx.t("moderation.warns.header", name=member.display_name, count=len(active), max=WARNING_MAX)]
    for w in active:
        local = w.created_at.astimezone(ctx.zone)
        what = ctx.t(category_key(w.category)) if w.category else (w.reason or "—")
        lines.append(
            ctx.t(
                "moderation.warns.line",
                date=local.strftime("%m-%d %H:%M"),
                what=what,
                expires=w.expires_at.astimezone(ctx.zone).strftime("%m-%d"),
            )
        )
    linked = ctx.services.ports.find(LinkedAccounts)
    if linked is not None:
        # The member's record names the accounts they linked on other platforms.
        me = (group.platform, member.user_id)
        others = [
            f"{p}:{u}" if not u.startswith(f"{p}:") else u
            for p, u in await linked.accounts(*me)
            if (p, u) != me
        ]
        if others:
            lines.append(ctx.t("moderation.warns.linked", accounts=", ".join(others)))
    await ctx.reply("\n".join(lines))


async def _sanction_command(
    ctx: Context, kind: str, who: str | None, duration: timedelta | None, rest: str
) -> None:
    group = await _moderator_group(ctx)
    if group is None:
        return
    member = await _target(ctx, group, who)
    services = ctx.services
    if duration is None and kind == "mute":
        duration = _minutes((await services.settings.of(group.id, ModerationSettings)).default_mute_minutes)
    reason = rest.strip()[:200] or None
    steps: list[Step] = []
    shared = Shared()
    ok = await sanction(
        services, group, member, kind, duration, reason, ctx.user.user_id, steps, shared=shared
    )
    if not ok:
        await ctx.reply(ctx.t("moderation.action_failed", what=ctx.t(f"moderation.why.{steps[-1].why}")))
        return
    if duration is None:
        key, extra = f"moderation.{kind}ned_forever" if kind == "ban" else "moderation.muted_forever", {}
    else:
        key, extra = (
            f"moderation.{kind}d" if kind == "mute" else "moderation.banned",
            {"duration": human_duration(services, ctx.lang, duration.total_seconds())},
        )
    await ctx.reply(
        ctx.parts(key, member=_ref(services, group, member), **extra) + _shared_lines(ctx, shared)
    )


_SANCTION = [_WHO, Duration("duration", if_number=True), _REST]


@router.command(
    "mute",
    usage="moderation.usage.mute",
    help="moderation.help.mute",
    min_role=Role.MODERATOR,
    args=_SANCTION,
)
async def mute_command(ctx: Context, who: str | None, duration: timedelta | None, rest: str) -> None:
    """Mute a member for a while (default from settings)."""
    await _sanction_command(ctx, "mute", who, duration, rest)


@router.command(
    "ban", usage="moderation.usage.ban", help="moderation.help.ban", min_role=Role.MODERATOR, args=_SANCTION
)
async def ban_command(ctx: Context, who: str | None, duration: timedelta | None, rest: str) -> None:
    """Ban a member, for good or for a while."""
    await _sanction_command(ctx, "ban", who, duration, rest)


async def _lift_command(ctx: Context, kind: str, who: str | None) -> None:
    group = await _moderator_group(ctx)
    if group is None:
        return
    member = await _target(ctx, group, who)
    steps: list[Step] = []
    shared = Shared()
    ok = await lift(ctx.services, group, member, kind, ctx.user.user_id, steps, shared=shared)
    if not ok:
        await ctx.reply(ctx.t("moderation.action_failed", what=ctx.t(f"moderation.why.{steps[-1].why}")))
        return
    key = "moderation.unmuted" if kind == "mute" else "moderation.unbanned"
    await ctx.reply(ctx.parts(key, member=_ref(ctx.services, group, member)) + _shared_lines(ctx, shared))


def _shared_lines(ctx: Context, shared: Shared) -> tuple[Part, ...]:
    """The community's other chats the action reached, and those where it could not."""
    lines = []
    if shared.applied:
        lines.append(ctx.t("moderation.shared.applied", chats=", ".join(shared.applied)))
    if shared.failed:
        lines.append(ctx.t("moderation.shared.failed", chats=", ".join(shared.failed)))
    return (Text("\n" + "\n".join(lines)),) if lines else ()


@router.command(
    "unmute",
    usage="moderation.usage.unmute",
    help="moderation.help.unmute",
    min_role=Role.MODERATOR,
    args=[_WHO],
)
async def unmute_command(ctx: Context, who: str | None) -> None:
    """Let a muted member speak again."""
    await _lift_command(ctx, "mute", who)


@router.command(
    "unban",
    usage="moderation.usage.unban",
    help="moderation.help.unban",
    min_role=Role.MODERATOR,
    args=[_WHO],
)
async def unban_command(ctx: Context, who: str | None) -> None:
    """Lift a ban."""
    await _lift_command(ctx, "ban", who)


@router.command(
    "kick",
    usage="moderation.usage.kick",
    help="moderation.help.kick",
    min_role=Role.MODERATOR,
    args=[_WHO, _REST],
)
async def kick_command(ctx: Context, who: str | None, rest: str) -> None:
    """Remove a member who may come back."""
    group = await _moderator_group(ctx)
    if group is None:
        return
    member = await _target(ctx, group, who)
    steps: list[Step] = []
    services = ctx.services
    ok = await attempt(
        steps,
        "kick",
        ctx.adapter,
        lambda: ctx.adapter.kick(services.directory.chat_for(group), member.user_id),
    )
    state = get_state(services)
    await state.repos.audit.log(
        group.id,
        ctx.now,
        ctx.user.user_id,
        "kick" if ok else "kick_failed",
        rest[:200],
        member_id=member.id,
    )
    if not ok:
        await ctx.reply(ctx.t("moderation.action_failed", what=ctx.t(f"moderation.why.{steps[-1].why}")))
        return
    await ctx.reply(ctx.parts("moderation.kicked", member=_ref(services, group, member)))


@router.command(
    "del",
    usage="moderation.usage.del",
    help="moderation.help.del",
    min_role=Role.MODERATOR,
    ignore_extra=True,
)
async def del_command(ctx: Context) -> None:
    """Delete the message this command replies to."""
    group = await _moderator_group(ctx)
    if group is None:
        return
    message = ctx.message
    if message is None or message.reply_to is None:
        raise BadArgument("moderation.del_needs_reply")
    steps: list[Step] = []
    target_id, own_id = message.reply_to, message.message_id
    ok = await attempt(steps, "delete", ctx.adapter, lambda: ctx.adapter.delete(ctx.chat, target_id))
    state = get_state(ctx.services)
    author = message.reply_to_user
    target = await ctx.services.directory.member_for(group, author) if author else None
    await state.repos.audit.log(
        group.id,
        ctx.now,
        ctx.user.user_id,
        "delete" if ok else "delete_failed",
        f"message={message.reply_to}",
        member_id=target.id if target else None,
    )
    if not ok:
        await ctx.reply(ctx.t("moderation.action_failed", what=ctx.t(f"moderation.why.{steps[-1].why}")))
    else:
        await attempt([], "delete", ctx.adapter, lambda: ctx.adapter.delete(ctx.chat, own_id))


@router.command("credit", usage="moderation.usage.credit", help="moderation.help.credit", args=[_WHO])
async def credit_command(ctx: Context, who: str | None) -> None:
    """A member's credit score and level (their own, or anyone's for moderators)."""
    group = ctx.group
    assert group is not None and ctx.member is not None
    services = ctx.services
    if who is not None or (ctx.reply_target is not None and ctx.reply_target.user_id != ctx.user.user_id):
        if await ctx.role() < Role.MODERATOR:
            raise BadArgument("moderation.credit_others")
        member = (
            await resolve_member(ctx, who)
            if who is not None
            else await services.directory.member_for(group, ctx.reply_target)  # type: ignore[arg-type]
        )
    else:
        member = ctx.member
    score = await current_credit(services, group, member)
    level = ctx.t(f"moderation.credit_level.{credit_level(score)}")
    await ctx.reply(
        ctx.parts("moderation.credit", member=_ref(services, group, member), score=score, level=level)
    )
