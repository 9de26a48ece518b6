"""Onboarding (成长礼) progress: which first steps a newcomer has already taken by themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer, Table, select, update
from sqlalchemy.engine import Row

from storage.database import Database
from storage.rights import declare, erase
from storage.schema import metadata
from storage.sql import upsert
from storage.types import UTCDateTime

onboarding = Table(
    "onboarding",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("joined_at", UTCDateTime(), nullable=False),
    Column("read_rules_at", UTCDateTime()),
    Column("spoke_at", UTCDateTime()),
    Column("finished_at", UTCDateTime()),
)


@dataclass(frozen=True, slots=True)
class Onboarding:
    """A newcomer's onboarding row."""

    group_id: int
    member_id: int
    joined_at: datetime
    read_rules_at: datetime | None
    spoke_at: datetime | None
    finished_at: datetime | None


def _row(row: Row[Any]) -> Onboarding:
    return Onboarding(
        row.group_id, row.member_id, row.joined_at, row.read_rules_at, row.spoke_at, row.finished_at
    )


class OnboardingRepo:
    """Onboarding rows."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def start(self, group_id: int, member_id: int, now: datetime) -> None:
        """Begin (or, on a re-join, restart) a member's onboarding."""
        async with self.db.begin() as conn:
            await upsert(
                conn,
                onboarding,
                {
                    "group_id": group_id,
                    "member_id": member_id,
                    "joined_at": now,
                    "read_rules_at": None,
                    "spoke_at": None,
                    "finished_at": None,
                },
                keys=("group_id", "member_id"),
                update=("joined_at", "read_rules_at", "spoke_at", "finished_at"),
            )

    async def get(self, group_id: int, member_id: int) -> Onboarding | None:
        """One member's row."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(onboarding).where(
                        onboarding.c.group_id == group_id, onboarding.c.member_id == member_id
                    )
                )
            ).first()
        return _row(row) if row else None

    async def active(self) -> list[tuple[int, int]]:
        """``(group_id, member_id)`` of every unfinished onboarding (the listener's cache)."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(onboarding.c.group_id, onboarding.c.member_id).where(
                        onboarding.c.finished_at.is_(None)
                    )
                )
            ).all()
        return [(r.group_id, r.member_id) for r in rows]

    async def mark(self, group_id: int, member_id: int, column: str, now: datetime) -> None:
        """Record that a member read the rules (``read_rules_at``) or spoke (``spoke_at``)."""
        if column not in ("read_rules_at", "spoke_at", "finished_at"):
            raise ValueError(column)
        async with self.db.begin() as conn:
            await conn.execute(
                update(onboarding)
                .where(
                    onboarding.c.group_id == group_id,
                    onboarding.c.member_id == member_id,
                    onboarding.c[column].is_(None),
                )
                .values({column: now})
            )


# -- data rights (storage/rights.py; docs/privacy.md) ------------------------------------------

declare(onboarding, erase("member_id"), why="the member's onboarding progress")
