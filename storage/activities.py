"""Activities (活动): sign-ups with a waitlist, attendance and ratings.

Named ``activities`` in SQL so the tables never read like the inbound platform events.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
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
from sqlalchemy.engine import Connection, Row
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.core import member_from_row
from storage.database import Database
from storage.jobs import JOB_UPDATE, job_row
from storage.models import Member
from storage.rights import clear, declare, erase
from storage.schema import members, metadata, scheduled_jobs
from storage.sql import upsert
from storage.types import UTCDateTime

activities = Table(
    "activities",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    #: None when the channel is the group itself, so a platform chat-id change (Telegram group →
    #: supergroup, which moves ``groups.scope_id``) carries the posts along.
    Column("channel_id", String(128)),
    Column("thread_id", String(128)),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("start_at", UTCDateTime(), nullable=False),
    Column("duration_s", Integer, nullable=False),
    Column("capacity", Integer),  # None: no limit
    Column("status", String(16), nullable=False),  # open | cancelled
    Column("created_by", Integer, ForeignKey("members.id", ondelete="SET NULL")),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("message_id", String(128)),
    Column("feedback_message_id", String(128)),
    #: ``event`` (a planned activity with a timeline) or ``signup`` (a 接龙 list: places up to
    #: ``capacity``, a waiting list, and ``closes_at`` instead of a timeline; issue 23).
    Column("kind", String(16), nullable=False, server_default="event"),
    #: A sign-up list's deadline (None: open until closed by hand).
    Column("closes_at", UTCDateTime()),
    #: When a sign-up list was closed (its final post is announced once, by whoever closed it).
    Column("closed_at", UTCDateTime()),
    Index("ix_activities_group_start", "group_id", "start_at"),
)

#: One row per member and activity: ``going`` holds a place, ``waiting`` is on the waitlist, ordered
#: by ``seq`` (first come, first promoted).
activity_rsvps = Table(
    "activity_rsvps",
    metadata,
    Column("activity_id", Integer, ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    #: A sign-up list's note (``+1 带球拍``); None for a plain join.
    Column("note", String(100)),
    #: Places and the waiting list in order, and their counts, without reading every row (a
    #: sign-up list may have thousands).
    Index("ix_activity_rsvps_status", "activity_id", "status", "seq"),
)

activity_attendance = Table(
    "activity_attendance",
    metadata,
    Column("activity_id", Integer, ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("at", UTCDateTime(), nullable=False),
)

activity_ratings = Table(
    "activity_ratings",
    metadata,
    Column("activity_id", Integer, ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("rating", Integer, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
)


@dataclass(frozen=True, slots=True)
class PlannedJob:
    """A scheduler job row to write together with the activity it belongs to."""

    id: str
    kind: str
    trigger: dict[str, Any]
    payload: dict[str, Any]
    next_run_at: datetime


@dataclass(frozen=True, slots=True)
class Activity:
    """One planned activity."""

    id: int
    group_id: int
    channel_id: str | None
    thread_id: str | None
    title: str
    description: str
    start_at: datetime
    duration_s: int
    capacity: int | None
    status: str
    created_by: int | None
    message_id: str | None
    feedback_message_id: str | None
    kind: str = "event"
    closes_at: datetime | None = None
    closed_at: datetime | None = None

    @property
    def end_at(self) -> datetime:
        """When the activity is over."""
        from datetime import timedelta

        return self.start_at + timedelta(seconds=self.duration_s)


@dataclass(frozen=True, slots=True)
class Rsvp:
    """A member's place (or waitlist spot) in an activity."""

    member: Member
    status: str
    seq: int
    note: str | None = None


@dataclass(frozen=True, slots=True)
class JoinResult:
    """What ``join`` did: ``going``, ``waiting``, ``already_going``, ``already_waiting`` or ``closed``."""

    outcome: str
    position: int = 0


@dataclass(frozen=True, slots=True)
class LeaveResult:
    """What ``leave`` did, and who was promoted from the waitlist into the freed place."""

    outcome: str  # left | left_waitlist | not_joined | closed
    promoted: Member | None = None


def _activity(row: Row[Any]) -> Activity:
    return Activity(
        id=row.id,
        group_id=row.group_id,
        channel_id=row.channel_id,
        thread_id=row.thread_id,
        title=row.title,
        description=row.description,
        start_at=row.start_at,
        duration_s=row.duration_s,
        capacity=row.capacity,
        status=row.status,
        created_by=row.created_by,
        message_id=row.message_id,
        feedback_message_id=row.feedback_message_id,
        kind=row.kind,
        closes_at=row.closes_at,
        closed_at=row.closed_at,
    )


class ActivitiesRepo:
    """Activities, sign-ups, attendance and ratings.

    "Activity" in code means an organised event; the core's daily message counters are
    ``storage.core.MessageCountRepo`` (the ``activity`` feature, named before the events were).
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        *,
        group_id: int,
        channel_id: str | None,
        thread_id: str | None,
        title: str,
        description: str,
        start_at: datetime,
        duration_s: int,
        capacity: int | None,
        created_by: int | None,
        now: datetime,
        jobs: Callable[[int], Sequence[PlannedJob]] | None = None,
        kind: str = "event",
        closes_at: datetime | None = None,
    ) -> Activity:
        """Create an activity and, in the same transaction, the job rows ``jobs(activity_id)``
        gives (its timeline): if they cannot be written, neither is the activity."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                insert(activities).values(
                    group_id=group_id,
                    channel_id=channel_id,
                    thread_id=thread_id,
                    title=title,
                    description=description,
                    start_at=start_at,
                    duration_s=duration_s,
                    capacity=capacity,
                    status="open",
                    created_by=created_by,
                    created_at=now,
                    kind=kind,
                    closes_at=closes_at,
                )
            )
            aid = result.inserted_primary_key[0] if result.inserted_primary_key else None
            row = (await conn.execute(select(activities).where(activities.c.id == aid))).one()
            planned = list(jobs(int(row.id))) if jobs is not None else []
            if planned:
                # The same row ``Scheduler.schedule`` writes (``JobRepo.put``); the scheduler then
                # indexes it. Written here so the activity and its reminders commit together.
                rows = [
                    job_row(job.id, job.kind, group_id, job.trigger, job.payload, job.next_run_at, now)
                    for job in planned
                ]
                await upsert(conn, scheduled_jobs, rows, keys=("id",), update=JOB_UPDATE)
        return _activity(row)

    async def get(self, group_id: int, activity_id: int) -> Activity | None:
        """An activity of a group."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(activities).where(
                        activities.c.group_id == group_id, activities.c.id == activity_id
                    )
                )
            ).first()
        return _activity(row) if row else None

    async def by_id(self, activity_id: int) -> Activity | None:
        """An activity by id alone (for scheduler jobs, which carry the id)."""
        async with self.db.begin() as conn:
            row = (await conn.execute(select(activities).where(activities.c.id == activity_id))).first()
        return _activity(row) if row else None

    async def upcoming(self, group_id: int, now: datetime, limit: int = 20) -> list[Activity]:
        """Open activities not yet over, soonest first."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(activities)
                    .where(
                        activities.c.group_id == group_id,
                        activities.c.status == "open",
                        activities.c.kind == "event",  # sign-up lists have no start: /signup lists them
                    )
                    .order_by(activities.c.start_at, activities.c.id)
                )
            ).all()
        found = [_activity(r) for r in rows]
        return [a for a in found if a.end_at > now][:limit]

    async def set_message(self, activity_id: int, message_id: str, feedback: bool = False) -> None:
        """Remember the announcement (or feedback) message id."""
        column = "feedback_message_id" if feedback else "message_id"
        async with self.db.begin() as conn:
            await conn.execute(
                update(activities).where(activities.c.id == activity_id).values({column: message_id})
            )

    async def cancel(self, group_id: int, activity_id: int) -> bool:
        """Cancel an open activity; False when it is unknown or already cancelled."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                update(activities)
                .where(
                    activities.c.group_id == group_id,
                    activities.c.id == activity_id,
                    activities.c.status == "open",
                )
                .values(status="cancelled")
            )
        return bool(result.rowcount)

    async def _lock(self, conn: AsyncConnection, activity_id: int) -> Row[Any] | None:
        # FOR UPDATE serialises joins on PostgreSQL; SQLite's BEGIN IMMEDIATE already does.
        return (
            await conn.execute(select(activities).where(activities.c.id == activity_id).with_for_update())
        ).first()

    async def join(
        self, activity_id: int, member_id: int, now: datetime, note: str | None = None
    ) -> JoinResult:
        """Take a place, or a waitlist spot when the activity is full.

        ``note`` (a sign-up list's ``+1 带球拍``) is kept with the place; a second join with a new
        note replaces the note and keeps the place (outcome ``already_*``). One ``transact`` (a
        sign-up list's presses are a hot path: on a SQLite file no thread round trip per
        statement); on PostgreSQL the row lock serialises joins and a conflict re-runs it."""
        return await self.db.transact(_join, activity_id, member_id, now, note)

    async def leave(self, activity_id: int, member_id: int) -> LeaveResult:
        """Give up a place (promoting the first on the waitlist) or a waitlist spot."""
        async with self.db.begin() as conn:
            act = await self._lock(conn, activity_id)
            if act is None or act.status != "open":
                return LeaveResult("closed")
            mine = (
                await conn.execute(
                    select(activity_rsvps).where(
                        activity_rsvps.c.activity_id == activity_id, activity_rsvps.c.member_id == member_id
                    )
                )
            ).first()
            if mine is None:
                return LeaveResult("not_joined")
            await conn.execute(
                delete(activity_rsvps).where(
                    activity_rsvps.c.activity_id == activity_id, activity_rsvps.c.member_id == member_id
                )
            )
            if mine.status != "going":
                return LeaveResult("left_waitlist")
            nxt = (
                await conn.execute(
                    select(activity_rsvps.c.member_id)
                    .where(activity_rsvps.c.activity_id == activity_id, activity_rsvps.c.status == "waiting")
                    .order_by(activity_rsvps.c.seq)
                    .limit(1)
                )
            ).first()
            if nxt is None:
                return LeaveResult("left")
            await conn.execute(
                update(activity_rsvps)
                .where(
                    activity_rsvps.c.activity_id == activity_id, activity_rsvps.c.member_id == nxt.member_id
                )
                .values(status="going")
            )
            promoted = (await conn.execute(select(members).where(members.c.id == nxt.member_id))).one()
        return LeaveResult("left", member_from_row(promoted))

    async def rsvps(self, activity_id: int) -> list[Rsvp]:
        """Everyone in (going first, then the waitlist), in sign-up order."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(members, activity_rsvps.c.status, activity_rsvps.c.seq, activity_rsvps.c.note)
                    .join(activity_rsvps, activity_rsvps.c.member_id == members.c.id)
                    .where(activity_rsvps.c.activity_id == activity_id)
                    .order_by(activity_rsvps.c.status, activity_rsvps.c.seq)
                )
            ).all()
        return [Rsvp(member_from_row(r), r.status, r.seq, r.note) for r in rows]

    async def attend(self, activity_id: int, member_id: int, now: datetime) -> bool:
        """Record attendance once; False when already recorded.

        One ``transact``: two ``/here`` of one member racing on PostgreSQL both read "not yet",
        the loser's insert meets the key, and the re-run reads the winner's row (False)."""
        return await self.db.transact(_attend, activity_id, member_id, now)

    async def attended_count(self, member_id: int) -> int:
        """Activities a member attended (the ``events_attended`` badge rule)."""
        async with self.db.begin() as conn:
            value = (
                await conn.execute(select(func.count()).where(activity_attendance.c.member_id == member_id))
            ).scalar_one()
        return int(value)

    async def took_part(self, activity_id: int, member_id: int) -> bool:
        """True when the member signed up (place or waitlist) or was recorded attending."""
        async with self.db.begin() as conn:
            for table in (activity_rsvps, activity_attendance):
                found = (
                    await conn.execute(
                        select(table.c.member_id).where(
                            table.c.activity_id == activity_id, table.c.member_id == member_id
                        )
                    )
                ).first()
                if found is not None:
                    return True
        return False

    async def rate(self, activity_id: int, member_id: int, rating: int, now: datetime) -> bool:
        """Record or change a member's rating; True when it is their first."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                update(activity_ratings)
                .where(
                    activity_ratings.c.activity_id == activity_id, activity_ratings.c.member_id == member_id
                )
                .values(rating=rating, at=now)
            )
            if result.rowcount:
                return False
            await conn.execute(
                insert(activity_ratings).values(
                    activity_id=activity_id, member_id=member_id, rating=rating, at=now
                )
            )
        return True

    async def rating_summary(self, activity_id: int) -> tuple[int, float | None]:
        """How many ratings and their average."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(func.count(), func.avg(activity_ratings.c.rating)).where(
                        activity_ratings.c.activity_id == activity_id
                    )
                )
            ).one()
        count = int(row[0])
        return count, (float(row[1]) if count else None)


# -- data rights (storage/rights.py; docs/privacy.md) ------------------------------------------

declare(activities, clear("created_by"), why="an event stays with the group, without who created it")
declare(activity_rsvps, erase("member_id"), why="the member's sign-ups")
declare(activity_attendance, erase("member_id"), why="the member's attendance")
declare(activity_ratings, erase("member_id"), why="the member's ratings")


def _attend(conn: Connection, activity_id: int, member_id: int, now: datetime) -> bool:
    exists = conn.execute(
        select(activity_attendance.c.member_id).where(
            activity_attendance.c.activity_id == activity_id,
            activity_attendance.c.member_id == member_id,
        )
    ).first()
    if exists is not None:
        return False
    conn.execute(insert(activity_attendance).values(activity_id=activity_id, member_id=member_id, at=now))
    return True


def _join(conn: Connection, activity_id: int, member_id: int, now: datetime, note: str | None) -> JoinResult:
    # FOR UPDATE serialises joins on PostgreSQL; SQLite's BEGIN IMMEDIATE already does.
    act = conn.execute(select(activities).where(activities.c.id == activity_id).with_for_update()).first()
    if act is None or act.status != "open":
        return JoinResult("closed")
    mine_where = (activity_rsvps.c.activity_id == activity_id, activity_rsvps.c.member_id == member_id)
    mine = conn.execute(select(activity_rsvps).where(*mine_where)).first()
    if mine is not None:
        if note and note != mine.note:
            conn.execute(update(activity_rsvps).where(*mine_where).values(note=note))
        if mine.status == "going":
            return JoinResult("already_going")
        ahead = conn.execute(
            select(func.count()).where(
                activity_rsvps.c.activity_id == activity_id,
                activity_rsvps.c.status == "waiting",
                activity_rsvps.c.seq <= mine.seq,
            )
        ).scalar_one()
        return JoinResult("already_waiting", int(ahead))
    # One read for all three (a long list is read once per press, not three times).
    counts = conn.execute(
        select(
            func.count().filter(activity_rsvps.c.status == "going"),
            func.count().filter(activity_rsvps.c.status == "waiting"),
            func.coalesce(func.max(activity_rsvps.c.seq), 0),
        ).where(activity_rsvps.c.activity_id == activity_id)
    ).one()
    going, waiting, seq = int(counts[0]), int(counts[1]), int(counts[2]) + 1
    status = "going" if act.capacity is None or going < act.capacity else "waiting"
    conn.execute(
        insert(activity_rsvps).values(
            activity_id=activity_id,
            member_id=member_id,
            status=status,
            seq=seq,
            created_at=now,
            note=note or None,
        )
    )
    # The newest sign-up has the highest ``seq``: last on the waiting list.
    return JoinResult(status, 0 if status == "going" else waiting + 1)
