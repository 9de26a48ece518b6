"""Alerts to the moderators: raised, batched, notified, reported on and handled."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Row

from storage.database import Database
from storage.moderation.tables import mod_alerts, mod_report_votes


@dataclass(frozen=True, slots=True)
class AlertRow:
    """An alert to the moderators and how it was handled."""

    id: int
    group_id: int
    kind: str
    level: str | None
    category: str | None
    member_id: int | None
    user_id: str | None
    message_id: str | None
    term_key: str | None
    excerpt: str | None
    status: str
    created_at: datetime
    notified_at: datetime | None
    escalated_at: datetime | None
    handled_by: str | None
    handled_at: datetime | None
    steps: list[dict[str, Any]]
    refs: list[list[str]]
    reporters: int
    credit_delta: int
    sanction: str | None


def _alert(row: Row[Any]) -> AlertRow:
    return AlertRow(
        id=row.id,
        group_id=row.group_id,
        kind=row.kind,
        level=row.level,
        category=row.category,
        member_id=row.member_id,
        user_id=row.user_id,
        message_id=row.message_id,
        term_key=row.term_key,
        excerpt=row.excerpt,
        status=row.status,
        created_at=row.created_at,
        notified_at=row.notified_at,
        escalated_at=row.escalated_at,
        handled_by=row.handled_by,
        handled_at=row.handled_at,
        steps=json.loads(row.steps or "[]"),
        refs=json.loads(row.refs or "[]"),
        reporters=row.reporters,
        credit_delta=row.credit_delta,
        sanction=row.sanction,
    )


class AlertRepo:
    """Alerts and members' report votes; one transaction per method."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add_alert(
        self,
        *,
        group_id: int,
        kind: str,
        now: datetime,
        level: str | None = None,
        category: str | None = None,
        member_id: int | None = None,
        user_id: str | None = None,
        message_id: str | None = None,
        term_key: str | None = None,
        excerpt: str | None = None,
        steps: Sequence[dict[str, Any]] = (),
        credit_delta: int = 0,
        sanction: str | None = None,
        reporters: int = 0,
    ) -> int:
        """Create an open alert; returns its id."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                mod_alerts.insert().values(
                    group_id=group_id,
                    kind=kind,
                    level=level,
                    category=category,
                    member_id=member_id,
                    user_id=user_id,
                    message_id=message_id,
                    term_key=term_key,
                    excerpt=excerpt,
                    status="open",
                    created_at=now,
                    steps=json.dumps(list(steps), ensure_ascii=False),
                    refs="[]",
                    reporters=reporters,
                    credit_delta=credit_delta,
                    sanction=sanction,
                )
            )
            inserted = result.inserted_primary_key
            assert inserted is not None
            return int(inserted[0])

    async def alert(self, alert_id: int) -> AlertRow | None:
        """One alert."""
        async with self.db.begin() as conn:
            row = (await conn.execute(select(mod_alerts).where(mod_alerts.c.id == alert_id))).first()
            return _alert(row) if row else None

    async def alerts(
        self,
        group_id: int,
        *,
        status: str | None = None,
        kind: str | None = None,
        since: datetime | None = None,
        limit: int = 50,
    ) -> list[AlertRow]:
        """Alerts of a group, newest first."""
        query = select(mod_alerts).where(mod_alerts.c.group_id == group_id)
        if status is not None:
            query = query.where(mod_alerts.c.status == status)
        if kind is not None:
            query = query.where(mod_alerts.c.kind == kind)
        if since is not None:
            query = query.where(mod_alerts.c.created_at >= since)
        async with self.db.begin() as conn:
            rows = await conn.execute(query.order_by(mod_alerts.c.id.desc()).limit(limit))
            return [_alert(r) for r in rows]

    async def alerts_page(
        self, group_id: int, *, status: str | None, offset: int, limit: int, kind: str | None = None
    ) -> tuple[list[AlertRow], int]:
        """One page of a group's alerts (newest first), of one ``kind`` when given, and how many
        match in all (the dashboard's desk pages on the server)."""
        where = [mod_alerts.c.group_id == group_id]
        if status is not None:
            where.append(mod_alerts.c.status == status)
        if kind is not None:
            where.append(mod_alerts.c.kind == kind)
        async with self.db.begin() as conn:
            total = (
                await conn.execute(select(func.count()).select_from(mod_alerts).where(*where))
            ).scalar_one()
            rows = await conn.execute(
                select(mod_alerts).where(*where).order_by(mod_alerts.c.id.desc()).offset(offset).limit(limit)
            )
            return [_alert(r) for r in rows], int(total)

    async def unnotified(self, group_id: int, kind: str, level: str) -> list[AlertRow]:
        """Alerts waiting for the next batched message, oldest first."""
        async with self.db.begin() as conn:
            rows = await conn.execute(
                select(mod_alerts)
                .where(
                    mod_alerts.c.group_id == group_id,
                    mod_alerts.c.kind == kind,
                    mod_alerts.c.level == level,
                    mod_alerts.c.notified_at.is_(None),
                )
                .order_by(mod_alerts.c.id)
            )
            return [_alert(r) for r in rows]

    async def last_notified(self, group_id: int, kind: str, level: str) -> datetime | None:
        """When the last batched alert message of this kind went out."""
        async with self.db.begin() as conn:
            value = (
                await conn.execute(
                    select(func.max(mod_alerts.c.notified_at)).where(
                        mod_alerts.c.group_id == group_id,
                        mod_alerts.c.kind == kind,
                        mod_alerts.c.level == level,
                    )
                )
            ).scalar()
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        # func.max bypasses the column type on SQLite, so the value may come back naive.
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    async def mark_notified(
        self, alert_ids: Sequence[int], now: datetime, refs: Sequence[Sequence[str]] = ()
    ) -> None:
        """Record that these alerts were sent (and where, so buttons and edits can find them)."""
        if not alert_ids:
            return
        async with self.db.begin() as conn:
            await conn.execute(
                update(mod_alerts)
                .where(mod_alerts.c.id.in_(list(alert_ids)))
                .values(notified_at=now, refs=json.dumps([list(r) for r in refs]))
            )

    async def set_alert(self, alert_id: int, **values: Any) -> None:
        """Update fields of an alert (``steps`` and ``refs`` as lists)."""
        for name in ("steps", "refs"):
            if name in values:
                values[name] = json.dumps(values[name], ensure_ascii=False)
        async with self.db.begin() as conn:
            await conn.execute(update(mod_alerts).where(mod_alerts.c.id == alert_id).values(**values))

    async def handle_alert(self, alert_id: int, status: str, by: str, now: datetime) -> bool:
        """Close an open alert; False when it was already handled (first moderator wins)."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                update(mod_alerts)
                .where(mod_alerts.c.id == alert_id, mod_alerts.c.status == "open")
                .values(status=status, handled_by=by, handled_at=now)
            )
            return bool(result.rowcount)

    async def report_alert_for(self, group_id: int, message_id: str) -> AlertRow | None:
        """The open report alert about a message, if any."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(mod_alerts).where(
                        mod_alerts.c.group_id == group_id,
                        mod_alerts.c.kind == "report",
                        mod_alerts.c.message_id == message_id,
                        mod_alerts.c.status == "open",
                    )
                )
            ).first()
            return _alert(row) if row else None

    async def add_reporter(self, alert_id: int, user_id: str) -> bool:
        """Count one member's report of an alert's message; False when they had already reported it."""
        async with self.db.begin() as conn:
            found = await conn.execute(
                select(mod_report_votes.c.alert_id).where(
                    mod_report_votes.c.alert_id == alert_id, mod_report_votes.c.user_id == user_id
                )
            )
            if found.first() is not None:
                return False
            await conn.execute(mod_report_votes.insert().values(alert_id=alert_id, user_id=user_id))
            await conn.execute(
                update(mod_alerts)
                .where(mod_alerts.c.id == alert_id)
                .values(reporters=mod_alerts.c.reporters + 1)
            )
            return True

    async def handled_durations(self, group_id: int, kind: str, since: datetime) -> list[float]:
        """Seconds from creation to handling of the alerts handled since ``since``."""
        async with self.db.begin() as conn:
            rows = await conn.execute(
                select(mod_alerts.c.created_at, mod_alerts.c.handled_at).where(
                    mod_alerts.c.group_id == group_id,
                    mod_alerts.c.kind == kind,
                    mod_alerts.c.created_at >= since,
                    mod_alerts.c.handled_at.is_not(None),
                )
            )
            return [(r.handled_at - r.created_at).total_seconds() for r in rows]

    async def count_alerts(self, group_id: int, kind: str, since: datetime) -> int:
        """How many alerts of a kind were raised since ``since``."""
        async with self.db.begin() as conn:
            value = (
                await conn.execute(
                    select(func.count()).where(
                        mod_alerts.c.group_id == group_id,
                        mod_alerts.c.kind == kind,
                        mod_alerts.c.created_at >= since,
                    )
                )
            ).scalar()
            return int(value or 0)
