"""/alerts, /ack, /modlog and the mod: buttons on alerts."""

from __future__ import annotations

from bot.args import BadArgument, button_fields, decode_id, resolve_member
from bot.context import Context
from bot.events import ButtonPressed, UserRef
from bot.params import USAGE, Choice, Id, MemberRef
from bot.roles import Role
from bot.services import Services
from handlers.moderation.alerting import edit_alert_messages, handled_message
from handlers.moderation.commands import router
from handlers.moderation.escalation import cancel_ladder
from handlers.moderation.plans import _steps_detail
from handlers.moderation.sanctions import attempt, lift, sanction
from handlers.moderation.service import Step, category_key, change_credit, get_state
from handlers.moderation.targets import _deliver, _moderator_group
from storage.models import Group
from storage.moderation import AlertRow


@router.command(
    "alerts",
    usage="moderation.usage.alerts",
    help="moderation.help.alerts",
    min_role=Role.MODERATOR,
    args=[Choice("which", optional=True, default="open", words={"open": "open", "all": "all"}, error=USAGE)],
)
async def alerts_command(ctx: Context, which: str) -> None:
    """Recent alerts (open ones by default) with their status."""
    group = await _moderator_group(ctx)
    if group is None:
        return
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


@router.command(
    "ack",
    usage="moderation.usage.ack",
    help="moderation.help.ack",
    min_role=Role.MODERATOR,
    args=[Id("alert_id")],
)
async def ack_command(ctx: Context, alert_id: int) -> None:
    """Acknowledge an alert by its number (as the Acknowledge button does)."""
    group = await _moderator_group(ctx)
    if group is None:
        return
    state = get_state(ctx.services)
    alert = await state.repos.alerts.alert(alert_id)
    if alert is None or alert.group_id != group.id:
        raise BadArgument("moderation.ack.unknown", id=alert_id)
    await ctx.reply(await _act_on_alert(ctx.services, group, alert, "ack", ctx.user, ctx.lang))


@router.command(
    "modlog",
    usage="moderation.usage.modlog",
    help="moderation.help.modlog",
    min_role=Role.MODERATOR,
    args=[MemberRef("who")],
)
async def modlog_command(ctx: Context, who: str | None) -> None:
    """The audit log of the group, or of one member."""
    group = await _moderator_group(ctx)
    if group is None:
        return
    services = ctx.services
    member = None
    if who is not None or ctx.reply_target is not None:
        member = (
            await resolve_member(ctx, who)
            if who is not None
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
    await cancel_ladder(services, alert.id)
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
