"""Small per-group markers (last churn alert, the NPS message…), so a check never repeats."""

from __future__ import annotations

from sqlalchemy import select

from storage.sql import upsert
from storage.stats.base import StatsBase
from storage.stats.tables import stats_marker


class MarkerRepo(StatsBase):
    """Per-group markers."""

    async def marker(self, group_id: int, key: str) -> str | None:
        """A per-group marker value."""
        async with self.db.begin() as conn:
            return (
                await conn.execute(
                    select(stats_marker.c.value).where(
                        stats_marker.c.group_id == group_id, stats_marker.c.key == key
                    )
                )
            ).scalar_one_or_none()

    async def set_marker(self, group_id: int, key: str, value: str) -> None:
        """Set a per-group marker."""
        async with self.db.begin() as conn:
            await upsert(
                conn,
                stats_marker,
                {"group_id": group_id, "key": key, "value": value},
                keys=("group_id", "key"),
                update=("value",),
            )
