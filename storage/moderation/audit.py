"""The audit log (``mod_log``): every action moderation takes, automatic or by a moderator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Row

from storage.database import Database
from storage.moderation.tables import mod_log


@dataclass(frozen=True, slots=True)
class LogRow:
    """One audit-log line."""

    id: int
    group_id: int
    at: datetime
    actor: str
    member_id: int | None
    action: str
    detail: str
    alert_id: int | None


def _log(row: Row[Any]) -> LogRow:
    return LogRow(
        id=row.id,
        group_id=row.group_id,
        at=row.at,
        actor=row.actor,
        member_id=row.member_id,
        action=row.action,
        detail=row.detail,
        alert_id=row.alert_id,
    )


class AuditRepo:
    """Appends to and reads the audit log; one transaction per method."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def log(
        self,
        group_id: int,
        at: datetime,
        actor: str,
        action: str,
        detail: str = "",
        *,
        member_id: int | None = None,
        alert_id: int | None = None,
    ) -> None:
        """Append one audit-log line."""
        async with self.db.begin() as conn:
            await conn.execute(
                mod_log.insert().values(
                    group_id=group_id,
                    at=at,
                    actor=actor,
                    member_id=member_id,
                    action=action,
                    detail=detail,
                    alert_id=alert_id,
                )
            )

    async def log_rows(self, group_id: int, member_id: int | None = None, limit: int = 20) -> list[LogRow]:
        """Newest audit-log lines of a group (or about one member)."""
        query = select(mod_log).where(mod_log.c.group_id == group_id)
        if member_id is not None:
            query = query.where(mod_log.c.member_id == member_id)
        async with self.db.begin() as conn:
            rows = await conn.execute(query.order_by(mod_log.c.id.desc()).limit(limit))
            return [_log(r) for r in rows]

    async def log_page(
        self,
        group_id: int,
        *,
        actor: str = "",
        action: str = "",
        since: datetime | None = None,
        until: datetime | None = None,
        offset: int,
        limit: int,
        member_id: int | None = None,
    ) -> tuple[list[LogRow], int]:
        """One page of a group's audit log, newest first, filtered by actor, action, the member
        it is about and a time window (the dashboard's desk), and how many lines match in all."""
        where = [mod_log.c.group_id == group_id]
        if member_id is not None:
            where.append(mod_log.c.member_id == member_id)
        if actor:
            where.append(mod_log.c.actor == actor)
        if action:
            where.append(mod_log.c.action == action)
        if since is not None:
            where.append(mod_log.c.at >= since)
        if until is not None:
            where.append(mod_log.c.at < until)
        async with self.db.begin() as conn:
            total = (await conn.execute(select(func.count()).select_from(mod_log).where(*where))).scalar_one()
            rows = await conn.execute(
                select(mod_log).where(*where).order_by(mod_log.c.id.desc()).offset(offset).limit(limit)
            )
            return [_log(r) for r in rows], int(total)
