"""Forgetting a member, for what the tables' declarations (``tables.py``) cannot do alone."""

from __future__ import annotations

from sqlalchemy import delete

from storage.stats.base import StatsBase
from storage.stats.tables import stats_top


class StatsPrivacyRepo(StatsBase):
    """The in-memory part of forgetting, and the cached rankings the member was part of."""

    async def forget_member(self, member_id: int, group_id: int) -> None:
        """Stop awaiting the member's return, and drop the group's cached rankings whole: a
        ranking with one row taken out would show a gap; they are recomputed on demand."""
        if self._awaiting is not None:
            self._awaiting.discard(member_id)
        async with self.db.begin() as conn:
            await conn.execute(delete(stats_top).where(stats_top.c.group_id == group_id))
