"""Member reports: /report and /reports."""

from __future__ import annotations

import statistics
from datetime import timedelta

from bot.args import BadArgument
from bot.context import Context
from bot.messages import OutgoingMessage
from bot.params import Rest
from bot.roles import Role
from bot.services import Services
from handlers.moderation.alerting import edit_alert_messages, hit_alert_message, notify, refs_of
from handlers.moderation.commands import router
from handlers.moderation.matcher import Level
from handlers.moderation.plans import _pinyin_ready
from handlers.moderation.service import category_key, get_state, human_duration, percentile
from handlers.moderation.settings import ModerationSettings
from handlers.moderation.targets import _moderator_group
from storage.models import Group
from storage.moderation import AlertRow

# -- reports -------------------------------------------------------------------------------


@router.command(
    "report",
    aliases=("举报",),
    usage="moderation.usage.report",
    help="moderation.help.report",
    args=[Rest("reason", optional=True, limit=200, hint="core.param.reason")],
)
async def report_command(ctx: Context, reason: str | None) -> None:
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
        rules = await services.settings.of(group.id, ModerationSettings)
        pinyin = rules.pinyin
        if pinyin:
            await _pinyin_ready(reported)
        hits = reported.check(remembered[1], pinyin=pinyin, everyday=rules.everyday_guard)
        red = [h for h in hits if h.level is Level.RED]
        if red:
            category = red[0].entry.category
            excerpt = ctx.t("moderation.report.red_excerpt", category=ctx.t(category_key(category)))
        else:
            text = " ".join(remembered[1].split())
            excerpt = text if len(text) <= 80 else text[:79] + "…"
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


reports = router.group(
    "reports", usage="moderation.usage.reports", help="moderation.help.reports", min_role=Role.MODERATOR
)


@reports.sub("stats")
async def reports_command(ctx: Context) -> None:
    """``/reports stats``: how many reports and how fast moderators handled them."""
    group = await _moderator_group(ctx)
    if group is None:
        return
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
