"""Activities (活动): sign-ups with a waitlist, a timeline of posts, attendance and feedback;
and sign-up lists (接龙, ``signup``/``signup_commands``): an activity with a limit, one numbered
list post edited in place, a deadline.

Named "activities" in the code because "events" also means the platform events the dispatcher
handles; the feature keeps the name ``events``: it is the ``[events]`` section of config.toml and
the prefix of its setting (``events.attend_points``), and its job ids and button data (``ev:``)
are stored in the database and in posted messages.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import TYPE_CHECKING

from bot.feature import Feature
from bot.planned_posts import prunes_deferred, tz_of
from bot.ports import AuditTrail, CircleMembers, MediaLibrary, PointsLedger, QuietHours
from bot.timeparse import localize
from handlers.activities import listeners, signup, signup_commands
from handlers.activities.commands import router
from handlers.activities.jobs import DEFAULT_DURATION, KIND, create_activity, run_phase
from handlers.activities.ports import provide as provide_ports
from handlers.activities.settings import EventsSettings
from handlers.activities.state import activities_repo

if TYPE_CHECKING:
    from bot.services import Services
    from storage.models import Group, Member

router.button("ev:")(listeners.on_button)
router.button("sg:")(signup_commands.on_button)


async def demo(services: Services, group: Group, members: list[Member]) -> None:
    """The console demo: an activity the day after tomorrow at 20:00, with two people signed up,
    and a sign-up list (``/signup list``, ``/event info 2``) with its waiting list."""
    t = services.i18n.t
    now = services.clock.now()
    tz = tz_of(group)
    start = localize(now.astimezone(tz).date() + timedelta(days=2), time(20, 0), tz)
    st = activities_repo(services)
    act = await create_activity(
        services,
        group,
        channel_id=None,
        thread_id=None,
        title=t(group.language, "events.demo_title"),
        description=t(group.language, "events.demo_description"),
        start_at=start,
        duration_s=int(DEFAULT_DURATION.total_seconds()),
        capacity=3,
        created_by=members[1].id if len(members) > 1 else None,
    )
    for member in members[2:4]:
        await st.join(act.id, member.id, now)
    # A sign-up list (接龙) closing tomorrow at 20:00, with three places and a waiting list.
    closes = localize(now.astimezone(tz).date() + timedelta(days=1), time(20, 0), tz)
    listing = await st.add(
        group_id=group.id,
        channel_id=None,
        thread_id=None,
        title=t(group.language, "events.signup.demo_title"),
        description="",
        start_at=closes,
        duration_s=0,
        capacity=3,
        created_by=members[1].id if len(members) > 1 else None,
        now=now,
        kind="signup",
        closes_at=closes,
    )
    for i, member in enumerate(members[2:6]):
        note = t(group.language, "events.signup.demo_note") if i == 0 else None
        await st.join(listing.id, member.id, now, note=note)
    await signup.schedule_close(services, listing, closes)


async def startup(services: Services) -> None:
    """Register the timeline job kind."""
    # Re-run after a crash: each phase sends one message through ``send_once`` (or, the summary,
    # returns at once on a re-run), so a run cut short is completed without posting twice.
    services.scheduler.register(KIND, prunes_deferred(run_phase), rerun=True)
    # Sign-up lists (接龙): the deadline job closes once (a compare-and-set) and posts once.
    services.scheduler.register(signup.CLOSE_KIND, signup.run_close, rerun=True)

    async def flush() -> None:
        await signup.flush_posts(services)

    services.batcher.register("events.signup_posts", flush)
    await signup.startup(services)


FEATURE = Feature(
    name="events",
    router=router,
    settings=EventsSettings,
    startup=startup,
    demo=demo,
    provides=provide_ports,
    # /here awards points when the check-in feature is installed; the announcement's picture
    # comes from the media feature.
    # CircleMembers: #NAME in a title; AuditTrail: the dashboard's create / cancel are audited
    uses=(QuietHours, PointsLedger, MediaLibrary, CircleMembers, AuditTrail),
)
