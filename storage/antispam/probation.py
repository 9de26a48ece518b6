"""Newcomer probation rows (``antispam_probation``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Row

from storage.antispam.tables import antispam_probation as probation
from storage.database import Database
from storage.sql import upsert


@dataclass(frozen=True, slots=True)
class ProbationRow:
    """A member's probation in one group."""

    group_id: int
    member_id: int
    started_at: datetime
    #: True when the bot saw the member join (False: included as a never-seen member).
    joined: bool
    messages: int
    strikes: int
    approved_at: datetime | None
    approved_by: str | None


def _row(row: Row[Any]) -> ProbationRow:
    return ProbationRow(
        row.group_id,
        row.member_id,
        row.started_at,
        bool(row.joined),
        row.messages,
        row.strikes,
        row.approved_at,
        row.approved_by,
    )


def _where(group_id: int, member_id: int) -> Any:
    return (probation.c.group_id == group_id) & (probation.c.member_id == member_id)


class ProbationRepo:
    """Probation rows: one per member and group."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, group_id: int, member_id: int) -> ProbationRow | None:
        """The member's row in the group, or None when the feature never met them."""
        async with self.db.begin() as conn:
            row = (await conn.execute(select(probation).where(_where(group_id, member_id)))).first()
        return _row(row) if row else None

    async def start(self, group_id: int, member_id: int, at: datetime, *, joined: bool) -> ProbationRow:
        """Start (or, on a re-join, restart) a member's probation; an approval is kept."""
        async with self.db.begin() as conn:
            await upsert(
                conn,
                probation,
                {
                    "group_id": group_id,
                    "member_id": member_id,
                    "started_at": at,
                    "joined": int(joined),
                    "messages": 0,
                    "strikes": 0,
                },
                keys=("group_id", "member_id"),
                update=("started_at", "joined", "messages", "strikes"),
            )
            row = (await conn.execute(select(probation).where(_where(group_id, member_id)))).one()
        return _row(row)

    async def start_many(self, rows: list[ProbationRow]) -> None:
        """Start many probations in one transaction (the batched joins of a burst); approvals
        already in the table are kept."""
        if not rows:
            return
        async with self.db.begin() as conn:
            for row in rows:
                await upsert(
                    conn,
                    probation,
                    {
                        "group_id": row.group_id,
                        "member_id": row.member_id,
                        "started_at": row.started_at,
                        "joined": int(row.joined),
                        "messages": 0,
                        "strikes": 0,
                    },
                    keys=("group_id", "member_id"),
                    update=("started_at", "joined", "messages", "strikes"),
                )

    async def approvals(self) -> dict[tuple[int, int], tuple[datetime, str | None]]:
        """Every approval: ``(group_id, member_id)`` → when and by whom."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(
                        probation.c.group_id,
                        probation.c.member_id,
                        probation.c.approved_at,
                        probation.c.approved_by,
                    ).where(probation.c.approved_at.is_not(None))
                )
            ).all()
        return {(r.group_id, r.member_id): (r.approved_at, r.approved_by) for r in rows}

    async def count_message(self, group_id: int, member_id: int) -> None:
        """One more clean message during probation."""
        async with self.db.begin() as conn:
            await conn.execute(
                update(probation).where(_where(group_id, member_id)).values(messages=probation.c.messages + 1)
            )

    async def strike(self, group_id: int, member_id: int) -> int:
        """One more broken probation rule; returns the member's strikes now."""
        async with self.db.begin() as conn:
            await conn.execute(
                update(probation).where(_where(group_id, member_id)).values(strikes=probation.c.strikes + 1)
            )
            strikes = (
                await conn.execute(select(probation.c.strikes).where(_where(group_id, member_id)))
            ).scalar_one()
        return int(strikes)

    async def approve(self, group_id: int, member_id: int, by: str, at: datetime) -> bool:
        """End a member's probation early; False when they were approved already."""
        async with self.db.begin() as conn:
            row = (await conn.execute(select(probation).where(_where(group_id, member_id)))).first()
            if row is not None and row.approved_at is not None:
                return False
            await upsert(
                conn,
                probation,
                {
                    "group_id": group_id,
                    "member_id": member_id,
                    "started_at": row.started_at if row is not None else at,
                    "joined": row.joined if row is not None else 0,
                    "messages": row.messages if row is not None else 0,
                    "strikes": row.strikes if row is not None else 0,
                    "approved_at": at,
                    "approved_by": by,
                },
                keys=("group_id", "member_id"),
                update=("approved_at", "approved_by"),
            )
        return True

    async def export_member(self, member_id: int) -> list[dict[str, Any]]:
        """A member's probation rows, for ``/mydata``."""
        async with self.db.begin() as conn:
            rows = (await conn.execute(select(probation).where(probation.c.member_id == member_id))).all()
        return [
            {
                "group_id": r.group_id,
                "started_at": r.started_at.isoformat(),
                "messages": r.messages,
                "strikes": r.strikes,
                "approved_at": r.approved_at.isoformat() if r.approved_at else None,
            }
            for r in rows
        ]

    async def forget_member(self, member_id: int) -> None:
        """Drop a member's probation rows, for ``/forgetme``."""
        async with self.db.begin() as conn:
            await conn.execute(delete(probation).where(probation.c.member_id == member_id))
