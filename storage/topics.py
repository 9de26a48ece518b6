"""Topic prompts (话题): each group's bank, the posts made from it, replies to them, suggestions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    case,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Row

from storage.database import Database
from storage.rights import clear, declare, erase
from storage.schema import metadata
from storage.sql import upsert
from storage.types import UTCDateTime

#: A group's topic bank. ``uses`` then ``last_used_at`` order the rotation: the least used, then least
#: recently used, comes next, so no topic repeats before the bank is used up (even when several are
#: taken within the same instant).
topics = Table(
    "topics",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("text", Text, nullable=False),
    Column("source", String(16), nullable=False),  # starter | custom | suggested
    Column("author_member_id", Integer, ForeignKey("members.id", ondelete="SET NULL")),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_used_at", UTCDateTime()),
    Column("uses", Integer, nullable=False, default=0),
    Index("ix_topics_group_used", "group_id", "last_used_at"),
)

#: The rotation order (next first). Within a round (same ``uses``) the group's own topics (added
#: or suggested) go before the shipped starter bank, which is the fallback once they are used up;
#: then least recently used, then oldest.
_ROTATION = (
    topics.c.uses,
    case((topics.c.source == "starter", 1), else_=0),
    topics.c.last_used_at.is_not(None),
    topics.c.last_used_at,
    topics.c.id,
)

#: Per group: whether the starter bank was copied in, and where and when the daily topic goes.
topic_state = Table(
    "topic_state",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("seeded", Boolean, nullable=False, default=False),
    Column("daily_time", String(5)),
    Column("channel_id", String(128)),
    Column("thread_id", String(128)),
)

#: A topic as posted; replies to ``message_id`` count as topic replies.
topic_posts = Table(
    "topic_posts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("topic_id", Integer, ForeignKey("topics.id", ondelete="SET NULL")),
    Column("text", Text, nullable=False),
    Column("channel_id", String(128), nullable=False),
    Column("message_id", String(128)),
    Column("posted_at", UTCDateTime(), nullable=False),
    Column("day", Date, nullable=False),
    Index("ix_topic_posts_group_msg", "group_id", "message_id"),
    Index("ix_topic_posts_group_day", "group_id", "day"),
)

#: How many of a member's replies to one topic post earned points (capped per post).
topic_replies = Table(
    "topic_replies",
    metadata,
    Column("post_id", Integer, ForeignKey("topic_posts.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("count", Integer, nullable=False, default=0),
)

topic_suggestions = Table(
    "topic_suggestions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="SET NULL")),
    Column("text", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending | approved | rejected
    Column("created_at", UTCDateTime(), nullable=False),
    Column("decided_at", UTCDateTime()),
    Column("decided_by", String(128)),
    Column("topic_id", Integer, ForeignKey("topics.id", ondelete="SET NULL")),
)


@dataclass(frozen=True, slots=True)
class Topic:
    """One topic in a group's bank."""

    id: int
    group_id: int
    text: str
    source: str
    author_member_id: int | None
    last_used_at: datetime | None
    uses: int


@dataclass(frozen=True, slots=True)
class TopicState:
    """A group's topic settings."""

    group_id: int
    seeded: bool
    daily_time: str | None
    channel_id: str | None
    thread_id: str | None


@dataclass(frozen=True, slots=True)
class TopicPost:
    """A topic as posted into a group."""

    id: int
    group_id: int
    topic_id: int | None
    text: str
    channel_id: str
    message_id: str | None
    posted_at: datetime
    day: date


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A member's topic suggestion awaiting (or past) a moderator's decision."""

    id: int
    group_id: int
    member_id: int | None
    text: str
    status: str
    topic_id: int | None


def _topic(row: Row[Any]) -> Topic:
    return Topic(row.id, row.group_id, row.text, row.source, row.author_member_id, row.last_used_at, row.uses)


def _post(row: Row[Any]) -> TopicPost:
    return TopicPost(
        row.id, row.group_id, row.topic_id, row.text, row.channel_id, row.message_id, row.posted_at, row.day
    )


def _suggestion(row: Row[Any]) -> Suggestion:
    return Suggestion(row.id, row.group_id, row.member_id, row.text, row.status, row.topic_id)


class TopicRepo:
    """Topic banks, posts, reply counts and suggestions."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- state ---------------------------------------------------------------------------
    async def state(self, group_id: int) -> TopicState:
        """The group's topic state (defaults when never set)."""
        async with self.db.begin() as conn:
            row = (await conn.execute(select(topic_state).where(topic_state.c.group_id == group_id))).first()
        if row is None:
            return TopicState(group_id, False, None, None, None)
        return TopicState(row.group_id, bool(row.seeded), row.daily_time, row.channel_id, row.thread_id)

    async def set_daily(
        self, group_id: int, daily_time: str | None, channel_id: str | None, thread_id: str | None
    ) -> None:
        """Turn the daily topic on at ``daily_time`` (``HH:MM``) in a channel, or off (None)."""
        async with self.db.begin() as conn:
            await upsert(
                conn,
                topic_state,
                {
                    "group_id": group_id,
                    "seeded": False,
                    "daily_time": daily_time,
                    "channel_id": channel_id,
                    "thread_id": thread_id,
                },
                keys=("group_id",),
                update=("daily_time", "channel_id", "thread_id"),
            )

    async def seed(self, group_id: int, texts: Sequence[str], now: datetime) -> bool:
        """Copy the starter bank into a group once; False when it was already seeded."""
        async with self.db.begin() as conn:
            row = (await conn.execute(select(topic_state).where(topic_state.c.group_id == group_id))).first()
            if row is not None and row.seeded:
                return False
            await upsert(
                conn,
                topic_state,
                {"group_id": group_id, "seeded": True},
                keys=("group_id",),
                update={"seeded": True},
            )
            if texts:
                await conn.execute(
                    insert(topics),
                    [
                        {"group_id": group_id, "text": t, "source": "starter", "created_at": now, "uses": 0}
                        for t in texts
                    ],
                )
        return True

    # -- bank ----------------------------------------------------------------------------
    async def add(
        self, group_id: int, text: str, source: str, author_member_id: int | None, now: datetime
    ) -> Topic:
        """Add a topic to the bank."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                insert(topics).values(
                    group_id=group_id,
                    text=text,
                    source=source,
                    author_member_id=author_member_id,
                    created_at=now,
                    uses=0,
                )
            )
            topic_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
            row = (await conn.execute(select(topics).where(topics.c.id == topic_id))).one()
        return _topic(row)

    async def find_text(self, group_id: int, text: str) -> Topic | None:
        """A topic with exactly this text (to refuse duplicates)."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(select(topics).where(topics.c.group_id == group_id, topics.c.text == text))
            ).first()
        return _topic(row) if row else None

    async def bank(self, group_id: int, limit: int = 50, offset: int = 0) -> list[Topic]:
        """The bank in rotation order (next first)."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(topics)
                    .where(topics.c.group_id == group_id)
                    .order_by(*_ROTATION)
                    .limit(limit)
                    .offset(offset)
                )
            ).all()
        return [_topic(r) for r in rows]

    async def count(self, group_id: int) -> int:
        """How many topics the bank holds."""
        async with self.db.begin() as conn:
            return int(
                (
                    await conn.execute(
                        select(func.count()).select_from(topics).where(topics.c.group_id == group_id)
                    )
                ).scalar_one()
            )

    async def delete(self, group_id: int, topic_id: int) -> bool:
        """Remove a topic from a group's bank; False when it is not there."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                delete(topics).where(topics.c.group_id == group_id, topics.c.id == topic_id)
            )
        return bool(result.rowcount)

    async def take_next(self, group_id: int, now: datetime) -> Topic | None:
        """Mark the next topic (own before starter, then least recently used) as used now and return it.

        None when the bank is empty.
        """
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(topics).where(topics.c.group_id == group_id).order_by(*_ROTATION).limit(1)
                )
            ).first()
            if row is None:
                return None
            await conn.execute(
                update(topics).where(topics.c.id == row.id).values(last_used_at=now, uses=topics.c.uses + 1)
            )
        return Topic(row.id, row.group_id, row.text, row.source, row.author_member_id, now, row.uses + 1)

    # -- posts ---------------------------------------------------------------------------
    async def record_post(
        self, group_id: int, topic: Topic, channel_id: str, posted_at: datetime, day: date
    ) -> TopicPost:
        """Write the post row before the message is sent (what is announced is committed first)."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                insert(topic_posts).values(
                    group_id=group_id,
                    topic_id=topic.id,
                    text=topic.text,
                    channel_id=channel_id,
                    posted_at=posted_at,
                    day=day,
                )
            )
            post_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
            row = (await conn.execute(select(topic_posts).where(topic_posts.c.id == post_id))).one()
        return _post(row)

    async def set_post_message(self, post_id: int, message_id: str) -> None:
        """Remember the platform message id so replies to it can be recognised."""
        async with self.db.begin() as conn:
            await conn.execute(
                update(topic_posts).where(topic_posts.c.id == post_id).values(message_id=message_id)
            )

    async def post_for_day(self, group_id: int, day: date) -> TopicPost | None:
        """The latest topic posted on a local day."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(topic_posts)
                    .where(topic_posts.c.group_id == group_id, topic_posts.c.day == day)
                    .order_by(topic_posts.c.id.desc())
                    .limit(1)
                )
            ).first()
        return _post(row) if row else None

    async def post_by_message(self, group_id: int, message_id: str) -> TopicPost | None:
        """The topic post with this platform message id."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(topic_posts).where(
                        topic_posts.c.group_id == group_id, topic_posts.c.message_id == message_id
                    )
                )
            ).first()
        return _post(row) if row else None

    async def post_message_ids(self, group_id: int, limit: int = 30) -> list[str]:
        """Message ids of the group's recent topic posts (the reply listener's cache)."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(topic_posts.c.message_id)
                    .where(topic_posts.c.group_id == group_id, topic_posts.c.message_id.is_not(None))
                    .order_by(topic_posts.c.id.desc())
                    .limit(limit)
                )
            ).all()
        return [r.message_id for r in rows]

    async def count_reply(self, post_id: int, member_id: int, cap: int) -> bool:
        """Count one reply toward the cap; True when it still earned (count was below ``cap``)."""
        async with self.db.begin() as conn:
            await upsert(
                conn,
                topic_replies,
                {"post_id": post_id, "member_id": member_id, "count": 0},
                keys=("post_id", "member_id"),
            )
            result = await conn.execute(
                update(topic_replies)
                .where(
                    topic_replies.c.post_id == post_id,
                    topic_replies.c.member_id == member_id,
                    topic_replies.c.count < cap,
                )
                .values(count=topic_replies.c.count + 1)
            )
        return bool(result.rowcount)

    # -- suggestions ---------------------------------------------------------------------
    async def suggest(self, group_id: int, member_id: int | None, text: str, now: datetime) -> Suggestion:
        """Record a pending suggestion."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                insert(topic_suggestions).values(
                    group_id=group_id, member_id=member_id, text=text, status="pending", created_at=now
                )
            )
            sid = result.inserted_primary_key[0] if result.inserted_primary_key else None
            row = (await conn.execute(select(topic_suggestions).where(topic_suggestions.c.id == sid))).one()
        return _suggestion(row)

    async def pending(self, group_id: int, limit: int = 100) -> list[tuple[Suggestion, datetime]]:
        """A group's suggestions awaiting a decision, oldest first, with when each was made."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(topic_suggestions)
                    .where(topic_suggestions.c.group_id == group_id, topic_suggestions.c.status == "pending")
                    .order_by(topic_suggestions.c.id)
                    .limit(limit)
                )
            ).all()
        return [(_suggestion(r), r.created_at) for r in rows]

    async def get_suggestion(self, suggestion_id: int) -> Suggestion | None:
        """One suggestion."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(select(topic_suggestions).where(topic_suggestions.c.id == suggestion_id))
            ).first()
        return _suggestion(row) if row else None

    async def decide(
        self, suggestion_id: int, approve: bool, by: str, now: datetime
    ) -> tuple[Suggestion, Topic | None] | None:
        """Approve (adding the topic) or reject a pending suggestion, once.

        None when it was already decided: two moderators pressing at once cannot add it twice.
        """
        async with self.db.begin() as conn:
            result = await conn.execute(
                update(topic_suggestions)
                .where(topic_suggestions.c.id == suggestion_id, topic_suggestions.c.status == "pending")
                .values(status="approved" if approve else "rejected", decided_at=now, decided_by=by)
            )
            if not result.rowcount:
                return None
            row = (
                await conn.execute(select(topic_suggestions).where(topic_suggestions.c.id == suggestion_id))
            ).one()
            topic: Topic | None = None
            if approve:
                ins = await conn.execute(
                    insert(topics).values(
                        group_id=row.group_id,
                        text=row.text,
                        source="suggested",
                        author_member_id=row.member_id,
                        created_at=now,
                        uses=0,
                    )
                )
                tid = ins.inserted_primary_key[0] if ins.inserted_primary_key else None
                await conn.execute(
                    update(topic_suggestions)
                    .where(topic_suggestions.c.id == suggestion_id)
                    .values(topic_id=tid)
                )
                trow = (await conn.execute(select(topics).where(topics.c.id == tid))).one()
                topic = _topic(trow)
            row = (
                await conn.execute(select(topic_suggestions).where(topic_suggestions.c.id == suggestion_id))
            ).one()
        return _suggestion(row), topic

    # -- member data ---------------------------------------------------------------------


# -- data rights (storage/rights.py; docs/privacy.md) ------------------------------------------

declare(
    topics,
    clear("author_member_id"),
    why="a topic the member wrote stays in the group's bank (the group chose it), unattributed",
)
declare(topic_replies, erase("member_id"), why="the member's reply counts")
declare(
    topic_suggestions,
    erase("member_id"),
    clear("decided_by", holds="user"),
    why="the member's suggestions go; decisions they took on others' stay, unsigned",
)
