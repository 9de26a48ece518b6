"""Cooldowns and counts shared by the workers on one PostgreSQL database.

Cooldowns: one row per running cooldown.

A cooldown is claimed with one statement, ``INSERT … ON CONFLICT DO UPDATE … WHERE until <= now
RETURNING``: the row is created, or taken over when the one there has run out, and PostgreSQL's
row lock on the conflicting key makes two workers that claim at the same instant see each other
(the second re-checks the ``WHERE`` against the first one's committed row and gets nothing). So
exactly one worker acts, whatever the timing, with no advisory lock and no second round trip for
the winner.

Counts over a sliding window (joins per group in the last minute): one row per key and second,
``n`` added to by ``INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n`` (atomic in every
worker's transaction), then summed over the window in the same transaction.

The rows name a feature's own keys (an FAQ entry and a chat, for instance), never a member's
data; run-out rows are deleted now and then (``prune``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Integer, String, Table, delete, func, select
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


#: Events per (scope, name) and second, for counts over a sliding window shared by the workers.
shared_counts = Table(
    "shared_counts",
    metadata,
    Column("scope", String(64), primary_key=True),
    Column("name", String(191), primary_key=True),
    Column("second", UTCDateTime(), primary_key=True),
    Column("n", Integer, nullable=False),
)


def _add_count(conn: Connection, scope: str, name: str, second: datetime, n: int, since: datetime) -> int:
    stmt = dialect_insert(conn, shared_counts).values(scope=scope, name=name, second=second, n=n)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["scope", "name", "second"], set_={"n": shared_counts.c.n + stmt.excluded.n}
        )
    )
    total = conn.execute(
        select(func.coalesce(func.sum(shared_counts.c.n), 0)).where(
            shared_counts.c.scope == scope, shared_counts.c.name == name, shared_counts.c.second > since
        )
    ).scalar_one()
    return int(total)


def _add_counts(
    conn: Connection, scope: str, items: list[tuple[str, list[tuple[datetime, int]], datetime]]
) -> list[int]:
    totals: list[int] = []
    for name, seconds, since in items:
        if seconds:
            stmt = dialect_insert(conn, shared_counts).values(
                [{"scope": scope, "name": name, "second": at, "n": n} for at, n in seconds]
            )
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["scope", "name", "second"],
                    set_={"n": shared_counts.c.n + stmt.excluded.n},
                )
            )
        total = conn.execute(
            select(func.coalesce(func.sum(shared_counts.c.n), 0)).where(
                shared_counts.c.scope == scope, shared_counts.c.name == name, shared_counts.c.second > since
            )
        ).scalar_one()
        totals.append(int(total))
    return totals


def _forget_counts(conn: Connection, scope: str, names: list[str]) -> int:
    stmt = delete(shared_counts).where(shared_counts.c.scope == scope, shared_counts.c.name.in_(names))
    return int(conn.execute(stmt).rowcount or 0)


def _prune_counts(conn: Connection, before: datetime) -> int:
    return int(conn.execute(delete(shared_counts).where(shared_counts.c.second < before)).rowcount or 0)


def _by_second(seconds: list[tuple[datetime, int]]) -> dict[datetime, int]:
    merged: dict[datetime, int] = {}
    for at, n in seconds:
        second = at.replace(microsecond=0)
        merged[second] = merged.get(second, 0) + n
    return merged


class CountRepo:
    """Sliding-window counts on ``shared_counts``: one row per second, added to by upsert."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, scope: str, name: str, at: datetime, n: int, since: datetime) -> int:
        """Count ``n`` events at ``at`` (to the second); returns the events after ``since``,
        every worker's, this one included (one transaction, two statements)."""
        second = at.replace(microsecond=0)
        return await self.db.transact(_add_count, scope, name[:191], second, n, since)

    async def add_many(
        self, scope: str, items: list[tuple[str, list[tuple[datetime, int]], datetime]]
    ) -> list[int]:
        """For each ``(name, [(second, n), …], since)``: add the events, then their count after
        ``since``, every worker's: one transaction for them all (a message's flood keys)."""
        clean = [(name[:191], sorted(_by_second(seconds).items()), since) for name, seconds, since in items]
        return await self.db.transact(_add_counts, scope, clean)

    async def forget(self, scope: str, names: list[str]) -> int:
        """Delete every second of these names (a window that tipped over starts again)."""
        return await self.db.transact(_forget_counts, scope, [n[:191] for n in names])

    async def prune(self, before: datetime) -> int:
        """Delete the seconds before ``before``; returns how many rows."""
        return await self.db.transact(_prune_counts, before)
