"""How the planning features credit and read points: the check-in feature's ledger.

``award``, ``checked_in_since``, ``points_of`` and ``_checkin_module`` moved here together from
``handlers/schedule/common.py`` (same names, same signatures); topics, activities and onboarding
import them from here. Not a feature: no router, no tables. Today it reaches the check-in feature
through its module (the one cross-feature import left in the planning code); once the check-in
feature provides a points port (``bot/ports.py``), these bodies go through it and this module
needs nothing from ``handlers`` any more (it can then move into ``bot/``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.errors import QunyouError
from bot.events import ChatRef
from bot.planned_posts import tz_of

if TYPE_CHECKING:
    from bot.services import Services
    from storage.models import Group, Member

log = logging.getLogger(__name__)


def _checkin_module(services: Services) -> Any | None:
    """The check-in feature's module when it is installed and enabled, else None.

    Points belong to the check-in feature; topics and activities credit them through its public
    ``award``. Without that feature the planning features still work, they just award nothing.
    """
    if not any(getattr(f, "name", None) == "checkin" for f in services.features):
        return None
    try:
        import handlers.checkin as checkin
    except ImportError:
        return None
    return checkin


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
    checkin = _checkin_module(services)
    if checkin is None or not hasattr(checkin, "award"):
        log.info("no points feature: %s points for member %s (%s) not credited", points, member.id, kind)
        return False
    try:
        await checkin.award(services, member, points, kind, reason, chat=chat, counters=counters or None)
    except (QunyouError, ValueError) as exc:
        log.warning("award to member %s failed: %s", member.id, exc)
        return False
    return True


async def checked_in_since(services: Services, group: Group, member: Member) -> bool | None:
    """Whether the member has ever checked in (None: the check-in feature is not there)."""
    checkin = _checkin_module(services)
    try:
        repo = checkin.state(services).repo if checkin is not None else None
        if repo is None:
            return None
        status = await repo.checkin_status(
            group.id, member.id, services.clock.now().astimezone(tz_of(group)).date()
        )
        return bool(status.total)
    except (AttributeError, KeyError, QunyouError) as exc:
        log.info("check-in status unavailable: %s", exc)
        return None


async def points_of(services: Services, group: Group, member: Member) -> int | None:
    """The member's balance (None: the check-in feature is not there)."""
    checkin = _checkin_module(services)
    try:
        repo = checkin.state(services).repo if checkin is not None else None
        if repo is None:
            return None
        balance, _ = await repo.balance(group.id, member.id)
        return int(balance)
    except (AttributeError, KeyError, QunyouError) as exc:
        log.info("points balance unavailable: %s", exc)
        return None
