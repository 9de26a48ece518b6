"""The band-0 screen and the per-level action plans it runs."""

from __future__ import annotations

from datetime import timedelta

from bot import metrics
from bot.context import Context
from bot.events import MessageEvent
from bot.messages import OutgoingMessage, Text
from bot.roles import Role
from bot.router import Band, Invocation
from bot.services import Services
from handlers.moderation import floods
from handlers.moderation.alerting import ensure_digest, notify, queue_yellow, send_alert
from handlers.moderation.commands import router
from handlers.moderation.escalation import plan_rung
from handlers.moderation.matcher import Hit, Level
from handlers.moderation.person import person_credit
from handlers.moderation.plans import _ladder, _minutes, _pinyin_ready, _steps_detail, _warn
from handlers.moderation.sanctions import attempt, sanction
from handlers.moderation.service import (
    BOT_ACTOR,
    WARNING_MAX,
    Step,
    category_key,
    change_credit,
    credit_level,
    current_credit,
    get_state,
    human_duration,
)
from handlers.moderation.settings import ModerationSettings
from storage.models import Group, Member

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
    rules = await ctx.settings(ModerationSettings)
    if not rules.enabled:
        return
    matcher = await state.matcher(group.id)
    pinyin = rules.pinyin
    if pinyin:
        await _pinyin_ready(matcher)
    # The message is folded once (``ctx.parsed``): the lexicon, the flood check and antispam
    # all read the same folded text.
    parsed = ctx.parsed
    hits = (
        matcher.check(
            message.text,
            pinyin=pinyin,
            leet=rules.leetspeak,
            everyday=rules.everyday_guard,
            folded=parsed.folded,
        )
        if message.text
        else []
    )
    flood = None
    if not message.edited:
        flood = state.flood.observe(
            group.id,
            member.user_id,
            message.at,
            message.text,
            max_messages=rules.flood_messages,
            window=timedelta(seconds=rules.flood_seconds),
            max_identical=rules.flood_identical,
            identical_window=timedelta(seconds=rules.flood_identical_seconds),
            folded=parsed.folded,
        )
    if flood is not None and isinstance(parsed.command, Invocation):
        flood = None  # commands answer the member; repeating one (/ping, 签到) is not chat flooding
    elif (
        flood is None
        and state.shared_flood is not None
        and not message.edited
        and not isinstance(parsed.command, Invocation)
    ):
        # Workers sharing PostgreSQL: the member's messages on the others count too (past a few here).
        flood = await state.shared_flood.check(
            state.flood,
            group.id,
            member.user_id,
            message.at,
            parsed.folded,
            max_messages=rules.flood_messages,
            window=timedelta(seconds=rules.flood_seconds),
            max_identical=rules.flood_identical,
            identical_window=timedelta(seconds=rules.flood_identical_seconds),
        )
    if not hits and flood is None:
        return
    # A moderator chat is screened like any group, by its own lexicon and its own roles: being
    # linked as another group's moderator chat never switches a chat's defences off.
    role = await ctx.role()
    if role >= Role.MODERATOR and rules.exempt_moderators:
        return
    if role >= Role.MODERATOR and _is_moderation_command(parsed.command):
        return  # a moderator typing /kw add … is managing the lexicon, not breaking it
    if hits:
        await _handle_hits(ctx, group, member, message, hits)
    elif flood is not None:
        await _handle_flood(ctx, group, member, flood)


def _is_moderation_command(command: object) -> bool:
    return isinstance(command, Invocation) and command.command.feature == "moderation"


async def _handle_hits(
    ctx: Context, group: Group, member: Member, message: MessageEvent, hits: list[Hit]
) -> None:
    services = ctx.services
    state = get_state(services)
    top = max(hits, key=lambda h: (h.level, -h.start))
    level = top.level
    # The lowest credit among the person's linked accounts decides (issue 18).
    score = await person_credit(services, group, member)
    by_credit = level is Level.YELLOW and credit_level(score) == "danger"
    if by_credit:
        level = Level.RED
    now = ctx.now
    metrics.MODERATION_HITS.labels(level=level.label).inc()
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
        (await ctx.settings(ModerationSettings)).surge_hits,
        _minutes((await ctx.settings(ModerationSettings)).surge_minutes),
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
    after = await change_credit(
        services, group, member, -(await ctx.settings(ModerationSettings)).yellow_credit
    )
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
            days=(await ctx.settings(ModerationSettings)).warning_days,
        )
    )
    ladder = await _ladder(services, group, member, count, BOT_ACTOR, steps, alert_id)
    if ladder:
        parts.append(Text(" " + ctx.t(ladder)))
    label = ctx.t(category_key(category))
    await _public(
        ctx, OutgoingMessage(parts=tuple(parts)), f"yellow:{category}", "yellow_many", category=label
    )
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
    rules = await ctx.settings(ModerationSettings)
    action = rules.red_action
    duration = _minutes(rules.red_mute_minutes) if action == "mute" else None
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
    after = await change_credit(services, group, member, -rules.red_credit)
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
        ctx,
        OutgoingMessage(parts=ctx.parts(key, member=ctx.user, category=category_label, **extra)),
        f"{key}:{category}",
        key.rsplit(".", 1)[1] + "_many",
        category=category_label,
    )
    await state.repos.audit.log(
        group.id, now, BOT_ACTOR, "red", _steps_detail(steps), member_id=member.id, alert_id=alert_id
    )
    await send_alert(services, group, alert_id)
    await plan_rung(services, group.id, alert_id, now, 0)  # the first rung of the escalation ladder


async def _handle_flood(ctx: Context, group: Group, member: Member, kind: str) -> None:
    held = await floods.hold(ctx, group, member, kind)
    if held is not None:
        # A burst is open: muted now, written and alerted with the rest of the burst.
        ok, duration = held
        if ok:
            await _flood_notice(ctx, duration)
        ctx.stop()
        return
    services = ctx.services
    state = get_state(services)
    now = ctx.now
    steps: list[Step] = []
    duration = _minutes((await ctx.settings(ModerationSettings)).flood_mute_minutes)
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
        await _flood_notice(ctx, duration)
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


async def _flood_notice(ctx: Context, duration: timedelta) -> None:
    minutes = human_duration(ctx.services, ctx.lang, duration.total_seconds())
    await _public(
        ctx,
        OutgoingMessage(parts=ctx.parts("moderation.public.flood", member=ctx.user, duration=minutes)),
        "flood",
        "flood_many",
    )


async def _surge_alert(services: Services, group: Group) -> None:
    state = get_state(services)
    rules = await services.settings.of(group.id, ModerationSettings)
    hits, minutes = rules.surge_hits, rules.surge_minutes
    now = services.clock.now()
    alert_id = await state.repos.alerts.add_alert(group_id=group.id, kind="surge", now=now, level="red")
    # A surge is a heads-up with nothing to undo: it is closed at once so open lists stay actionable.
    await state.repos.alerts.handle_alert(alert_id, "resolved", BOT_ACTOR, now)
    text = services.i18n.t(group.language, "moderation.alert.surge", id=alert_id, hits=hits, minutes=minutes)
    await notify(services, group, OutgoingMessage.of(text))
    await state.repos.audit.log(
        group.id, services.clock.now(), BOT_ACTOR, "surge", f"> {hits} in {minutes}m", alert_id=alert_id
    )


async def _public(ctx: Context, message: OutgoingMessage, kind: str, many: str, **values: str) -> None:
    """The public notice of a sanction. Never amplify: more of the same kind within a few seconds
    become one summary (``moderation.public.<many>``), and notices wait while the bot is loud."""
    await ctx.services.notices.notice(
        ctx.chat,
        message,
        kind=f"moderation:{kind}",
        member=ctx.user,
        summary_key=f"moderation.public.{many}",
        values=values,
        lang=ctx.lang,
    )
