"""The change log processes sharing one SQLite file use instead of PostgreSQL's NOTIFY."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, insert, select

from storage.dashboard.tables import dashboard_changes as changes
from storage.database import Database


class ChangeLog:
    """Append a change; read the lines after the last one seen; prune old ones."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def append(self, worker: str, topic: str, key: str, at: datetime) -> None:
        """Record that ``worker`` changed ``key`` under ``topic``."""
        async with self.db.begin() as conn:
            await conn.execute(insert(changes).values(worker=worker, topic=topic, key=key[:64], at=at))

    async def last_id(self) -> int:
        """The newest line's id (0 when empty): where a starting process begins reading."""
        async with self.db.begin() as conn:
            return int((await conn.execute(select(func.coalesce(func.max(changes.c.id), 0)))).scalar_one())

    async def since(self, after: int, limit: int = 500) -> list[tuple[int, str, str, str]]:
        """(id, worker, topic, key) of the lines after ``after``, oldest first."""
        async with self.db.begin() as conn:
            rows = await conn.execute(
                select(changes.c.id, changes.c.worker, changes.c.topic, changes.c.key)
                .where(changes.c.id > after)
                .order_by(changes.c.id)
                .limit(limit)
            )
            return [(int(r.id), r.worker, r.topic, r.key) for r in rows]

    async def prune(self, before: datetime) -> int:
        """Drop lines older than ``before`` (every reader has long seen them)."""
        async with self.db.begin() as conn:
            done = await conn.execute(delete(changes).where(changes.c.at < before))
            return int(done.rowcount or 0)
