"""The ports the moderation feature provides besides ``AuditTrail``: ``MessageScreen`` (is a
text blocked in a group), ``CreditScore`` (a member's credit) and ``ModerationFacts`` (alert
figures for statistics)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from bot.events import UserRef
from bot.ports import AlertSummary
from handlers.moderation.sanctions import lift, sanction
from handlers.moderation.service import Step, credit_level, current_credit, get_state
from storage.models import Group, Member
from storage.moderation_views import ModerationViews

if TYPE_CHECKING:
    from bot.services import Services


class Screen:
    """``MessageScreen`` over the group's compiled lexicon (the matcher the band-0 screen uses).

    Built before the startup hook runs, so it looks the feature's state up on each call.
    """

    def __init__(self, services: Services) -> None:
        self._services = services

    async def blocked(self, group_id: int) -> Callable[[str], bool]:
        """True for text the group's lexicon matches (any level: even a notice-only term is
        never echoed in public)."""
        matcher = await get_state(self._services).matcher(group_id)

        def is_blocked(text: str) -> bool:
            return bool(matcher.check(text))

        return is_blocked


class Sanctions:
    """``MemberSanctions`` over the moderators' own ``sanction``/``lift`` (same rows, audit, lifts)."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def _member(self, group: Group, user_id: str, name: str) -> Member:
        account = UserRef(group.platform, user_id, name or user_id)
        return await self._services.directory.member_for(group, account)

    async def ban(self, group: Group, user_id: str, name: str, reason: str, actor: str) -> bool:
        """Ban for good in this chat only (the caller decides where else)."""
        member = await self._member(group, user_id, name)
        steps: list[Step] = []
        return await sanction(self._services, group, member, "ban", None, reason, actor, steps, share=False)

    async def unban(self, group: Group, user_id: str, name: str, actor: str) -> bool:
        """Lift the ban in this chat only."""
        member = await self._member(group, user_id, name)
        steps: list[Step] = []
        return await lift(self._services, group, member, "ban", actor, steps, share=False)


class Credit:
    """``CreditScore`` over the feature's credit ledger."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def score(self, group: Group, member: Member) -> int:
        """The member's credit today (clean days since the last penalty added)."""
        return await current_credit(self._services, group, member)

    def level(self, score: int) -> str:
        """The level key of ``score``."""
        return credit_level(score)


class Facts:
    """``ModerationFacts`` over the feature's published views (``storage.moderation_views``)."""

    def __init__(self, views: ModerationViews) -> None:
        self._views = views

    async def alert_summary(self, group_id: int, since: datetime, until: datetime) -> AlertSummary:
        """Alerts raised in ``[since, until)`` by level, and handling times."""
        levels, handling = await self._views.alert_summary(group_id, since, until)
        return AlertSummary(levels, tuple(handling))
