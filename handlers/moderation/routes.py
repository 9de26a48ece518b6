"""Moderation handlers: the band-0 screen, the action plans, moderator and lexicon commands, reports."""

from __future__ import annotations

import asyncio
import functools
import statistics
from datetime import timedelta
from typing import Any

from bot.args import (
    BadArgument,
    UsageError,
    button_fields,
    decode_id,
    looks_like_duration,
    parse_duration,
    parse_id,
    resolve_member,
)
from bot.context import Context
from bot.errors import CapabilityNotSupported, QunyouError
from bot.events import ButtonPressed, MessageEvent, UserRef
from bot.messages import OutgoingMessage, Text
from bot.roles import Role
from bot.router import Band, Invocation, Router
from bot.scheduler import At
from bot.services import Services
from handlers.moderation.folding import fold
from handlers.moderation.lexicon import normalise_category, parse_import
from handlers.moderation.matcher import Hit, Level, LexiconError, Matcher, Mode, Report, validate_term
from handlers.moderation.service import (
    BOT_ACTOR,
    JOB_ESCALATE,
    WARNING_LADDER,
    WARNING_MAX,
    Step,
    attempt,
    category_key,
    change_credit,
    credit_level,
    current_credit,
    edit_alert_messages,
    ensure_digest,
    get_state,
    handled_message,
    hit_alert_message,
    human_duration,
    lift,
    notify,
    percentile,
    queue_yellow,
    refs_of,
    sanction,
    send_alert,
)
from storage.models import Group, Member
from storage.moderation import AlertRow

router = Router("moderation")

#: Vendors cap a group's own list around this size; it also bounds rebuild time.
MAX_GROUP_TERMS = 10_000


async def _setting(services: Services, group: Group, key: str) -> Any:
    return await services.settings.get(group.id, key)


def _minutes(value: Any) -> timedelta:
    return timedelta(minutes=int(value))


# -- the screen (band 0) -------------------------------------------------------------------


@router.message(band=Band.MODERATION)
async def screen(ctx: Context) -> None:
    """Check every group message (and edit) against the lexicon and the flood limits."""
    group, member, message = ctx.group, ctx.member, ctx.message
    if group is None or member is None or message is None or ctx.user.is_bot:
        return
    services = ctx.services
    state = get_state(services)
    # An edit replaces what a later report quotes.
    state.remember(group.id, message.message_id, member.user_id, message.text)
    if not await ctx.setting("moderation.enabled"):
        return
    matcher = await state.matcher(group.id)
    pinyin = bool(await ctx.setting("moderation.pinyin"))
    if pinyin:
        await _pinyin_ready(matcher)
    hits = matcher.check(message.text, pinyin=pinyin) if message.text else []
    flood = None
    if not message.edited:
        flood = state.flood.observe(
            group.id,
            member.user_id,
            message.at,
            message.text,
            max_messages=int(await ctx.setting("moderation.flood_messages")),
            window=timedelta(seconds=int(await ctx.setting("moderation.flood_seconds"))),
            max_identical=int(await ctx.setting("moderation.flood_identical")),
            identical_window=timedelta(seconds=int(await ctx.setting("moderation.flood_identical_seconds"))),
        )
    if flood is not None and _is_command(ctx, message):
        flood = None  # commands answer the member; repeating one (/ping, 签到) is not chat flooding
    if not hits and flood is None:
        return
    # A moderator chat is screened like any group, by its own lexicon and its own roles: being
    # linked as another group's moderator chat never switches a chat's defences off.
    role = await ctx.role()
    if role >= Role.MODERATOR and await ctx.setting("moderation.exempt_moderators"):
        return
    if role >= Role.MODERATOR and _is_moderation_command(ctx, message):
        return  # a moderator typing /kw add … is managing the lexicon, not breaking it
    if hits:
        await _handle_hits(ctx, group, member, message, hits)
    elif flood is not None:
        await _handle_flood(ctx, group, member, flood)


def _is_command(ctx: Context, message: MessageEvent) -> bool:
    table = ctx.services.commands
    if table is None:
        return False
    me = ctx.adapter.me.username if ctx.adapter.me else None
    return isinstance(table.parse(message.text, me), Invocation)


def _is_moderation_command(ctx: Context, message: MessageEvent) -> bool:
    table = ctx.services.commands
    if table is None:
        return False
    me = ctx.adapter.me.username if ctx.adapter.me else None
    parsed = table.parse(message.text, me)
    return isinstance(parsed, Invocation) and parsed.command.feature == "moderation"


async def _handle_hits(
    ctx: Context, group: Group, member: Member, message: MessageEvent, hits: list[Hit]
) -> None:
    services = ctx.services
    state = get_state(services)
    top = max(hits, key=lambda h: (h.level, -h.start))
    level = top.level
    score = await current_credit(services, group, member)
    by_credit = level is Level.YELLOW and credit_level(score) == "danger"
    if by_credit:
        level = Level.RED
    now = ctx.now
    for term in sorted({h.entry.term for h in hits}):
        await state.repos.lexicon.count_hit(group.id, term)
    category = top.entry.category
    await state.repos.audit.log(
        group.id,
        now,
        BOT_ACTOR,
        "hit",
        f"level={level.label} category={category} entry={top.entry.entry_id or 'global'}"
        + (" edited" if message.edited else "")
        + (" credit_escalated" if by_credit else ""),
        member_id=member.id,
    )
    if level is Level.BLUE:
        await state.repos.alerts.add_alert(
            group_id=group.id,
            kind="hit",
            now=now,
            level="blue",
            category=category,
            member_id=member.id,
            user_id=member.user_id,
            message_id=message.message_id,
            term_key=top.entry.term,
        )
        await ensure_digest(services, group)
        return
    ctx.stop()
    if state.surge_hit(
        group.id,
        now,
        int(await ctx.setting("moderation.surge_hits")),
        _minutes(await ctx.setting("moderation.surge_minutes")),
    ):
        await _surge_alert(services, group)
    steps: list[Step] = []
    await attempt(steps, "delete", ctx.adapter, lambda: ctx.adapter.delete(ctx.chat, message.message_id))
    await ensure_digest(services, group)
    if level is Level.YELLOW:
        await _yellow(ctx, group, member, message, category, top.entry.term, steps)
    else:
        await _red(ctx, group, member, message, category, top.entry.term, steps, by_credit)


async def _yellow(
    ctx: Context,
    group: Group,
    member: Member,
    message: MessageEvent,
    category: str,
    term: str,
    steps: list[Step],
) -> None:
    services = ctx.services
    state = get_state(services)
    now = ctx.now
    before = await current_credit(services, group, member)
    after = await change_credit(services, group, member, -int(await ctx.setting("moderation.yellow_credit")))
    steps.append(Step("credit", True))
    alert_id = await state.repos.alerts.add_alert(
        group_id=group.id,
        kind="hit",
        now=now,
        level="yellow",
        category=category,
        member_id=member.id,
        user_id=member.user_id,
        message_id=message.message_id,
        term_key=term,
        credit_delta=after - before,
    )
    count = await _warn(services, group, member, category, None, BOT_ACTOR, alert_id)
    steps.append(Step("warn", True))
    user = ctx.user
    parts = list(
        ctx.parts(
            "moderation.public.yellow",
            member=user,
            category=ctx.t(category_key(category)),
            count=min(count, WARNING_MAX),
            max=WARNING_MAX,
            days=int(await ctx.setting("moderation.warning_days")),
        )
    )
    ladder = await _ladder(services, group, member, count, BOT_ACTOR, steps, alert_id)
    if ladder:
        parts.append(Text(" " + ctx.t(ladder)))
    await _public(ctx, OutgoingMessage(parts=tuple(parts)))
    await state.repos.alerts.set_alert(alert_id, steps=[s.as_dict() for s in steps])
    await state.repos.audit.log(
        group.id, now, BOT_ACTOR, "yellow", _steps_detail(steps), member_id=member.id, alert_id=alert_id
    )
    await queue_yellow(services, group)


async def _red(
    ctx: Context,
    group: Group,
    member: Member,
    message: MessageEvent,
    category: str,
    term: str,
    steps: list[Step],
    by_credit: bool,
) -> None:
    services = ctx.services
    state = get_state(services)
    now = ctx.now
    action = str(await ctx.setting("moderation.red_action"))
    duration = _minutes(await ctx.setting("moderation.red_mute_minutes")) if action == "mute" else None
    before = await current_credit(services, group, member)
    alert_id = await state.repos.alerts.add_alert(
        group_id=group.id,
        kind="hit",
        now=now,
        level="red",
        category=category,
        member_id=member.id,
        user_id=member.user_id,
        message_id=message.message_id,
        term_key=term,
        sanction=action,
    )
    ok = await sanction(services, group, member, action, duration, None, BOT_ACTOR, steps, alert_id)
    after = await change_credit(services, group, member, -int(await ctx.setting("moderation.red_credit")))
    steps.append(Step("credit", True))
    if by_credit:
        steps.append(Step("credit_escalated", True))
    await state.repos.alerts.set_alert(
        alert_id, steps=[s.as_dict() for s in steps], credit_delta=after - before
    )
    category_label = ctx.t(category_key(category))
    if ok and duration is not None:
        key, extra = (
            "moderation.public.red_mute",
            {"duration": human_duration(services, ctx.lang, duration.total_seconds())},
        )
    elif ok:
        key, extra = "moderation.public.red_ban", {}
    else:
        key, extra = "moderation.public.red_removed", {}
    await _public(
        ctx, OutgoingMessage(parts=ctx.parts(key, member=ctx.user, category=category_label, **extra))
    )
    await state.repos.audit.log(
        group.id, now, BOT_ACTOR, "red", _steps_detail(steps), member_id=member.id, alert_id=alert_id
    )
    await send_alert(services, group, alert_id)
    delay = _minutes(await ctx.setting("moderation.escalate_minutes"))
    await services.scheduler.schedule(
        f"mod-esc:{alert_id}", JOB_ESCALATE, At(now + delay), {"alert": alert_id}, group_id=group.id
    )


async def _handle_flood(ctx: Context, group: Group, member: Member, kind: str) -> None:
    services = ctx.services
    state = get_state(services)
    now = ctx.now
    steps: list[Step] = []
    duration = _minutes(await ctx.setting("moderation.flood_mute_minutes"))
    alert_id = await state.repos.alerts.add_alert(
        group_id=group.id,
        kind="flood",
        now=now,
        level="yellow",
        category="flood",
        member_id=member.id,
        user_id=member.user_id,
        sanction="mute",
        excerpt=ctx.t(f"moderation.flood.{kind}"),
    )
    ok = await sanction(services, group, member, "mute", duration, "flood", BOT_ACTOR, steps, alert_id)
    await state.repos.alerts.set_alert(alert_id, steps=[s.as_dict() for s in steps])
    if ok:
        minutes = human_duration(services, ctx.lang, duration.total_seconds())
        await _public(
            ctx,
            OutgoingMessage(parts=ctx.parts("moderation.public.flood", member=ctx.user, duration=minutes)),
        )
    await state.repos.audit.log(
        group.id,
        now,
        BOT_ACTOR,
        "flood",
        f"{kind} {_steps_detail(steps)}",
        member_id=member.id,
        alert_id=alert_id,
    )
    await send_alert(services, group, alert_id)
    ctx.stop()


async def _surge_alert(services: Services, group: Group) -> None:
    state = get_state(services)
    hits = int(await services.settings.get(group.id, "moderation.surge_hits"))
    minutes = int(await services.settings.get(group.id, "moderation.surge_minutes"))
    now = services.clock.now()
    alert_id = await state.repos.alerts.add_alert(group_id=group.id, kind="surge", now=now, level="red")
    # A surge is a heads-up with nothing to undo: it is closed at once so open lists stay actionable.
    await state.repos.alerts.handle_alert(alert_id, "resolved", BOT_ACTOR, now)
    text = services.i18n.t(group.language, "moderation.alert.surge", id=alert_id, hits=hits, minutes=minutes)
    await notify(services, group, OutgoingMessage.of(text))
    await state.repos.audit.log(
        group.id, services.clock.now(), BOT_ACTOR, "surge", f"> {hits} in {minutes}m", alert_id=alert_id
    )


async def _public(ctx: Context, message: OutgoingMessage) -> None:
    try:
        await ctx.send(message)
    except QunyouError:
        pass  # the alert already lists what happened; a failed notice must not stop the plan


def _steps_detail(steps: list[Step]) -> str:
    return " ".join(f"{s.name}={'ok' if s.ok else s.why}" for s in steps)


async def _warn(
    services: Services,
    group: Group,
    member: Member,
    category: str | None,
    reason: str | None,
    actor: str,
    alert_id: int | None,
) -> int:
    state = get_state(services)
    now = services.clock.now()
    days = int(await services.settings.get(group.id, "moderation.warning_days"))
    count = await state.repos.sanctions.add_warning(
        group.id,
        member.id,
        reason=reason,
        category=category,
        by=actor,
        now=now,
        expires_at=now + timedelta(days=days),
        alert_id=alert_id,
    )
    await state.repos.audit.log(
        group.id,
        now,
        actor,
        "warn",
        f"count={count} " + (reason or ""),
        member_id=member.id,
        alert_id=alert_id,
    )
    return count


async def _ladder(
    services: Services,
    group: Group,
    member: Member,
    count: int,
    actor: str,
    steps: list[Step],
    alert_id: int | None,
) -> str | None:
    """Apply the warning ladder; returns the translation key describing what happened."""
    rule = WARNING_LADDER.get(min(count, WARNING_MAX))
    if rule is None:
        return None
    kind, duration = rule
    ok = await sanction(services, group, member, kind, duration, f"warnings={count}", actor, steps, alert_id)
    if not ok:
        return "moderation.public.ladder_failed"
    if kind == "ban":
        return "moderation.public.ladder_ban"
    return (
        "moderation.public.ladder_mute_1h"
        if duration == timedelta(hours=1)
        else "moderation.public.ladder_mute_24h"
    )


# -- where commands act and where lists go -------------------------------------------------


async def _target_group(ctx: Context) -> Group | None:
    """The group a command acts on: this group, or the group whose consented moderator chat
    this is (``/modchat link``, or the platform's convention such as the console's ``X-mods``)."""
    if ctx.group is None:
        return None
    assert ctx.services.alerts is not None
    return await ctx.services.alerts.moderated_group(ctx.group, ctx.chat) or ctx.group


async def _moderator_group(ctx: Context) -> Group | None:
    """The target group, after checking the caller moderates it.

    Returns None after giving the same polite refusal as the core when they do not. A command
    typed in a moderator chat acts on the linked group, so it needs moderator rank in both: in
    that group, and in the chat it is typed in.
    """
    group = await _target_group(ctx)
    if group is None:
        raise BadArgument("core.args.group_only")
    role = await ctx.role()
    if ctx.group is not None and group.id != ctx.group.id:
        role = min(role, await ctx.role_in(group))
    if role < Role.MODERATOR:
        await ctx.reply(ctx.t("core.denied"))
        return None
    return group


async def _deliver(ctx: Context, group: Group, text: str) -> None:
    """Send a list to a non-public place: here if private or the moderator chat, else there."""
    services = ctx.services
    if ctx.chat.is_private or (ctx.group is not None and ctx.group.id != group.id):
        await ctx.reply(text)
        return
    assert services.alerts is not None
    chat = await services.alerts.moderator_chat(group)
    if chat is not None:
        await services.send(chat, OutgoingMessage.of(text), group.language)
        await ctx.reply(ctx.t("moderation.sent_to_mods"))
        return
    try:
        await ctx.send_private(text)
    except (CapabilityNotSupported, QunyouError):
        await ctx.reply(ctx.t("moderation.no_private_place"))
        return
    await ctx.reply(ctx.t("moderation.sent_privately"))


async def _hide_command(ctx: Context, group: Group) -> None:
    """Delete a lexicon command typed in the public group, so the term does not stay on show."""
    if ctx.group is None or ctx.group.id != group.id or ctx.message is None:
        return
    steps: list[Step] = []
    message_id = ctx.message.message_id
    await attempt(steps, "delete", ctx.adapter, lambda: ctx.adapter.delete(ctx.chat, message_id))


# -- moderator commands --------------------------------------------------------------------


async def _target(ctx: Context, group: Group) -> tuple[Member, list[str]]:
    """The member a moderator command is about (reply or first argument) and the other args."""
    args = list(ctx.args)
    services = ctx.services
    if ctx.reply_target is not None and not (args and args[0].startswith("@")):
        member = await services.directory.member_for(group, ctx.reply_target)
    else:
        if not args:
            raise BadArgument("moderation.no_target")
        member = await resolve_member(ctx, args[0])
        args = args[1:]
    me = ctx.adapter.me
    if me is not None and member.user_id == me.user_id:
        raise BadArgument("moderation.target_bot")
    if member.user_id == ctx.user.user_id:
        raise BadArgument("moderation.target_self")
    if await ctx.role_of(member.user_id) >= Role.MODERATOR:
        raise BadArgument("moderation.target_moderator")
    return member, args


def _duration_and_reason(args: list[str], default: timedelta | None) -> tuple[timedelta | None, str | None]:
    duration: timedelta | None
    if args and (looks_like_duration(args[0]) or args[0][:1].isdigit()):
        duration = parse_duration(args[0])  # raises a clear "can't read the duration" otherwise
        args = args[1:]
    else:
        duration = default
    reason = " ".join(args).strip()[:200] or None
    return duration, reason


def _ref(services: Services, group: Group, member: Member) -> UserRef:
    return services.directory.user_ref(member, group.platform)


@router.command("warn", usage="moderation.usage.warn", help="moderation.help.warn", min_role=Role.MODERATOR)
async def warn_command(ctx: Context) -> None:
    """Warn a member; the warning ladder applies."""
    group = await _moderator_group(ctx)
    if group is None:
        return
    member, rest = await _target(ctx, group)
    reason = " ".join(rest).strip()[:200] or None
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
    "unwarn", usage="moderation.usage.unwarn", help="moderation.help.unwarn", min_role=Role.MODERATOR
)
async def unwarn_command(ctx: Context) -> None:
    """Revoke a member's newest active warning."""
    group = await _moderator_group(ctx)
    if group is None:
        return
    member, _ = await _target(ctx, group)
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
    "warns", usage="moderation.usage.warns", help="moderation.help.warns", min_role=Role.MODERATOR
)
async def warns_command(ctx: Context) -> None:
    """List a member's active warnings."""
    group = await _moderator_group(ctx)
    if group is None:
        return
    member, _ = await _target(ctx, group)
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
    await ctx.reply("\n".join(lines))


async def _sanction_command(ctx: Context, kind: str) -> None:
    group = await _moderator_group(ctx)
    if group is None:
        return
    member, rest = await _target(ctx, group)
    services = ctx.services
    default = (
        _minutes(await _setting(services, group, "moderation.default_mute_minutes"))
        if kind == "mute"
        else None
    )
    duration, reason = _duration_and_reason(rest, default)
    steps: list[Step] = []
    ok = await sanction(services, group, member, kind, duration, reason, ctx.user.user_id, steps)
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
    await ctx.reply(ctx.parts(key, member=_ref(services, group, member), **extra))


@router.command("mute", usage="moderation.usage.mute", help="moderation.help.mute", min_role=Role.MODERATOR)
async def mute_command(ctx: Context) -> None:
    """Mute a member for a while (default from settings)."""
    await _sanction_command(ctx, "mute")


@router.command("ban", usage="moderation.usage.ban", help="moderation.help.ban", min_role=Role.MODERATOR)
async def ban_command(ctx: Context) -> None:
    """Ban a member, for good or for a while."""
    await _sanction_command(ctx, "ban")


async def _lift_command(ctx: Context, kind: str) -> None:
    group = await _moderator_group(ctx)
    if group is None:
        return
    member, _ = await _target(ctx, group)
    steps: list[Step] = []
    ok = await lift(ctx.services, group, member, kind, ctx.user.user_id, steps)
    if not ok:
        await ctx.reply(ctx.t("moderation.action_failed", what=ctx.t(f"moderation.why.{steps[-1].why}")))
        return
    key = "moderation.unmuted" if kind == "mute" else "moderation.unbanned"
    await ctx.reply(ctx.parts(key, member=_ref(ctx.services, group, member)))


@router.command(
    "unmute", usage="moderation.usage.unmute", help="moderation.help.unmute", min_role=Role.MODERATOR
)
async def unmute_command(ctx: Context) -> None:
    """Let a muted member speak again."""
    await _lift_command(ctx, "mute")


@router.command(
    "unban", usage="moderation.usage.unban", help="moderation.help.unban", min_role=Role.MODERATOR
)
async def unban_command(ctx: Context) -> None:
    """Lift a ban."""
    await _lift_command(ctx, "ban")


@router.command("kick", usage="moderation.usage.kick", help="moderation.help.kick", min_role=Role.MODERATOR)
async def kick_command(ctx: Context) -> None:
    """Remove a member who may come back."""
    group = await _moderator_group(ctx)
    if group is None:
        return
    member, rest = await _target(ctx, group)
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
        " ".join(rest)[:200],
        member_id=member.id,
    )
    if not ok:
        await ctx.reply(ctx.t("moderation.action_failed", what=ctx.t(f"moderation.why.{steps[-1].why}")))
        return
    await ctx.reply(ctx.parts("moderation.kicked", member=_ref(services, group, member)))


@router.command("del", usage="moderation.usage.del", help="moderation.help.del", min_role=Role.MODERATOR)
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


@router.command("credit", usage="moderation.usage.credit", help="moderation.help.credit")
async def credit_command(ctx: Context) -> None:
    """A member's credit score and level (their own, or anyone's for moderators)."""
    group = ctx.group
    assert group is not None and ctx.member is not None
    services = ctx.services
    if ctx.args or (ctx.reply_target is not None and ctx.reply_target.user_id != ctx.user.user_id):
        if await ctx.role() < Role.MODERATOR:
            raise BadArgument("moderation.credit_others")
        member = (
            await resolve_member(ctx, ctx.args[0])
            if ctx.args
            else await services.directory.member_for(group, ctx.reply_target)  # type: ignore[arg-type]
        )
    else:
        member = ctx.member
    score = await current_credit(services, group, member)
    level = ctx.t(f"moderation.credit_level.{credit_level(score)}")
    await ctx.reply(
        ctx.parts("moderation.credit", member=_ref(services, group, member), score=score, level=level)
    )


@router.command(
    "alerts", usage="moderation.usage.alerts", help="moderation.help.alerts", min_role=Role.MODERATOR
)
async def alerts_command(ctx: Context) -> None:
    """Recent alerts (open ones by default) with their status."""
    group = await _moderator_group(ctx)
    if group is None:
        return
    which = (ctx.args[0].lower() if ctx.args else "open").strip()
    if which not in ("open", "all"):
        raise UsageError()
    state = get_state(ctx.services)
    rows = await state.repos.alerts.alerts(group.id, status="open" if which == "open" else None, limit=30)
    if not rows:
        await ctx.reply(ctx.t("moderation.alerts.none"))
        return
    lines = [ctx.t("moderation.alerts.header", count=len(rows))]
    for a in rows:
        who = "—"
        if a.member_id:
            found = await ctx.services.members.get(a.member_id)
            who = found.display_name if found else "—"
        lines.append(
            ctx.t(
                "moderation.alerts.line",
                id=a.id,
                kind=ctx.t(f"moderation.kind.{a.kind}"),
                level=ctx.t(f"moderation.level.{a.level}") if a.level else "—",
                category=ctx.t(category_key(a.category)),
                member=who,
                status=ctx.t(f"moderation.status.{a.status}"),
                time=a.created_at.astimezone(ctx.zone).strftime("%m-%d %H:%M"),
            )
        )
    await _deliver(ctx, group, "\n".join(lines))


@router.command("ack", usage="moderation.usage.ack", help="moderation.help.ack", min_role=Role.MODERATOR)
async def ack_command(ctx: Context) -> None:
    """Acknowledge an alert by its number (as the Acknowledge button does)."""
    group = await _moderator_group(ctx)
    if group is None:
        return
    alert_id = parse_id(ctx.args[0] if ctx.args else None)
    state = get_state(ctx.services)
    alert = await state.repos.alerts.alert(alert_id)
    if alert is None or alert.group_id != group.id:
        raise BadArgument("moderation.ack.unknown", id=alert_id)
    await ctx.reply(await _act_on_alert(ctx.services, group, alert, "ack", ctx.user, ctx.lang))


@router.command(
    "modlog", usage="moderation.usage.modlog", help="moderation.help.modlog", min_role=Role.MODERATOR
)
async def modlog_command(ctx: Context) -> None:
    """The audit log of the group, or of one member."""
    group = await _moderator_group(ctx)
    if group is None:
        return
    services = ctx.services
    member = None
    if ctx.args or ctx.reply_target is not None:
        member = (
            await resolve_member(ctx, ctx.args[0])
            if ctx.args
            else await services.directory.member_for(group, ctx.reply_target)  # type: ignore[arg-type]
        )
    state = get_state(services)
    rows = await state.repos.audit.log_rows(group.id, member.id if member else None, limit=25)
    if not rows:
        await ctx.reply(ctx.t("moderation.modlog.none"))
        return
    names: dict[int, str] = {}
    lines = [ctx.t("moderation.modlog.header", count=len(rows))]
    for row in rows:
        name = "—"
        if row.member_id is not None:
            if row.member_id not in names:
                found = await services.members.get(row.member_id)
                names[row.member_id] = found.display_name if found else "—"
            name = names[row.member_id]
        lines.append(
            ctx.t(
                "moderation.modlog.line",
                time=row.at.astimezone(ctx.zone).strftime("%m-%d %H:%M"),
                actor=row.actor,
                action=row.action,
                member=name,
                detail=row.detail[:80],
            )
        )
    await _deliver(ctx, group, "\n".join(lines))


# -- alert buttons -------------------------------------------------------------------------


@router.button("mod:")
async def alert_button(ctx: Context) -> None:
    """Acknowledge / Undo / Ban / Delete pressed under an alert."""
    event = ctx.event
    assert isinstance(event, ButtonPressed)
    pieces = button_fields(event.data, 3)
    alert_id = decode_id(pieces[2]) if pieces else None
    if pieces is None or alert_id is None:
        return  # forged or garbled: no alert has that id
    action = pieces[1]
    services = ctx.services
    state = get_state(services)
    alert = await state.repos.alerts.alert(alert_id)
    if alert is None:
        await ctx.reply(ctx.t("moderation.ack.unknown", id=alert_id))
        return
    group = await services.directory.group_by_id(alert.group_id)
    if group is None:
        return
    role = await ctx.role_in(group) if ctx.group is None or ctx.group.id != group.id else await ctx.role()
    if role < Role.MODERATOR:
        await ctx.reply(ctx.t("core.denied"))
        return
    await ctx.reply(await _act_on_alert(services, group, alert, action, ctx.user, ctx.lang))


async def _act_on_alert(
    services: Services, group: Group, alert: AlertRow, action: str, actor: UserRef, lang: str
) -> str:
    """Handle an alert: ``ack``, ``undo``, ``ban`` or ``del``; returns the confirmation text."""
    state = get_state(services)
    t = services.i18n.t
    now = services.clock.now()
    status = {
        "ack": "resolved" if alert.kind == "report" else "acked",
        "undo": "undone",
        "ban": "banned",
        "del": "resolved",
    }.get(action)
    if status is None or (action == "undo" and alert.kind not in ("hit", "flood")):
        return t(lang, "moderation.ack.unknown_action")
    if not await state.repos.alerts.handle_alert(alert.id, status, actor.user_id, now):
        fresh = await state.repos.alerts.alert(alert.id)
        return t(
            lang,
            "moderation.ack.already",
            id=alert.id,
            status=t(lang, f"moderation.status.{fresh.status if fresh else 'acked'}"),
            who=(fresh.handled_by if fresh else "—"),
        )
    member = await services.members.get(alert.member_id) if alert.member_id else None
    steps: list[Step] = []
    if action == "undo" and member is not None:
        if alert.sanction:
            await lift(services, group, member, alert.sanction, actor.user_id, steps)
        if alert.credit_delta:
            await change_credit(services, group, member, -alert.credit_delta)
        await state.repos.sanctions.revoke_warnings_of_alert(alert.id, now)
        if alert.term_key:
            await state.repos.lexicon.count_hit(group.id, alert.term_key, false_positive=True)
    elif action == "ban" and member is not None:
        await sanction(
            services, group, member, "ban", None, f"alert #{alert.id}", actor.user_id, steps, alert.id
        )
    elif action == "del" and alert.message_id:
        adapter = services.adapters[group.adapter]
        chat = services.directory.chat_for(group)
        message_id = alert.message_id
        await attempt(steps, "delete", adapter, lambda: adapter.delete(chat, message_id))
    await services.scheduler.cancel(f"mod-esc:{alert.id}")
    await state.repos.audit.log(
        group.id,
        now,
        actor.user_id,
        f"alert_{action}",
        _steps_detail(steps),
        member_id=alert.member_id,
        alert_id=alert.id,
    )
    fresh = await state.repos.alerts.alert(alert.id)
    if fresh is not None:
        if fresh.kind in ("hit", "flood", "report"):
            await edit_alert_messages(services, fresh, await handled_message(services, group, fresh, actor))
    failed = [s for s in steps if not s.ok]
    key = f"moderation.ack.{action}"
    text = t(lang, key, id=alert.id)
    if failed:
        text += "\n" + t(lang, "moderation.action_failed", what=t(lang, f"moderation.why.{failed[0].why}"))
    return text


# -- lexicon commands ----------------------------------------------------------------------


async def _kw_group(ctx: Context) -> tuple[bool, Group | None]:
    """(allowed, group): the group a lexicon command edits; None in a private chat, where only
    ``test`` works (against the global lexicon)."""
    if ctx.group is None:
        return True, None
    group = await _moderator_group(ctx)
    return group is not None, group


@router.command("kw", usage="moderation.usage.kw", help="moderation.help.kw", where="any")
async def kw_command(ctx: Context) -> None:
    """Lexicon management: add, del, list, test, import, export."""
    if not ctx.args:
        raise UsageError()
    sub = ctx.args[0].lower()
    allowed, group = await _kw_group(ctx)
    if not allowed:
        return
    if sub == "test":
        await _kw_test(ctx, group)
        return
    if group is None:
        await ctx.reply(ctx.t("moderation.kw.group_needed"))
        return
    if sub == "add":
        await _kw_add(ctx, group)
    elif sub in ("del", "delete", "rm"):
        await _kw_del(ctx, group)
    elif sub == "list":
        await _kw_list(ctx, group)
    elif sub == "import":
        await _kw_import(ctx, group)
    elif sub == "export":
        await _kw_export(ctx, group)
    else:
        raise UsageError()


def _lexicon_error(exc: LexiconError) -> BadArgument:
    return BadArgument(f"moderation.kw.{exc.code}")


async def _kw_add(ctx: Context, group: Group) -> None:
    args = ctx.args[1:]
    if len(args) < 2:
        raise UsageError()
    try:
        level = Level.parse(args[0])
    except ValueError:
        raise BadArgument("moderation.kw.bad_level", value=args[0][:12]) from None
    term = args[1]
    mode = Mode.TEXT
    category = None
    for extra in args[2:]:
        if extra.lower() in (m.value for m in Mode):
            mode = Mode(extra.lower())
        elif category is None:
            category = extra
    state = get_state(ctx.services)
    try:
        key = validate_term(term, mode, state.regex_timeout)
    except LexiconError as exc:
        raise _lexicon_error(exc) from None
    existing = await state.repos.lexicon.terms(group.id)
    if len(existing) >= MAX_GROUP_TERMS:
        raise BadArgument("moderation.kw.full", max=MAX_GROUP_TERMS)
    cat = normalise_category(category)
    await state.repos.lexicon.add_terms(
        group.id, [(term, key, level.label, cat, mode.value)], ctx.user.user_id, ctx.now
    )
    await state.repos.audit.log(
        group.id, ctx.now, ctx.user.user_id, "kw_add", f"level={level.label} category={cat} mode={mode.value}"
    )
    await _hide_command(ctx, group)
    await state.rebuild(group.id)
    await ctx.send(
        ctx.t(
            "moderation.kw.added",
            level=ctx.t(f"moderation.level.{level.label}"),
            category=ctx.t(category_key(cat)),
            size=len(existing) + 1,
        )
    )


async def _kw_del(ctx: Context, group: Group) -> None:
    if len(ctx.args) < 2:
        raise UsageError()
    term = " ".join(ctx.args[1:]) if len(ctx.args) > 2 else ctx.args[1]
    state = get_state(ctx.services)
    removed = await state.repos.lexicon.delete_term(group.id, fold(term) or term)
    if not removed and fold(term) != term:
        removed = await state.repos.lexicon.delete_term(group.id, term)
    await _hide_command(ctx, group)
    if not removed:
        in_global = fold(term) in set(state.global_layer.keys)
        await ctx.send(ctx.t("moderation.kw.global_term" if in_global else "moderation.kw.not_found"))
        return
    await state.repos.audit.log(group.id, ctx.now, ctx.user.user_id, "kw_del", f"removed={removed}")
    await state.rebuild(group.id)
    await ctx.send(ctx.t("moderation.kw.deleted", count=removed))


async def _kw_list(ctx: Context, group: Group) -> None:
    level_filter = None
    if len(ctx.args) > 1:
        try:
            level_filter = Level.parse(ctx.args[1]).label
        except ValueError:
            raise BadArgument("moderation.kw.bad_level", value=ctx.args[1][:12]) from None
    state = get_state(ctx.services)
    terms = [
        t
        for t in await state.repos.lexicon.terms(group.id)
        if level_filter is None or t.level == level_filter
    ]
    stats = await state.repos.lexicon.term_stats(group.id)
    lines = [ctx.t("moderation.kw.list_header", count=len(terms), global_count=state.global_layer.size)]
    for t in terms[:300]:
        st = stats.get(t.term)
        lines.append(
            ctx.t(
                "moderation.kw.list_line",
                level=ctx.t(f"moderation.level.{t.level}"),
                term=t.term,
                category=t.category,
                mode=t.mode,
                hits=st.hits if st else 0,
                fp=st.false_positives if st else 0,
            )
        )
    if len(terms) > 300:
        lines.append(ctx.t("moderation.kw.list_more", count=len(terms) - 300))
    await _deliver(ctx, group, "\n".join(lines))


async def _kw_test(ctx: Context, group: Group | None) -> None:
    pieces = ctx.arg_text.split(None, 1)
    text = pieces[1].strip() if len(pieces) > 1 else ""
    if not text:
        raise UsageError()
    state = get_state(ctx.services)
    matcher = await state.matcher(group.id) if group is not None else Matcher([state.global_layer])
    pinyin = group is not None and bool(await ctx.services.settings.get(group.id, "moderation.pinyin"))
    report = await _explain(matcher, text, pinyin=pinyin)
    lines = [ctx.t("moderation.kw.test_folded", folded=report.folded[:300])]
    if not report.candidates:
        lines.append(ctx.t("moderation.kw.test_none"))
    for cand in report.candidates[:30]:
        verdict = (
            ctx.t(f"moderation.reject.{cand.rejected}") if cand.rejected else ctx.t("moderation.reject.kept")
        )
        lines.append(
            ctx.t(
                "moderation.kw.test_candidate",
                term=cand.entry.term,
                level=ctx.t(f"moderation.level.{cand.entry.level.label}"),
                verdict=verdict,
            )
        )
    if report.hits:
        level = report.level
        assert level is not None
        lines.append(ctx.t("moderation.kw.test_level", level=ctx.t(f"moderation.level.{level.label}")))
        for hit in report.hits:
            if hit.downgraded:
                lines.append(ctx.t("moderation.kw.test_downgraded", term=hit.entry.term))
    else:
        lines.append(ctx.t("moderation.kw.test_clean"))
    if group is None:
        await ctx.reply("\n".join(lines))
    else:
        await _hide_command(ctx, group)
        await _deliver(ctx, group, "\n".join(lines))


async def _explain(matcher: Matcher, text: str, *, pinyin: bool = False) -> Report:
    # A long test text with many candidates costs milliseconds; keep it off the event loop.
    return await asyncio.to_thread(functools.partial(matcher.explain, text[:4096], pinyin=pinyin))


async def _pinyin_ready(matcher: Matcher) -> None:
    """Build the snapshot's pinyin automaton off the event loop (the first one imports pypinyin)."""
    if not matcher.pinyin_ready:
        await asyncio.to_thread(matcher.pinyin_index)


async def _kw_import(ctx: Context, group: Group) -> None:
    # Line numbers count from the first line after "/kw import".
    body = ctx.arg_text.partition("import")[2].lstrip(" \t").removeprefix("\n")
    if not body.strip():
        raise UsageError()
    state = get_state(ctx.services)
    existing = await state.repos.lexicon.terms(group.id)
    result = parse_import(body, {t.key for t in existing})
    room = MAX_GROUP_TERMS - len(existing)
    added = result.entries[: max(0, room)]
    rows = [(e.term, fold(e.term), e.level.label, e.category, e.mode.value) for e in added]
    await state.repos.lexicon.add_terms(group.id, rows, ctx.user.user_id, ctx.now)
    await state.repos.audit.log(
        group.id,
        ctx.now,
        ctx.user.user_id,
        "kw_import",
        f"added={len(added)} duplicates={len(result.duplicates)} invalid={len(result.invalid)}",
    )
    await _hide_command(ctx, group)
    if added:
        await state.rebuild(group.id)
    lines = [
        ctx.t(
            "moderation.kw.imported",
            added=len(added),
            duplicates=len(result.duplicates),
            invalid=len(result.invalid),
        )
    ]
    for number, code in result.invalid[:20]:
        lines.append(
            ctx.t("moderation.kw.invalid_line", line=number, reason=ctx.t(f"moderation.invalid.{code}"))
        )
    if len(result.entries) > len(added):
        lines.append(ctx.t("moderation.kw.full", max=MAX_GROUP_TERMS))
    await ctx.send("\n".join(lines))


async def _kw_export(ctx: Context, group: Group) -> None:
    state = get_state(ctx.services)
    terms = await state.repos.lexicon.terms(group.id)
    if not terms:
        await ctx.reply(ctx.t("moderation.kw.empty"))
        return
    lines = []
    for t in terms:
        quoted = f'"{t.term}"' if any(c.isspace() for c in t.term) else t.term
        lines.append(f"{t.level} {quoted} {t.category}" + ("" if t.mode == "text" else f" {t.mode}"))
    await _deliver(ctx, group, "\n".join(lines))


@router.command(
    "allow", usage="moderation.usage.allow", help="moderation.help.allow", min_role=Role.MODERATOR
)
async def allow_command(ctx: Context) -> None:
    """Allow-list phrases that cancel a hit inside them."""
    if not ctx.args:
        raise UsageError()
    group = await _moderator_group(ctx)
    if group is None:
        return
    sub = ctx.args[0].lower()
    state = get_state(ctx.services)
    if sub == "list":
        rows = await state.repos.lexicon.allow_terms(group.id)
        lines = [ctx.t("moderation.allow.header", count=len(rows))] + [f"• {r.term}" for r in rows]
        await _deliver(ctx, group, "\n".join(lines))
        return
    if sub not in ("add", "del", "delete", "rm") or len(ctx.args) < 2:
        raise UsageError()
    phrase = " ".join(ctx.args[1:])
    try:
        key = validate_term(phrase)
    except LexiconError as exc:
        raise _lexicon_error(exc) from None
    if sub == "add":
        changed = await state.repos.lexicon.add_allow(group.id, phrase, key, ctx.user.user_id, ctx.now)
        reply = "moderation.allow.added" if changed else "moderation.allow.exists"
    else:
        changed = await state.repos.lexicon.delete_allow(group.id, key)
        reply = "moderation.allow.deleted" if changed else "moderation.allow.not_found"
    if changed:
        await state.repos.audit.log(
            group.id, ctx.now, ctx.user.user_id, f"allow_{'add' if sub == 'add' else 'del'}", ""
        )
        await state.rebuild(group.id)
    await ctx.reply(ctx.t(reply))


# -- reports -------------------------------------------------------------------------------


@router.command("report", aliases=("举报",), usage="moderation.usage.report", help="moderation.help.report")
async def report_command(ctx: Context) -> None:
    """Report the replied-to message to the moderators."""
    group, message = ctx.group, ctx.message
    assert group is not None and message is not None and ctx.member is not None
    if message.reply_to is None or message.reply_to_user is None:
        raise BadArgument("moderation.report.needs_reply")
    services = ctx.services
    state = get_state(services)
    author = message.reply_to_user
    me = ctx.adapter.me
    if me is not None and author.user_id == me.user_id:
        raise BadArgument("moderation.report.not_bot")
    existing = await state.repos.alerts.report_alert_for(group.id, message.reply_to)
    if existing is not None:
        fresh_vote = await state.repos.alerts.add_reporter(existing.id, ctx.user.user_id)
        if fresh_vote:
            merged = await state.repos.alerts.alert(existing.id)
            if merged is not None:
                await edit_alert_messages(services, merged, await _report_message(services, group, merged))
            await state.repos.audit.log(
                group.id, ctx.now, ctx.user.user_id, "report_merged", "", alert_id=existing.id
            )
        await ctx.reply(ctx.t("moderation.report.thanks"))
        return
    target = await services.directory.member_for(group, author)
    remembered = state.recalled(group.id, message.reply_to)
    category = None
    excerpt = None
    if remembered is not None:
        reported = await state.matcher(group.id)
        pinyin = bool(await services.settings.get(group.id, "moderation.pinyin"))
        if pinyin:
            await _pinyin_ready(reported)
        hits = reported.check(remembered[1], pinyin=pinyin)
        red = [h for h in hits if h.level is Level.RED]
        if red:
            category = red[0].entry.category
            excerpt = ctx.t("moderation.report.red_excerpt", category=ctx.t(category_key(category)))
        else:
            text = " ".join(remembered[1].split())
            excerpt = text if len(text) <= 80 else text[:79] + "…"
    reason = ctx.arg_text.strip()[:200] or None
    alert_id = await state.repos.alerts.add_alert(
        group_id=group.id,
        kind="report",
        now=ctx.now,
        category=category,
        member_id=target.id,
        user_id=target.user_id,
        message_id=message.reply_to,
        excerpt=(excerpt or ctx.t("moderation.report.no_excerpt")) + (f" — {reason}" if reason else ""),
        reporters=0,
    )
    await state.repos.alerts.add_reporter(alert_id, ctx.user.user_id)
    alert = await state.repos.alerts.alert(alert_id)
    assert alert is not None
    sent = await notify(services, group, await _report_message(services, group, alert))
    await state.repos.alerts.mark_notified([alert_id], ctx.now, refs_of(sent))
    await state.repos.audit.log(
        group.id, ctx.now, ctx.user.user_id, "report", reason or "", member_id=target.id, alert_id=alert_id
    )
    await ctx.reply(ctx.t("moderation.report.thanks"))


async def _report_message(services: Services, group: Group, alert: AlertRow) -> OutgoingMessage:
    return await hit_alert_message(services, group, alert)


@router.command(
    "reports", usage="moderation.usage.reports", help="moderation.help.reports", min_role=Role.MODERATOR
)
async def reports_command(ctx: Context) -> None:
    """``/reports stats``: how many reports and how fast moderators handled them."""
    group = await _moderator_group(ctx)
    if group is None:
        return
    if not ctx.args or ctx.args[0].lower() != "stats":
        raise UsageError()
    services = ctx.services
    state = get_state(services)
    lines = [ctx.t("moderation.reports.header")]
    for days in (7, 30):
        since = ctx.now - timedelta(days=days)
        count = await state.repos.alerts.count_alerts(group.id, "report", since)
        durations = await state.repos.alerts.handled_durations(group.id, "report", since)
        if durations:
            median = human_duration(services, ctx.lang, statistics.median(durations))
            p90 = human_duration(services, ctx.lang, percentile(durations, 0.9))
            lines.append(
                ctx.t(
                    "moderation.reports.line",
                    days=days,
                    count=count,
                    handled=len(durations),
                    median=median,
                    p90=p90,
                )
            )
        else:
            lines.append(ctx.t("moderation.reports.line_none", days=days, count=count))
    await ctx.reply("\n".join(lines))
