"""Read-only views over the topics feature's tables, for other features.

Published through the topics feature's ``TopicFacts`` port (``bot.ports``): the onboarding
feature's day-7 summary reads a newcomer's topic replies here, not from ``topic_replies``.
"""

from __future__ import annotations

from sqlalchemy import func, select

from storage.database import Database
from storage.topics import topic_replies


class TopicsViews:
    """Topic figures, each read in its own transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def replies_by(self, member_id: int) -> int:
        """Counted replies one member has made to topic posts, ever."""
        async with self.db.begin() as conn:
            value = (
                await conn.execute(
                    select(func.coalesce(func.sum(topic_replies.c.count), 0)).where(
                        topic_replies.c.member_id == member_id
                    )
                )
            ).scalar_one()
        return int(value)
