"""The ports the check-in feature provides: ``PointsLedger`` (points and badge counters for
topics, activities and onboarding), ``CheckinFacts`` (figures for statistics), ``LedgerHistory``
and ``AccountLinkWatcher`` (an unlinked account takes back its share of a community wallet)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from bot.clock import zone
from bot.events import ChatRef
from bot.ports import (
    AccountLinkWatcher,
    BadgeAward,
    CheckinFacts,
    LedgerHistory,
    LedgerLine,
    PointsCorrection,
    PointsLedger,
)
from handlers.checkin.api import InsufficientPoints, award
from handlers.checkin.correction import Correction
from handlers.checkin.state import state
from handlers.checkin.wallet import LinkSplitter, wallet_of
from storage.checkin_views import CheckinViews
from storage.models import Group, Member

if TYPE_CHECKING:
    from bot.services import Services


class Ledger:
    """``PointsLedger`` over the feature's ``award`` and repository.

    Built before the startup hook runs, so it looks the feature's state up on each call.
    """

    def __init__(self, services: Services) -> None:
        self._services = services

    async def award(
        self,
        member: Member,
        points: int,
        kind: str,
        reason: str,
        *,
        chat: ChatRef | None = None,
        counters: Mapping[str, int] | None = None,
    ) -> None:
        """Credit points and badge counters (see ``handlers.checkin.api.award``)."""
        await award(self._services, member, points, kind, reason, chat=chat, counters=counters)

    async def has_checked_in(self, group: Group, member: Member) -> bool:
        """True when the member has ever checked in in ``group``."""
        # The plain local date is enough here: only the total is read, not today's streak.
        today = self._services.clock.now().astimezone(zone(group.timezone)).date()
        status = await state(self._services).repos.checkins.checkin_status(group.id, member.id, today)
        return bool(status.total)

    async def balance(self, group: Group, member: Member) -> int:
        """The member's balance in ``group`` (their community wallet's, when it shares one)."""
        w = await wallet_of(self._services, group, member)
        balance, _ = await state(self._services).repos.ledger.balance(w.group.id, w.member.id)
        return int(balance)

    async def spend(self, member: Member, points: int, kind: str, reason: str) -> bool:
        """Debit ``points``; False when the balance cannot pay (the debit was rolled back)."""
        try:
            await award(self._services, member, -points, kind, reason, announce_result=False)
        except InsufficientPoints:
            return False
        return True


class History:
    """``LedgerHistory`` over the feature's ledger repository."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def history(self, group: Group, member: Member, limit: int) -> list[LedgerLine]:
        """The member's latest ledger lines (of their community wallet), newest first."""
        w = await wallet_of(self._services, group, member)
        rows = await state(self._services).repos.ledger.history(w.group.id, w.member.id, limit=limit)
        return [LedgerLine(r.at, r.delta, r.kind, r.reason, r.balance_after) for r in rows]


class Facts:
    """``CheckinFacts`` over the feature's published views (``storage.checkin_views``)."""

    def __init__(self, views: CheckinViews) -> None:
        self._views = views

    async def checkins_per_day(self, group_id: int, first: date, last: date) -> dict[date, int]:
        """Check-ins per check-in day of ``first``…``last``."""
        return await self._views.checkins_per_day(group_id, first, last)

    async def live_streaks(self, member_ids: Sequence[int], alive_on: date) -> dict[int, int]:
        """Streaks still alive on ``alive_on``."""
        return await self._views.live_streaks(member_ids, alive_on)

    async def checkin_days(self, member_id: int, first: date, last: date) -> int:
        """On how many days of ``first``…``last`` the member checked in."""
        return await self._views.checkin_days(member_id, first, last)

    async def badges_awarded(self, group_id: int, since: datetime, until: datetime) -> list[BadgeAward]:
        """Badges awarded in ``[since, until)``, oldest first."""
        return [
            BadgeAward(name, key) for name, key in await self._views.badges_awarded(group_id, since, until)
        ]


def provide(services: Services) -> dict[type[Any], Any]:
    """The feature's ports (``Feature.provides``)."""
    # Annotated so mypy checks each implementation against its protocol.
    ledger: PointsLedger = Ledger(services)
    facts: CheckinFacts = Facts(CheckinViews(services.db))
    history: LedgerHistory = History(services)
    splitter: AccountLinkWatcher = LinkSplitter(services)
    correction: PointsCorrection = Correction(services)
    return {
        PointsLedger: ledger,
        CheckinFacts: facts,
        LedgerHistory: history,
        AccountLinkWatcher: splitter,
        PointsCorrection: correction,
    }
