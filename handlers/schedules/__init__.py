"""Scheduled posts (定时消息) and quiet hours (静默时段): the ``schedule`` feature.

It provides the ``QuietHours`` port: other features' automated posts (the daily topic, activity
countdowns, onboarding nudges, the recall post) wait out a group's quiet hours through it.
The feature keeps the name ``schedule``: it is the ``[schedule]`` section of config.toml and the
prefix of its settings (``schedule.quiet_hours``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.feature import Feature
from bot.planned_posts import prunes_deferred, tz_of
from bot.ports import AuditTrail, CircleMembers, MediaLibrary, PlannedPostsDesk, QuietHours
from bot.timeparse import parse_when
from handlers.schedules.commands import router
from handlers.schedules.deferral import QuietHoursPort
from handlers.schedules.desk import PlannedPostsPort
from handlers.schedules.jobs import KIND, plan_post, run_post, spec_to_dict
from handlers.schedules.settings import ScheduleSettings
from handlers.schedules.state import post_repo

if TYPE_CHECKING:
    from bot.services import Services
    from storage.models import Group, Member


async def startup(services: Services) -> None:
    """Register the job kind; the rows and jobs themselves are already in the database."""
    services.scheduler.register(KIND, prunes_deferred(run_post), rerun=True)


async def demo(services: Services, group: Group, members: list[Member]) -> None:
    """The console demo: a morning post on weekdays."""
    when, text = parse_when(
        services.i18n.t(group.language, "schedule.demo_post"), tz_of(group), services.clock.now()
    )
    post = await post_repo(services).add(
        group_id=group.id,
        channel_id=None,
        thread_id=None,
        when_text=when.canonical,
        spec=spec_to_dict(when.spec),
        text=text,
        urgent=False,
        created_by=members[0].user_id if members else None,
        now=services.clock.now(),
    )
    if post is not None:
        await plan_post(services, group, post)


def _ports(services: Services) -> dict[type[Any], Any]:
    return {QuietHours: QuietHoursPort(services), PlannedPostsDesk: PlannedPostsPort(services)}


FEATURE = Feature(
    name="schedule",
    router=router,
    settings=ScheduleSettings,
    provides=_ports,
    startup=startup,
    demo=demo,
    # A post's picture, when the media feature is installed; circles a post tags with #NAME;
    # the dashboard's schedule actions are audited when moderation is installed.
    uses=(MediaLibrary, CircleMembers, AuditTrail),
)
