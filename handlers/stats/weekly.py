"""The Monday report to the moderator chat: KPIs with changes, the chart, hot words, moderation
summary, new badges, top contributors and the recall rate."""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from bot.adapter import Capability
from bot.clock import local_day
from bot.messages import OutgoingMessage, Text
from handlers.stats import report
from handlers.stats.facts import alert_summary, badges_awarded, blocked_words, group_mood
from handlers.stats.settings import StatsSettings
from storage.models import Group

if TYPE_CHECKING:
    from bot.services import Services
    from handlers.stats.state import StatsState


async def build_weekly_report(
    services: Services, st: StatsState, group: Group, now: datetime
) -> OutgoingMessage:
    """The report message (with the chart attached where the platform shows images)."""
    t = partial(services.i18n.t, group.language)
    today = local_day(now, group.timezone)
    kpis = await report.gather_kpis(st.repo, group.id, today, 7)
    sections = [t("stats.report_title", group=group.title or group.scope_id), report.format_kpis(t, kpis)]

    if (await services.settings.of(group.id, StatsSettings)).store_text:
        exclude = await blocked_words(services, group.id)
        words = await st.hot.get(st.repo, group.id, now, 168, exclude=exclude, top=5)
        sections.append(report.format_hot(t, words, 168))

    mood = await group_mood(services, group, kpis.start, kpis.end)
    if mood is not None:
        sections.append("\n".join(report.format_mood(t, mood)))

    moderation = await _moderation_summary(services, group, now)
    if moderation:
        sections.append(moderation)

    badges = await badges_awarded(services, group.id, now - timedelta(days=7), now)
    if badges:
        shown = ", ".join(f"{b.member_name} · {b.badge_key}" for b in badges[:10])
        sections.append(t("stats.report_badges", count=len(badges), badges=shown))

    named, returned = await st.repo.recall_rate(group.id, now - timedelta(days=14), now - timedelta(days=7))
    if named:
        sections.append(
            t("stats.report_recall", named=named, returned=returned, rate=f"{returned * 100 / named:.0f}%")
        )
    else:
        sections.append(t("stats.report_recall_none"))

    image = None
    adapter = services.adapters.get(group.adapter)
    if adapter is not None and adapter.supports(Capability.IMAGES):
        chart_lang = report.chart_language(group.language)
        t_chart = partial(services.i18n.t, chart_lang)
        title = t_chart("stats.chart.title", group=group.title or group.scope_id)
        image = str(await report.render_chart(st.repo, group.id, today, now, t_chart, title, st.chart_dir))
    return OutgoingMessage(parts=(Text("\n\n".join(sections)),), image=image)


async def _moderation_summary(services: Services, group: Group, now: datetime) -> str | None:
    """Alerts by level and the median handling time, when the moderation feature is installed."""
    found = await alert_summary(services, group.id, now - timedelta(days=7), now)
    if found is None:
        return None
    by_level, handling = found.by_level, found.handling_seconds
    t = partial(services.i18n.t, group.language)
    median = statistics.median(handling) / 60 if handling else None
    return t(
        "stats.report_moderation",
        red=by_level.get("red", 0),
        yellow=by_level.get("yellow", 0),
        blue=by_level.get("blue", 0),
        median="—" if median is None else f"{median:.0f}",
    )
