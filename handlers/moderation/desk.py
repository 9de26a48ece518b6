"""The ``ModerationDesk`` port: the dashboard's moderation desk and lexicon pages.

Nothing here is new behaviour: every action goes through the code the chat commands and the
alert buttons use (``_act_on_alert``, ``add_group_term``, ``remove_group_term``, the matcher's
``explain``), so a moderator acting in the browser has exactly the effects, the audit lines and
the edited alert messages of one acting in chat.
"""

from __future__ import annotations

from datetime import datetime

from bot.args import BadArgument
from bot.events import UserRef
from bot.ports import DeskAlert, DeskLogLine, DeskRefused, DeskTerm, DeskVerdict
from bot.services import Services
from handlers.moderation.alerts_commands import _act_on_alert
from handlers.moderation.lexicon_commands import _explain, add_group_term, remove_group_term
from handlers.moderation.matcher import Mode
from handlers.moderation.service import get_state
from handlers.moderation.settings import ModerationSettings
from storage.models import Group

#: What the desk's buttons may do (the chat's Delete is left to the chat, where the message is).
DESK_ACTIONS = ("ack", "undo", "ban")
#: Actions that need the platform (a ban, lifting a sanction): not from a ``bot web`` process.
_PLATFORM_ACTIONS = ("ban", "undo")


class Desk:
    """``ModerationDesk`` over the moderation feature's state (looked up on each call: the port
    is built before the feature's startup hook runs)."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def alerts(
        self, group_id: int, *, open_only: bool, offset: int, limit: int, kind: str | None = None
    ) -> tuple[list[DeskAlert], int]:
        """One page of the group's alerts (of one kind when given), newest first, and the total."""
        repo = get_state(self._services).repos.alerts
        rows, total = await repo.alerts_page(
            group_id, status="open" if open_only else None, offset=offset, limit=limit, kind=kind
        )
        names: dict[int, str] = {}
        out = []
        for row in rows:
            name = None
            if row.member_id is not None:
                if row.member_id not in names:
                    found = await self._services.members.get(row.member_id)
                    names[row.member_id] = found.display_name if found else "—"
                name = names[row.member_id]
            out.append(
                DeskAlert(
                    id=row.id,
                    kind=row.kind,
                    level=row.level,
                    category=row.category,
                    status=row.status,
                    member_name=name,
                    created_at=row.created_at,
                    excerpt=row.excerpt,
                    handled_at=row.handled_at,
                )
            )
        return out, total

    async def handling(self, group_id: int, kind: str, since: datetime) -> tuple[int, list[float]]:
        """Alerts of ``kind`` raised since ``since`` and the handled ones' seconds (``/reports stats``)."""
        repo = get_state(self._services).repos.alerts
        return await repo.count_alerts(group_id, kind, since), await repo.handled_durations(
            group_id, kind, since
        )

    async def act(self, group: Group, alert_id: int, action: str, actor: UserRef, lang: str) -> str:
        """Acknowledge, undo or ban as the alert's buttons do; returns their confirmation."""
        services = self._services
        if action not in DESK_ACTIONS:
            raise DeskRefused("moderation.ack.unknown_action")
        alert = await get_state(services).repos.alerts.alert(alert_id)
        if alert is None or alert.group_id != group.id:
            raise DeskRefused("moderation.ack.unknown", id=alert_id)
        if action in _PLATFORM_ACTIONS and group.adapter not in services.adapters:
            # A dashboard served by `bot web` has no platform connection to ban or unmute with.
            raise DeskRefused("web.desk.needs_bot")
        return await _act_on_alert(services, group, alert, action, actor, lang)

    async def terms(
        self, group_id: int, query: str, *, offset: int, limit: int
    ) -> tuple[list[DeskTerm], int]:
        """One page of the group's own terms containing ``query`` (case-folded) and the total."""
        repo = get_state(self._services).repos.lexicon
        needle = query.casefold().strip()
        rows = [t for t in await repo.terms(group_id) if not needle or needle in t.term.casefold()]
        stats = await repo.term_stats(group_id)
        page = []
        for t in rows[offset : offset + limit]:
            st = stats.get(t.term)
            page.append(
                DeskTerm(
                    t.term, t.level, t.category, t.mode, st.hits if st else 0, st.false_positives if st else 0
                )
            )
        return page, len(rows)

    async def add_term(
        self, group: Group, level: str, term: str, category: str, mode: str, actor: UserRef
    ) -> None:
        """``/kw add`` from a form."""
        try:
            parsed_mode = Mode(mode.strip().lower() or "text")
        except ValueError:
            raise DeskRefused("web.lexicon.bad_mode") from None
        if not term.strip():
            raise DeskRefused("web.lexicon.term_needed")
        try:
            await add_group_term(
                self._services,
                group,
                level,
                term.strip(),
                category.strip() or None,
                parsed_mode,
                actor.user_id,
            )
        except BadArgument as exc:
            raise DeskRefused(exc.key, **exc.values) from None

    async def edit_term(
        self, group: Group, term: str, mode: str, level: str, category: str, actor: UserRef
    ) -> None:
        """A new level and category for a listed term: ``/kw add`` of the same term and mode."""
        rows = await get_state(self._services).repos.lexicon.terms(group.id)
        row = next((r for r in rows if r.term == term and r.mode == mode), None)
        if row is None:
            raise DeskRefused("moderation.kw.not_found")
        try:
            await add_group_term(
                self._services,
                group,
                level,
                row.term,
                category.strip() or None,
                Mode(row.mode),
                actor.user_id,
            )
        except BadArgument as exc:
            raise DeskRefused(exc.key, **exc.values) from None

    async def remove_term(self, group: Group, term: str, actor: UserRef) -> int:
        """``/kw del`` from a form."""
        return await remove_group_term(self._services, group, term, actor.user_id)

    async def test(self, group: Group, text: str) -> DeskVerdict:
        """``/kw test`` from a form: nothing is saved or counted."""
        services = self._services
        matcher = await get_state(services).matcher(group.id)
        pinyin = (await services.settings.of(group.id, ModerationSettings)).pinyin
        report = await _explain(matcher, text, pinyin=pinyin)
        hits = tuple(
            (h.entry.term, h.level.label) for h in sorted(report.hits, key=lambda h: h.level, reverse=True)
        )
        level = report.level
        return DeskVerdict(report.folded[:300], hits, level.label if level is not None else None)

    async def audit(
        self,
        group_id: int,
        *,
        actor: str,
        action: str,
        since: datetime | None,
        until: datetime | None,
        offset: int,
        limit: int,
        member_id: int | None = None,
    ) -> tuple[list[DeskLogLine], int]:
        """One filtered page of the audit log, with member names as ``/modlog`` shows them."""
        rows, total = await get_state(self._services).repos.audit.log_page(
            group_id,
            actor=actor,
            action=action,
            since=since,
            until=until,
            offset=offset,
            limit=limit,
            member_id=member_id,
        )
        names: dict[int, str] = {}
        out = []
        for row in rows:
            name = None
            if row.member_id is not None:
                if row.member_id not in names:
                    found = await self._services.members.get(row.member_id)
                    names[row.member_id] = found.display_name if found else "—"
                name = names[row.member_id]
            out.append(DeskLogLine(row.at, row.actor, row.action, name, row.detail))
        return out, total
