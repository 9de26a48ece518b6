"""Check-ins, the points ledger, levels and tiers, badges, leaderboards, the shop and referrals.

Other features credit points and read a member's standing through the ``PointsLedger`` port,
and statistics read check-in figures through ``CheckinFacts`` (``handlers.checkin.ports``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bot.feature import Feature
from bot.ports import AuditTrail, CommunityScope, CreditScore, LinkedAccounts, NewcomerGate
from bot.router import Band
from handlers.checkin import activity_points as _activity
from handlers.checkin import shop_commands
from handlers.checkin.api import award, bump_counter
from handlers.checkin.badges import DEFAULT_BADGES, build_badges
from handlers.checkin.commands import router
from handlers.checkin.config import CheckinConfig, CheckinSettings
from handlers.checkin.ports import provide
from handlers.checkin.rules import itemize
from handlers.checkin.state import FEATURE_NAME, CheckinState, day_of, rules_for, state
from storage.checkin import CheckinRepos

if TYPE_CHECKING:
    from bot.services import Services
    from storage.models import Group, Member

__all__ = ["FEATURE", "award", "bump_counter"]

# Points for activity (the hot path) and referrals; after the commands, as before.
#: Command modules that register on ``router`` when imported, after ``commands`` itself.
COMMAND_MODULES = (shop_commands,)

router.message(band=Band.LISTENER)(_activity.on_message)
router.join()(_activity.on_join)
router.leave()(_activity.on_leave)


async def _startup(services: Services) -> None:
    config = FEATURE.config
    badge_configs = config.badges if isinstance(config, CheckinConfig) else list(DEFAULT_BADGES)
    repos = CheckinRepos(services.db)
    st = CheckinState(repos=repos, badges=build_badges(badge_configs))
    st.referrals = await repos.referrals.pending_invitees()
    services.state[FEATURE_NAME] = st

    async def flush() -> None:
        await _activity.flush_activity(services)

    services.batcher.register("checkin.activity", flush)


async def _forget(services: Services, member: Member) -> None:
    st = state(services)
    # Drop what is still in memory first, so a flush cannot re-create rows after the delete.
    st.pending = {k: v for k, v in st.pending.items() if k[1] != member.id}
    st.activity.pop((member.group_id, member.id), None)
    st.referrals.discard((member.group_id, member.id))
    # The rows themselves: storage/checkin/tables.py declares how each is forgotten.


async def _demo(services: Services, group: Group, members: list[Member]) -> None:
    """Seed two weeks of check-ins (with gaps), a shop and some history."""
    st = state(services)
    rules = await rules_for(services, group.id)
    now = services.clock.now()
    today = day_of(now, group, rules)
    for n, member in enumerate(members):
        for back in range(14, 0, -1):
            if (back + n) % (n + 4) == 0:
                continue  # a gap now and then, different for each member
            day = today - timedelta(days=back)
            await st.repos.checkins.checkin(
                group.id,
                member.id,
                day=day,
                at=now - timedelta(days=back),
                itemize=lambda s, r: [(i.kind, i.amount) for i in itemize(s, r, rules.checkin)],
                badge_rules=st.auto_rules,
            )
    existing = {i.name for i in await st.repos.shop.items(group.id)}
    for name, cost, stock, limit in (
        ("群主签名照", 200, 3, 1),
        ("定制头衔", 120, 10, 1),
        ("表情包合集", 30, 50, None),
    ):
        if name not in existing:
            await st.repos.shop.add_item(group.id, name, cost, stock, limit, at=now)


FEATURE = Feature(
    name=FEATURE_NAME,
    router=router,
    settings=CheckinSettings,
    startup=_startup,
    delete_member_data=_forget,
    demo=_demo,
    config_model=CheckinConfig,
    provides=provide,
    # /me shows the moderation credit when the moderation feature is installed.
    # Badge announcements wait while a raid is on; a community's chats share one wallet per
    # person (handlers.checkin.wallet); dashboard corrections are audited.
    uses=(CreditScore, NewcomerGate, CommunityScope, LinkedAccounts, AuditTrail),
)
