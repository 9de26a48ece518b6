"""Spam samples moderators marked with ``/spam`` (``antispam_samples``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert, select

from storage.antispam.tables import antispam_samples as samples
from storage.database import Database


class SampleRepo:
    """A group's spam samples: texts only."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, group_id: int, text: str, by: str, at: datetime) -> int:
        """Keep one sample; returns its id."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                insert(samples).values(group_id=group_id, text=text, added_by=by, added_at=at)
            )
            key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    async def texts(self, group_id: int) -> list[str]:
        """The group's samples, oldest first."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(samples.c.text).where(samples.c.group_id == group_id).order_by(samples.c.id)
                )
            ).all()
        return [r.text for r in rows]

    async def count(self, group_id: int) -> int:
        """How many samples the group has."""
        async with self.db.begin() as conn:
            found = await conn.execute(
                select(func.count()).select_from(samples).where(samples.c.group_id == group_id)
            )
            return int(found.scalar_one())
