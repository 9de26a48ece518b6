"""The ``PointsCorrection`` port: a moderator's points correction from the dashboard's member
page, as ``/points give|take`` (an ``admin`` ledger posting with the moderator as its actor,
the same reply and any level-up announced in the group), and a line in the audit log."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.args import MAX_AMOUNT
from bot.errors import QunyouError
from bot.messages import OutgoingMessage, render_plain
from bot.ports import AuditTrail, DeskRefused
from handlers.checkin.api import announce, user_ref
from handlers.checkin.state import day_of, rules_for, state
from storage.checkin import Entry, InsufficientPoints

if TYPE_CHECKING:
    from bot.events import UserRef
    from bot.services import Services
    from storage.models import Group, Member

log = logging.getLogger(__name__)


class Correction:
    """``PointsCorrection`` over the feature's ledger."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def correct(
        self, group: Group, member: Member, delta: int, reason: str, actor: UserRef, lang: str
    ) -> str:
        """Give (``delta`` > 0) or take points; refuses 0, more than ``/points`` takes, a bot,
        and taking more than the balance."""
        services = self._services
        if member.is_bot:
            raise DeskRefused("checkin.points.bot")
        if delta == 0 or abs(delta) > MAX_AMOUNT:
            raise DeskRefused("web.members.bad_amount", max=MAX_AMOUNT)
        note = reason.strip()[:200] or None
        now = services.clock.now()
        rules = await rules_for(services, group.id)
        moderator = await services.members.find(group.id, actor.user_id)
        st = state(services)
        try:
            posting = await st.repos.ledger.post(
                group.id,
                member.id,
                [Entry(delta, "admin", True)],
                at=now,
                day=day_of(now, group, rules),
                reason=note,
                actor_id=moderator.id if moderator else None,
                badge_rules=st.auto_rules,
            )
        except InsufficientPoints as exc:
            name = member.display_name or member.user_id
            raise DeskRefused("checkin.points.take_too_much", name=name, balance=exc.balance) from None
        trail = services.ports.find(AuditTrail)
        if trail is not None:
            await trail.record(
                group.id, now, actor.user_id, "points_adjust", f"member={member.id} delta={delta:+d}"
            )
        key = "checkin.points.given" if delta > 0 else "checkin.points.taken"
        who = user_ref(services, member, group)
        values = {"user": who, "amount": abs(delta), "balance": posting.balance}
        if group.adapter in services.adapters:
            chat = services.directory.chat_for(group)
            try:
                await services.send(
                    chat,
                    OutgoingMessage(parts=services.i18n.parts(group.language, key, **values)),
                    group.language,
                )
            except QunyouError as exc:
                log.warning("could not tell group %s about a points correction: %s", group.id, exc)
            await announce(services, group, member, posting, chat, rules=rules)
        return render_plain(services.i18n.parts(lang, key, **values))
