"""Cooldowns shared by the workers on one PostgreSQL database: one row per running cooldown.

A cooldown is claimed with one statement, ``INSERT … ON CONFLICT DO UPDATE … WHERE until <= now
RETURNING``: the row is created, or taken over when the one there has run out, and PostgreSQL's
row lock on the conflicting key makes two workers that claim at the same instant see each other
(the second re-checks the ``WHERE`` against the first one's committed row and gets nothing). So
exactly one worker acts, whatever the timing, with no advisory lock and no second round trip for
the winner.

The rows name a feature's own keys (an FAQ entry and a chat, for instance), never a member's
data; run-out rows are deleted now and then (``prune``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String, Table, delete, select
from sqlalchemy.engine import Connection

from storage.database import Database
from storage.schema import metadata
from storage.sql import dialect_insert
from storage.types import UTCDateTime

#: One row per (scope, name) whose cooldown runs (or ran: until ``prune``) until ``until``.
shared_cooldowns = Table(
    "shared_cooldowns",
    metadata,
    Column("scope", String(64), primary_key=True),
    Column("name", String(191), primary_key=True),
    Column("until", UTCDateTime(), nullable=False),
)


def _claim(conn: Connection, scope: str, name: str, now: datetime, until: datetime) -> datetime | None:
    stmt = dialect_insert(conn, shared_cooldowns).values(scope=scope, name=name, until=until)
    stmt = stmt.on_conflict_do_update(
        index_elements=["scope", "name"],
        set_={"until": stmt.excluded.until},
        where=shared_cooldowns.c.until <= now,
    ).returning(shared_cooldowns.c.until)
    if conn.execute(stmt).first() is not None:
        return None
    # Lost: say until when the other claim holds, so the caller need not ask again before then.
    held: datetime | None = conn.execute(
        select(shared_cooldowns.c.until).where(
            shared_cooldowns.c.scope == scope, shared_cooldowns.c.name == name
        )
    ).scalar_one_or_none()
    return held if held is not None else until


def _prune(conn: Connection, before: datetime) -> int:
    return int(conn.execute(delete(shared_cooldowns).where(shared_cooldowns.c.until < before)).rowcount or 0)


class CooldownRepo:
    """Claims on ``shared_cooldowns``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim(self, scope: str, name: str, now: datetime, until: datetime) -> datetime | None:
        """Start the cooldown ``(scope, name)`` running to ``until`` unless one runs at ``now``.

        None: claimed, the caller acts. Otherwise the end of the cooldown another claim holds.
        """
        return await self.db.transact(_claim, scope, name[:191], now, until)

    async def prune(self, before: datetime) -> int:
        """Delete the cooldowns that ran out before ``before``; returns how many."""
        return await self.db.transact(_prune, before)
