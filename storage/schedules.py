"""Scheduled posts (定时消息): what to post, where, and when; each row has one scheduler job."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Row

from storage.database import Database
from storage.rights import clear, declare
from storage.schema import metadata
from storage.types import UTCDateTime

scheduled_posts = Table(
    "scheduled_posts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    #: None when the channel is the group itself, so a platform chat-id change (Telegram group →
    #: supergroup, which moves ``groups.scope_id``) carries the posts along.
    Column("channel_id", String(128)),
    Column("thread_id", String(128)),
    #: Canonical WHEN (``daily 09:00``, ``cron 0 9 * * 1-5``…): shown in lists, compared for duplicates.
    Column("when_text", String(64), nullable=False),
    #: The trigger spec as JSON (cron fields or a UTC instant).
    Column("spec", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("urgent", Boolean, nullable=False, default=False),
    Column("paused", Boolean, nullable=False, default=False),
    Column("done", Boolean, nullable=False, default=False),
    Column("created_by", String(128)),
    Column("created_at", UTCDateTime(), nullable=False),
    #: Local wall time of the last post (``YYYY-MM-DDTHH:MM``): a DST fall-back repeats an hour, and a
    #: post already made at that wall time must not be made again.
    Column("last_local", String(16)),
    Column("posts", Integer, nullable=False, default=0),
    Index("ix_scheduled_posts_group", "group_id"),
)


@dataclass(frozen=True, slots=True)
class ScheduledPost:
    """One planned post."""

    id: int
    group_id: int
    channel_id: str | None
    thread_id: str | None
    when_text: str
    spec: dict[str, Any]
    text: str
    urgent: bool
    paused: bool
    done: bool
    last_local: str | None
    posts: int


def _post(row: Row[Any]) -> ScheduledPost:
    return ScheduledPost(
        id=row.id,
        group_id=row.group_id,
        channel_id=row.channel_id,
        thread_id=row.thread_id,
        when_text=row.when_text,
        spec=json.loads(row.spec),
        text=row.text,
        urgent=bool(row.urgent),
        paused=bool(row.paused),
        done=bool(row.done),
        last_local=row.last_local,
        posts=row.posts,
    )


class ScheduleRepo:
    """Scheduled posts of every group."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        *,
        group_id: int,
        channel_id: str | None,
        thread_id: str | None,
        when_text: str,
        spec: dict[str, Any],
        text: str,
        urgent: bool,
        created_by: str | None,
        now: datetime,
    ) -> ScheduledPost | None:
        """Add a post; None when the group already has a live one with the same WHEN and text."""
        async with self.db.begin() as conn:
            dup = (
                await conn.execute(
                    select(scheduled_posts.c.id).where(
                        scheduled_posts.c.group_id == group_id,
                        scheduled_posts.c.when_text == when_text,
                        scheduled_posts.c.text == text,
                        scheduled_posts.c.done.is_(False),
                    )
                )
            ).first()
            if dup is not None:
                return None
            result = await conn.execute(
                insert(scheduled_posts).values(
                    group_id=group_id,
                    channel_id=channel_id,
                    thread_id=thread_id,
                    when_text=when_text,
                    spec=json.dumps(spec, ensure_ascii=False, sort_keys=True),
                    text=text,
                    urgent=urgent,
                    paused=False,
                    done=False,
                    created_by=created_by,
                    created_at=now,
                    posts=0,
                )
            )
            pid = result.inserted_primary_key[0] if result.inserted_primary_key else None
            row = (await conn.execute(select(scheduled_posts).where(scheduled_posts.c.id == pid))).one()
        return _post(row)

    async def add_many(self, rows: list[dict[str, Any]]) -> list[int]:
        """Bulk insert (the benchmark's seeding); returns the new ids in order."""
        async with self.db.begin() as conn:
            before = (
                await conn.execute(select(func.coalesce(func.max(scheduled_posts.c.id), 0)))
            ).scalar_one()
            await conn.execute(insert(scheduled_posts), rows)
        return list(range(int(before) + 1, int(before) + 1 + len(rows)))

    async def get(self, post_id: int) -> ScheduledPost | None:
        """One post by id."""
        async with self.db.begin() as conn:
            row = (await conn.execute(select(scheduled_posts).where(scheduled_posts.c.id == post_id))).first()
        return _post(row) if row else None

    async def for_group(self, group_id: int, include_done: bool = False) -> list[ScheduledPost]:
        """A group's posts by id."""
        query = select(scheduled_posts).where(scheduled_posts.c.group_id == group_id)
        if not include_done:
            query = query.where(scheduled_posts.c.done.is_(False))
        async with self.db.begin() as conn:
            rows = (await conn.execute(query.order_by(scheduled_posts.c.id))).all()
        return [_post(r) for r in rows]

    async def delete(self, group_id: int, post_id: int) -> bool:
        """Remove a post; False when the group has no such post."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                delete(scheduled_posts).where(
                    scheduled_posts.c.group_id == group_id, scheduled_posts.c.id == post_id
                )
            )
        return bool(result.rowcount)

    async def set_paused(self, group_id: int, post_id: int, paused: bool) -> bool:
        """Pause or resume; False when the group has no such live post."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                update(scheduled_posts)
                .where(
                    scheduled_posts.c.group_id == group_id,
                    scheduled_posts.c.id == post_id,
                    scheduled_posts.c.done.is_(False),
                )
                .values(paused=paused)
            )
        return bool(result.rowcount)

    async def edit(
        self, group_id: int, post_id: int, *, when_text: str, spec: dict[str, Any], text: str
    ) -> bool:
        """Change a live post's WHEN and text (the dashboard's edit); False when the group has
        no such live post. ``last_local`` is kept: a wall time already posted stays posted."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                update(scheduled_posts)
                .where(
                    scheduled_posts.c.group_id == group_id,
                    scheduled_posts.c.id == post_id,
                    scheduled_posts.c.done.is_(False),
                )
                .values(
                    when_text=when_text, spec=json.dumps(spec, ensure_ascii=False, sort_keys=True), text=text
                )
            )
        return bool(result.rowcount)

    async def mark_posted(self, post_id: int, local_key: str, done: bool) -> bool:
        """Record a post at local wall time ``local_key``; False when that wall time was already posted.

        The compare on ``last_local`` is the guard against a DST fall-back firing the same local time
        twice; ``done`` closes a one-off post.
        """
        async with self.db.begin() as conn:
            result = await conn.execute(
                update(scheduled_posts)
                .where(
                    scheduled_posts.c.id == post_id,
                    (scheduled_posts.c.last_local.is_(None)) | (scheduled_posts.c.last_local < local_key),
                )
                .values(last_local=local_key, posts=scheduled_posts.c.posts + 1, done=done)
            )
        return bool(result.rowcount)

    async def count(self) -> int:
        """Every post row (the benchmark's check)."""
        async with self.db.begin() as conn:
            return int((await conn.execute(select(func.count()).select_from(scheduled_posts))).scalar_one())


async def seed_bench(db: Database, posts: list[dict[str, Any]], jobs: list[dict[str, Any]]) -> None:
    """Bulk-insert post rows and their scheduler job rows in one transaction (benchmark seeding only:
    the feature itself always goes through ``ScheduleRepo`` and the scheduler)."""
    from storage.schema import scheduled_jobs

    async with db.begin() as conn:
        for start in range(0, len(posts), 10_000):
            await conn.execute(insert(scheduled_posts), posts[start : start + 10_000])
        for start in range(0, len(jobs), 10_000):
            await conn.execute(insert(scheduled_jobs), jobs[start : start + 10_000])


# -- data rights (storage/rights.py; docs/privacy.md) ------------------------------------------

declare(
    scheduled_posts,
    clear("created_by", holds="user"),
    why="a planned post belongs to the group and keeps going out; who planned it is forgotten",
)
