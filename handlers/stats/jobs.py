"""Scheduled work of the stats feature: the nightly roll-up and churn check, the weekly recall
post and the Monday report; and text retention."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from bot.clock import local_day, zone
from bot.errors import QunyouError
from bot.messages import OutgoingMessage, Text
from bot.ports import QuietHours
from bot.scheduler import Cron
from bot.services import Services
from bot.timeparse import localize
from handlers.stats import report
from handlers.stats.circles import recall_activities
from handlers.stats.lifecycle import Stage
from handlers.stats.settings import StatsSettings
from handlers.stats.state import RECALL_LIMIT, group_t, stats_state
from storage.models import Group

log = logging.getLogger(__name__)


async def run_recall(services: Services, group: Group, now: datetime) -> int:
    """Post the weekly recall naming up to 10 sleeping members; returns how many were named."""
    st = stats_state(services)
    if not (await services.settings.of(group.id, StatsSettings)).recall:
        return 0
    await services.batcher.flush()
    people = await st.repo.stage_members(group.id, now, Stage.SLEEPING.value, RECALL_LIMIT, for_recall=True)
    if not people:
        return 0
    t = group_t(services, group)
    parts: list[Any] = [Text(t("stats.recall_intro") + "\n")]
    users = []
    named = []
    for i, p in enumerate(people):
        member = await services.members.get(p.member_id)
        if member is None:
            continue
        named.append(member)
        user = services.directory.user_ref(member, group.platform)
        users.append(user)
        parts.extend(services.i18n.parts(group.language, "stats.recall_name", name=user))
        if i < len(people) - 1:
            parts.append(Text(t("stats.recall_separator")))
    parts.append(Text("\n" + t("stats.recall_outro")))
    # What is coming up in their interest circles, when circles and activities are installed.
    coming = await recall_activities(services, group, named, now)
    if coming:
        parts.append(Text("\n" + coming))
    await services.send(
        services.directory.chat_for(group), OutgoingMessage(parts=tuple(parts), notify=tuple(users))
    )
    await st.repo.record_recall(group.id, [p.member_id for p in people], now)
    return len(people)


async def purge_text(services: Services, group: Group, now: datetime) -> int:
    """Apply the group's text retention (everything when keeping text is off)."""
    st = stats_state(services)
    if not (await services.settings.of(group.id, StatsSettings)).store_text:
        removed = await st.repo.drop_group_text(group.id)
    else:
        days = (await services.settings.of(group.id, StatsSettings)).text_retention_days
        removed = await st.repo.purge_text(now - timedelta(days=days), group.id)
    if removed:
        st.hot.invalidate(group.id)
    return removed


def job_ids(group_id: int) -> dict[str, str]:
    return {k: f"stats:{k}:{group_id}" for k in ("daily", "report", "recall")}


async def ensure_jobs(services: Services, group: Group) -> None:
    """Create the group's jobs when missing; the recall job follows its settings."""
    ids = job_ids(group.id)
    tz = group.timezone
    wanted = {
        "daily": Cron(tz=tz, minute="5", hour="0"),
        "report": Cron(tz=tz, minute="0", hour="9", day_of_week="mon"),
    }
    day = (await services.settings.of(group.id, StatsSettings)).recall_day
    hh, mm = (await services.settings.of(group.id, StatsSettings)).recall_time.split(":")
    wanted["recall"] = Cron(tz=tz, minute=str(int(mm)), hour=str(int(hh)), day_of_week=day)
    from bot.scheduler import trigger_to_dict

    for kind, trigger in wanted.items():
        job = await services.scheduler.get(ids[kind])
        if job is not None and job.trigger == trigger_to_dict(trigger):
            continue
        await services.scheduler.schedule(ids[kind], f"stats.{kind}", trigger, {}, group_id=group.id)


async def _job_group(services: Services, group_id: int | None) -> Group | None:
    if group_id is None:
        return None
    group = await services.groups.get(group_id)
    return group if group is not None and group.active else None


async def daily_job(services: Services, job: Any, fire_time: datetime) -> None:
    """Roll up yesterday, purge old text, run the churn check, follow setting changes."""
    group = await _job_group(services, job.group_id)
    if group is None:
        return
    st = stats_state(services)
    await services.batcher.flush()
    today = local_day(fire_time, group.timezone)
    yesterday = today - timedelta(days=1)
    await st.repo.ensure_rollups(group.id, yesterday, yesterday, force=True)
    # Members per stage at the end of yesterday, for the dashboard's stages over time (the stages
    # hang on instants later activity overwrites: a past day cannot be recounted later).
    midnight = localize(today, time(0), zone(group.timezone))
    await st.repo.record_stages(group.id, yesterday, await st.repo.stage_counts(group.id, midnight))
    # Warm what the first /stats of the day would otherwise compute while a moderator waits.
    for days in (7, 30):
        await st.repo.distinct_active(group.id, yesterday, days)
        await st.repo.cached_top(group.id, yesterday - timedelta(days=days - 1), yesterday)
    await purge_text(services, group, fire_time)
    _cleanup_charts(st.chart_dir, today)
    await ensure_jobs(services, group)
    if (await services.settings.of(group.id, StatsSettings)).churn_alert:
        await churn_alert(services, group, today, fire_time)


def _cleanup_charts(directory: Path, today: date) -> None:
    """Charts are sent once; files from before yesterday are removed (the date is in the name)."""
    if not directory.is_dir():
        return
    for path in directory.glob("stats-*.png"):
        parts = path.stem.split("-")
        try:
            made = date(int(parts[2]), int(parts[3]), int(parts[4]))
        except (IndexError, ValueError):
            continue
        if made < today - timedelta(days=1):
            path.unlink(missing_ok=True)


async def churn_alert(services: Services, group: Group, today: Any, now: datetime) -> bool:
    """Alert the moderators when the churn rule fires (at most once a week); True when sent."""
    st = stats_state(services)
    check = await report.churn_status(st.repo, group.id, today)
    if not check.warn:
        return False
    last = await st.repo.marker(group.id, "churn_alert")
    if last is not None and today.toordinal() - int(last) < 7:
        return False
    quiet = await st.repo.went_quiet(group.id, today, now)
    text = report.format_churn(group_t(services, group), check, quiet)
    await services.alerts.notify(group, OutgoingMessage.of(text))
    await st.repo.set_marker(group.id, "churn_alert", str(today.toordinal()))
    return True


async def recall_job(services: Services, job: Any, fire_time: datetime) -> None:
    """The weekly recall post (waits for the end of the group's quiet hours when it has them)."""
    group = await _job_group(services, job.group_id)
    if group is None:
        return
    # Quiet hours belong to the schedule feature: honour them when it is installed.
    quiet = services.ports.find(QuietHours)
    if quiet is not None and await quiet.defer(group, job, fire_time):
        return
    await run_recall(services, group, fire_time)


async def report_job(services: Services, job: Any, fire_time: datetime) -> None:
    """The Monday report to the moderator chat."""
    group = await _job_group(services, job.group_id)
    if group is None or not (await services.settings.of(group.id, StatsSettings)).weekly_report:
        return
    await send_weekly_report(services, group, fire_time)


async def send_weekly_report(services: Services, group: Group, now: datetime) -> OutgoingMessage:
    """Build and deliver the weekly report; returns the message."""
    from handlers.stats.weekly import build_weekly_report

    await services.batcher.flush()
    message = await build_weekly_report(services, stats_state(services), group, now)
    try:
        await services.alerts.notify(group, message)
    except QunyouError as exc:
        log.warning("weekly report for group %s not delivered: %s", group.id, exc)
    return message
