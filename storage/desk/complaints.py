"""Complaints and the times the response levels fired (``desk_complaints``, ``desk_responses``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update

from storage.database import Database
from storage.desk.tables import desk_complaints as complaints
from storage.desk.tables import desk_responses as responses
from storage.schema import members


@dataclass(frozen=True, slots=True)
class ComplaintRow:
    """One complaint."""

    id: int
    member_id: int | None
    text: str
    source: str
    alert_id: int | None
    at: datetime


class ComplaintRepo:
    """A group's complaints and its response levels."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, group_id: int, member_id: int | None, text: str, source: str, at: datetime) -> int:
        """Record a complaint; returns its id."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                insert(complaints).values(
                    group_id=group_id, member_id=member_id, text=text, source=source, at=at
                )
            )
            key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    async def set_alert(self, complaint_id: int, alert_id: int) -> None:
        """Link a complaint to the moderators' alert that tracks it."""
        async with self.db.begin() as conn:
            await conn.execute(
                update(complaints).where(complaints.c.id == complaint_id).values(alert_id=alert_id)
            )

    async def count_since(self, group_id: int, since: datetime) -> int:
        """Complaints in the group since ``since``."""
        async with self.db.begin() as conn:
            found = await conn.execute(
                select(func.count())
                .select_from(complaints)
                .where(complaints.c.group_id == group_id, complaints.c.at >= since)
            )
            return int(found.scalar_one())

    async def recent(self, group_id: int, since: datetime, limit: int) -> list[ComplaintRow]:
        """The newest complaints since ``since``, newest first."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(complaints)
                    .where(complaints.c.group_id == group_id, complaints.c.at >= since)
                    .order_by(complaints.c.at.desc(), complaints.c.id.desc())
                    .limit(limit)
                )
            ).all()
        return [ComplaintRow(r.id, r.member_id, r.text, r.source, r.alert_id, r.at) for r in rows]

    async def last_by(self, group_id: int, member_id: int) -> datetime | None:
        """When the member last complained in the group (None: never)."""
        async with self.db.begin() as conn:
            found = await conn.execute(
                select(func.max(complaints.c.at)).where(
                    complaints.c.group_id == group_id, complaints.c.member_id == member_id
                )
            )
            value: datetime | None = found.scalar_one()
        return value

    async def member_count(self, group_id: int) -> int:
        """How many members the bot knows in the group (the core's table)."""
        async with self.db.begin() as conn:
            found = await conn.execute(
                select(func.count()).select_from(members).where(members.c.group_id == group_id)
            )
            return int(found.scalar_one())

    async def fired(self, group_id: int, level: int, count: int, at: datetime) -> None:
        """Record that a response level fired."""
        async with self.db.begin() as conn:
            await conn.execute(insert(responses).values(group_id=group_id, level=level, count=count, at=at))

    async def last_fired(self, group_id: int, level: int) -> datetime | None:
        """When the level last fired in the group (None: never)."""
        async with self.db.begin() as conn:
            found = await conn.execute(
                select(func.max(responses.c.at)).where(
                    responses.c.group_id == group_id, responses.c.level == level
                )
            )
            value: datetime | None = found.scalar_one()
        return value
