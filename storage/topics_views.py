"""Read-only views over the topics feature's tables, for other features.

Published through the topics feature's ``TopicFacts`` port (``bot.ports``): the onboarding
feature's day-7 summary reads a newcomer's topic replies here, not from ``topic_replies``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from storage.database import Database
from storage.topics import topic_posts, topic_replies


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

    async def participants(self, group_id: int, since: datetime, until: datetime) -> int:
        """Distinct members who replied to the group's topic posts made in ``[since, until)``."""
        async with self.db.begin() as conn:
            value = (
                await conn.execute(
                    select(func.count(func.distinct(topic_replies.c.member_id)))
                    .select_from(topic_replies.join(topic_posts, topic_posts.c.id == topic_replies.c.post_id))
                    .where(
                        topic_posts.c.group_id == group_id,
                        topic_posts.c.posted_at >= since,
                        topic_posts.c.posted_at < until,
                    )
                )
            ).scalar_one()
        return int(value)
