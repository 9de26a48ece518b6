"""Community health: statistics and charts, lifecycle and recall, churn warning, hot words,
the weekly report, KOL nominations, feedback and NPS.

Collection happens on the per-message path in memory only (``Recorder``); everything else is a
command or a scheduled job that reads the database. See the README's community-health section for what each
figure means.

* ``commands`` (the router): /stats, /lifecycle, /nudge, /hot, /kol, /feedback, /nps, score buttons;
* ``listeners``: counting messages, joins and leaves, numbered answers to a poll;
* ``jobs``: the nightly roll-up and churn check, the recall post, the Monday report;
* ``state``: the feature's runtime state; ``settings``: its settings model; the rest are the
  figures themselves (``metrics``, ``lifecycle``, ``kol``, ``nps``, ``hotwords``, ``report``…).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta

from bot.clock import local_day, zone
from bot.feature import Feature
from bot.ports import (
    ActivityFacts,
    CheckinFacts,
    CircleFacts,
    CircleMembers,
    GroupIndicators,
    GroupMood,
    MessageScreen,
    ModerationFacts,
    QuietHours,
    TopicFacts,
    UpcomingActivities,
)
from bot.router import Band
from bot.services import Services
from bot.timeparse import localize
from handlers.stats import listeners
from handlers.stats.commands import nps_button, router
from handlers.stats.facts import checkin_counter
from handlers.stats.indicators import Indicators
from handlers.stats.jobs import daily_job, ensure_jobs, recall_job, report_job
from handlers.stats.lifecycle import Stage, classify
from handlers.stats.recorder import Recorder
from handlers.stats.settings import StatsSettings
from handlers.stats.state import STATE_KEY, StatsState, stats_state
from storage.models import Group, Member
from storage.stats import BulkLoader, StatsRepo

# Listeners and the score button, in the order they run.
router.message(band=Band.LISTENER)(listeners.record_message)
router.join()(listeners.record_join)
router.leave()(listeners.record_leave)
router.button("nps:")(nps_button)
router.message(band=Band.LISTENER)(listeners.nps_numbered_reply)


# -- lifecycle hooks --------------------------------------------------------------------------------


async def _startup(services: Services) -> None:
    repo = StatsRepo(services.db, checkins=checkin_counter(services))
    st = StatsState(repo=repo, recorder=Recorder(repo))
    if services.db.sqlite_path is not None:
        # Next to the database: one place for an operator to look, and per-test in the tests.
        st.chart_dir = services.db.sqlite_path.parent / "charts"
    services.state[STATE_KEY] = st
    services.batcher.register("stats", st.recorder.flush)
    services.scheduler.register("stats.daily", daily_job)
    services.scheduler.register("stats.report", report_job)
    services.scheduler.register("stats.recall", recall_job)
    for group in await services.groups.all():
        if group.active:
            st.scheduled.add(group.id)
            await ensure_jobs(services, group)


_DEMO_TALK = (
    "周末一起去爬山吧",
    "爬山装备有推荐吗",
    "新出的咖啡店不错",
    "今晚读书会几点开始",
    "读书会的书单发一下",
    "咖啡店周末人好多",
)


def _stage_at(end: datetime, member: Member, last: dict[int, datetime]) -> Stage:
    """A demo member's stage at ``end``, given their last post so far."""
    joined = member.joined_at if member.joined_at is not None and member.joined_at <= end else None
    return classify(end, joined_at=joined, last_active_at=last.get(member.id), left_at=None)


async def _demo(services: Services, group: Group, members: list[Member]) -> None:
    """Five weeks of history for the demo group, so /stats, /stats chart and /hot show something."""
    import random

    st = stats_state(services)
    if await st.repo.first_day(group.id) is not None:
        return  # a demo database used again keeps its history
    rng = random.Random(9)
    now = services.clock.now()
    today = local_day(now, group.timezone)
    people = [m for m in members if not m.is_bot]
    loader = BulkLoader(services.db)
    last: dict[int, datetime] = {}
    for back in range(35, 0, -1):
        day = today - timedelta(days=back)
        # Busy at first, quieter in the last week: the churn check has something to say.
        share = 0.9 if back > 7 else 0.5
        # One member drifts away 12 days ago: the stages show a sleeping member.
        active = [m for m in people if rng.random() < share and not (m.user_id == "dave" and back <= 12)]
        rows = [(m.id, rng.randint(2, 12), rng.randint(0, 3)) for m in active]
        hourly = [rng.randint(0, 3) if h in (9, 12, 13, 20, 21, 22) else rng.randint(0, 1) for h in range(24)]
        await loader.day(group.id, day, rows, hourly)
        for m in active:
            last[m.id] = datetime.combine(day, time(20), tzinfo=zone(group.timezone))
        # The stages at the end of the day, as the nightly job would have recorded them.
        end = localize(day + timedelta(days=1), time(0), zone(group.timezone))
        stages = Counter(str(_stage_at(end, m, last)) for m in people)
        await st.repo.record_stages(group.id, day, stages)
    await loader.last_posts(group.id, sorted(last.items()))
    await loader.texts(
        group.id,
        [
            (people[i % len(people)].id, now - timedelta(hours=i + 1), text)
            for i, text in enumerate(_DEMO_TALK)
        ],
    )


async def _forget(services: Services, member: Member) -> None:
    # Their rows: storage/stats/tables.py declares how each is forgotten.
    await stats_state(services).repo.forget_member(member.id, member.group_id)
    stats_state(services).hot.invalidate(member.group_id)


FEATURE = Feature(
    name="stats",
    router=router,
    settings=StatsSettings,
    # All optional: without them /stats shows no check-in rate, the weekly report no moderation
    # or badge section, KOL no streaks or activities, and hot words are not screened; without
    # the desk, no mood lines.
    # CircleFacts: /stats circles (the interest circles' sizes and activity); CircleMembers and
    # UpcomingActivities: the recall post names upcoming activities in the members' circles.
    uses=(
        QuietHours,
        CheckinFacts,
        ModerationFacts,
        ActivityFacts,
        MessageScreen,
        TopicFacts,
        GroupMood,
        CircleFacts,
        CircleMembers,
        UpcomingActivities,
    ),
    startup=_startup,
    provides=lambda services: {GroupIndicators: Indicators(services)},
    delete_member_data=_forget,
    demo=_demo,
)
