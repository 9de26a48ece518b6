"""Retained message text for hot words: read, purged by age, dropped per group."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select

from storage.stats.base import StatsBase
from storage.stats.tables import stats_text


class TextRepo(StatsBase):
    """The retained text of a group."""

    async def texts(self, group_id: int, since: datetime, limit: int = 20000) -> list[tuple[int, str]]:
        """(member, text) of the newest ``limit`` retained messages since ``since``."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(stats_text.c.member_id, stats_text.c.text)
                    .where(stats_text.c.group_id == group_id, stats_text.c.at >= since)
                    .order_by(stats_text.c.at.desc())
                    .limit(limit)
                )
            ).all()
        return [(int(r.member_id or 0), r.text) for r in rows]

    async def purge_text(self, before: datetime, group_id: int | None = None) -> int:
        """Delete retained text older than ``before`` (one group, or all); returns rows deleted."""
        stmt = delete(stats_text).where(stats_text.c.at < before)
        if group_id is not None:
            stmt = stmt.where(stats_text.c.group_id == group_id)
        async with self.db.begin() as conn:
            result = await conn.execute(stmt)
        return int(result.rowcount or 0)

    async def drop_group_text(self, group_id: int) -> int:
        """Delete every retained message of a group (``store_text`` turned off)."""
        async with self.db.begin() as conn:
            result = await conn.execute(delete(stats_text).where(stats_text.c.group_id == group_id))
        return int(result.rowcount or 0)

    async def text_count(self, group_id: int) -> int:
        """How many messages a group has retained."""
        async with self.db.begin() as conn:
            return int(
                (
                    await conn.execute(select(func.count()).where(stats_text.c.group_id == group_id))
                ).scalar_one()
            )
