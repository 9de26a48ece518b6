"""The desk's daily job per group, at ``desk.daily_hour`` local time:

* **level 2** of the response: a key rate of the group — daily actives (yesterday against the
  same weekday a week before), the interaction rate, the check-in rate and new members' 7-day
  retention (the last 7 complete local days against the 7 before) — down by ``desk.rate_drop``
  percent or more → a red alert to the moderators with the numbers, followed by a chart of them
  (``handlers/desk/chart.py``; PNG in the group's language, where the moderators' platform takes
  pictures). The figures come from the stats feature (``GroupIndicators``),
  so they are the ones ``/stats`` shows; without it there is no level 2;
* the **unanswered questions digest**: the last day's questions nobody answered, grouped, with
  the "make this an FAQ" buttons, sent to the moderators (their chat, else privately).

One job row per group (``desk:daily:<group>``), rebuilt from the database at start like every
job, rescheduled when ``desk.daily_hour`` changes.
"""

from __future__ import annotations

import logging
import tempfile
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from bot import charts
from bot.adapter import Capability
from bot.clock import local_day
from bot.errors import QunyouError
from bot.messages import OutgoingMessage, Text
from bot.planned_posts import notify_moderators
from bot.ports import GroupIndicators, Indicator, ModeratorAlerts
from bot.scheduler import Cron, trigger_to_dict
from bot.services import Services
from handlers.desk import chart
from handlers.desk.commands import unanswered_digest
from handlers.desk.settings import DeskSettings
from handlers.desk.state import get_state
from storage.models import Group

log = logging.getLogger(__name__)

JOB_KIND = "desk.daily"
#: The rates level 2 watches, in the order the alert lists them (``stats`` indicator keys).
WATCHED = ("dau", "interaction_rate", "checkin_rate", "retention_7d")


def job_id(group_id: int) -> str:
    """The daily job's id for a group."""
    return f"desk:daily:{group_id}"


async def ensure_job(services: Services, group: Group) -> None:
    """Create the group's daily job, or move it to the configured hour."""
    hour = (await services.settings.of(group.id, DeskSettings)).daily_hour
    trigger = Cron(tz=group.timezone, minute="0", hour=str(hour))
    job = await services.scheduler.get(job_id(group.id))
    if job is not None and job.trigger == trigger_to_dict(trigger):
        return
    await services.scheduler.schedule(job_id(group.id), JOB_KIND, trigger, {}, group_id=group.id)


def drops(figures: list[Indicator], percent: int) -> list[tuple[Indicator, float]]:
    """The watched rates down by ``percent`` or more against the previous period, with the
    relative change (ratios compared as ratios: 40 % → 36 % is down 10 %, not 4 points)."""
    by_key = {f.key: f for f in figures}
    out = []
    for key in WATCHED:
        f = by_key.get(key)
        if f is None or f.value is None or not f.previous:
            continue
        change = (f.value - f.previous) / f.previous
        if change <= -percent / 100:
            out.append((f, change))
    return out


def _shown(f: Indicator) -> tuple[str, str]:
    if f.is_ratio:
        return f"{(f.previous or 0) * 100:.1f}%", f"{(f.value or 0) * 100:.1f}%"
    return f"{f.previous or 0:g}", f"{f.value or 0:g}"


def chart_dir(services: Services) -> Path:
    """Where level 2's charts are written: next to an SQLite database, else the temp directory."""
    if services.db.sqlite_path is not None:
        return services.db.sqlite_path.parent / "charts"
    return Path(tempfile.gettempdir()) / "qunyou-charts"


def cleanup_charts(directory: Path, today: date) -> None:
    """Charts are sent once; files from before yesterday are removed (the date is in the name)."""
    if not directory.is_dir():
        return
    for path in directory.glob("desk-level2-*.png"):
        try:
            made = date.fromisoformat("-".join(path.stem.split("-")[3:6]))
        except ValueError:
            continue
        if made < today - timedelta(days=1):
            path.unlink(missing_ok=True)


async def level2(services: Services, group: Group, now: datetime) -> bool:
    """Alert the moderators when a key rate fell, then send the chart; True when it did."""
    indicators = services.ports.find(GroupIndicators)
    if indicators is None:
        return False
    percent = (await services.settings.of(group.id, DeskSettings)).rate_drop
    figures = await indicators.indicators(group, now, 7)
    fallen = drops(figures, percent)
    if not fallen:
        return False
    t = partial(services.i18n.t, group.language)
    lines = [t("desk.level2.title", percent=percent)]
    for f, change in fallen:
        before, after = _shown(f)
        lines.append(
            t(
                "desk.level2.line",
                name=t(f"desk.level2.{f.key}"),
                before=before,
                after=after,
                change=f"{change * 100:+.1f}",
            )
        )
    text = "\n".join(lines)
    await get_state(services).repos.complaints.fired(group.id, 2, len(fallen), now)
    image = await _chart(services, indicators, group, now, figures, {f.key for f, _ in fallen}, percent)
    alerts = services.ports.find(ModeratorAlerts)
    if alerts is not None:
        try:
            await alerts.open_alert(group, kind="rates", level="red", text="🚨 #{id} " + text)
        except QunyouError as exc:
            log.warning("could not open the level 2 alert of group %s: %s", group.id, exc)
        else:
            if image is not None:
                caption = OutgoingMessage(parts=(Text(t("desk.chart.caption")),), image=str(image))
                await notify_moderators(services, group, caption)
            return True
    message = OutgoingMessage(parts=(Text(text),), image=str(image) if image else None)
    await notify_moderators(services, group, message)
    return True


async def _chart(
    services: Services,
    indicators: GroupIndicators,
    group: Group,
    now: datetime,
    figures: list[Indicator],
    fallen: set[str],
    percent: int,
) -> Path | None:
    """Level 2's chart as a PNG, or None where the group's platform takes no pictures (the
    alert's numbers stand alone) or drawing failed (logged; the alert still goes out)."""
    adapter = services.adapters.get(group.adapter)
    if adapter is None or not adapter.supports(Capability.IMAGES):
        return None
    t_chart = partial(services.i18n.t, charts.chart_language(group.language))
    try:
        data = await chart.gather(indicators, group, now, figures, fallen, WATCHED, t_chart, percent)
        return await chart.draw(data, chart_dir(services), group.id, local_day(now, group.timezone))
    except Exception:
        log.exception("level 2 chart of group %s could not be drawn", group.id)
        return None


async def daily_job(services: Services, job: Any, fire_time: datetime) -> None:
    """Level 2, then the unanswered questions digest."""
    if job.group_id is None:
        return
    group = await services.groups.get(job.group_id)
    if group is None or not group.active:
        return
    cleanup_charts(chart_dir(services), local_day(fire_time, group.timezone))
    # No batcher flush here: the rates are of complete days (rolled up after midnight), and a
    # flush would also send other features' batched announcements at this hour.
    try:
        await level2(services, group, fire_time)
    except Exception:
        # The digest still goes out; the failure is in the log with its traceback.
        log.exception("desk level 2 check failed for group %s", group.id)
    digest = await unanswered_digest(services, group.id, fire_time, partial(services.i18n.t, group.language))
    if digest is not None:
        await notify_moderators(services, group, digest)
