"""Topic prompts (话题): a per-group bank seeded from the starter bank, a daily topic, suggestions.

Replies to a topic post earn points (capped per member and topic) and feed the ``topic_replies``
badge counter through the check-in feature. The daily topic waits out quiet hours through the
``QuietHours`` port when the schedule feature is listed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.feature import Feature
from bot.planned_posts import prunes_deferred
from bot.ports import AuditTrail, CircleMembers, PointsLedger, QuietHours
from bot.router import Band
from handlers.topics import listeners
from handlers.topics.commands import router
from handlers.topics.jobs import KIND, plan_daily, run_daily
from handlers.topics.ports import provide
from handlers.topics.settings import TopicsSettings
from handlers.topics.state import POSTED_TOPIC, topics_state

if TYPE_CHECKING:
    from bot.services import Services
    from storage.models import Group, Member

router.button("topics:")(listeners.decide)
router.message(band=Band.LISTENER)(listeners.topic_reply)


async def demo(services: Services, group: Group, members: list[Member]) -> None:
    """The console demo: a daily topic at 20:00."""
    await topics_state(services).topics.set_daily(group.id, "20:00", None, None)
    await plan_daily(services, group, "20:00")


async def startup(services: Services) -> None:
    """Register the daily-topic job kind; another worker's new post: read the post ids again."""
    services.scheduler.register(KIND, prunes_deferred(run_daily))
    services.changes.subscribe(
        POSTED_TOPIC, lambda key: topics_state(services).topic_messages.pop(int(key), None)
    )


FEATURE = Feature(
    name="topics",
    router=router,
    settings=TopicsSettings,
    startup=startup,
    demo=demo,
    provides=provide,
    # Replies and suggestions earn points when check-in is installed; a topic tagging #NAME
    # mentions that interest circle's members; the dashboard's topic actions are audited when
    # moderation is.
    uses=(QuietHours, PointsLedger, CircleMembers, AuditTrail),
)
