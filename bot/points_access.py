"""How planning features credit and read points: the check-in feature's ``PointsLedger`` port.

``award``, ``checked_in_since`` and ``points_of`` are what topics, activities and onboarding
need of the check-in feature. They look the port up optionally (each of those features lists it in
``uses``): without the check-in feature the planning features still work and award nothing.
Core code: no feature is imported, so any feature may call these.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.errors import QunyouError
from bot.events import ChatRef
from bot.ports import PointsLedger

if TYPE_CHECKING:
    from bot.services import Services
    from storage.models import Group, Member

log = logging.getLogger(__name__)


def _ledger(services: Services) -> PointsLedger | None:
    """The points ledger when the check-in feature is installed, else None.

    Points belong to the check-in feature; topics and activities credit them through its
    ``PointsLedger`` port (listed in their ``uses``). Without that feature the planning features
    still work, they just award nothing.
    """
    return services.ports.find(PointsLedger)


async def award(
    services: Services,
    member: Member,
    points: int,
    kind: str,
    reason: str,
    *,
    chat: ChatRef | None = None,
    counters: dict[str, int] | None = None,
) -> bool:
    """Credit points (and badge counters) through the check-in feature; False when unavailable."""
    ledger = _ledger(services)
    if ledger is None:
        log.info("no points feature: %s points for member %s (%s) not credited", points, member.id, kind)
        return False
    try:
        await ledger.award(member, points, kind, reason, chat=chat, counters=counters or None)
    except (QunyouError, ValueError) as exc:
        log.warning("award to member %s failed: %s", member.id, exc)
        return False
    return True


async def checked_in_since(services: Services, group: Group, member: Member) -> bool | None:
    """Whether the member has ever checked in (None: the check-in feature is not there)."""
    ledger = _ledger(services)
    if ledger is None:
        return None
    try:
        return await ledger.has_checked_in(group, member)
    except (KeyError, QunyouError) as exc:  # KeyError: the feature's state is not built yet
        log.info("check-in status unavailable: %s", exc)
        return None


async def points_of(services: Services, group: Group, member: Member) -> int | None:
    """The member's balance (None: the check-in feature is not there)."""
    ledger = _ledger(services)
    if ledger is None:
        return None
    try:
        return await ledger.balance(group, member)
    except (KeyError, QunyouError) as exc:  # KeyError: the feature's state is not built yet
        log.info("points balance unavailable: %s", exc)
        return None
