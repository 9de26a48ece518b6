"""Welcome, rules and the optional 7-day onboarding (成长礼).

A newcomer is greeted from the group's template (``{name}``, ``{group}``, ``{rules}``). With
onboarding on, four nudges follow — day 1 the rules, day 2 a check-in nudge, day 3 an "introduce
yourself" prompt, day 7 a summary — each a scheduler job, each skipped when the member already did it.
The feature keeps the name ``welcome``: it is the ``[welcome]`` section of config.toml and the
prefix of its settings (``welcome.onboarding``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.feature import Feature
from bot.planned_posts import prunes_deferred
from bot.ports import ActivityFacts, Greeter, MediaLibrary, NewcomerGate, PointsLedger, QuietHours, TopicFacts
from bot.router import Band
from handlers.onboarding import listeners
from handlers.onboarding.commands import router
from handlers.onboarding.jobs import KIND, STEPS, job_id, run_step
from handlers.onboarding.settings import WelcomeSettings
from handlers.onboarding.state import PENDING_TOPIC, onboarding_state

if TYPE_CHECKING:
    from bot.services import Services
    from storage.models import Group, Member

router.join()(listeners.on_join)
router.leave()(listeners.on_leave)
router.message(band=Band.LISTENER)(listeners.newcomer_spoke)


async def demo(services: Services, group: Group, members: list[Member]) -> None:
    """The console demo: rules to read and onboarding for newcomers."""
    now = services.clock.now()
    by = members[0].user_id if members else None
    await services.settings.write(
        group.id,
        WelcomeSettings,
        by,
        now,
        rules=services.i18n.t(group.language, "welcome.demo_rules"),
        onboarding=True,
    )


async def startup(services: Services) -> None:
    """Register the onboarding job kind and load the newcomers still being onboarded."""
    services.scheduler.register(KIND, prunes_deferred(run_step))
    st = onboarding_state(services)
    st.pending = set(await st.repo.active())

    def started_elsewhere(key: str) -> None:
        group_id, member_id = key.split(" ", 1)
        st.pending.add((int(group_id), int(member_id)))

    services.changes.subscribe(PENDING_TOPIC, started_elsewhere)


async def forget(services: Services, member: Member) -> None:
    """No more onboarding steps for a forgotten member (their rows: storage/onboarding.py)."""
    for step, _, _ in STEPS:
        await services.scheduler.cancel(job_id(member.id, step))


def provides(services: Services) -> dict[type[Any], Any]:
    """``Greeter``: the welcome on demand (after join verification)."""
    welcomer: Greeter = listeners.Welcomer(services)
    return {Greeter: welcomer}


FEATURE = Feature(
    name="welcome",
    provides=provides,
    router=router,
    settings=WelcomeSettings,
    startup=startup,
    delete_member_data=forget,
    demo=demo,
    # Check-in status and points, topic replies and attended activities, each when installed;
    # welcomes are held during a raid (antispam).
    uses=(QuietHours, PointsLedger, TopicFacts, ActivityFacts, NewcomerGate, MediaLibrary),
)
