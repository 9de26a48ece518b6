"""Read-only views over the events feature's tables (activities, RSVPs, attendance), for other
features' statistics.

Published through the events feature's ``ActivityFacts`` port (``bot.ports``): the KOL ranking
reads attendance here instead of querying ``activity_attendance`` itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from storage.activities import activities, activity_attendance, activity_rsvps
from storage.database import Database


@dataclass(frozen=True, slots=True)
class Upcoming:
    """An open activity still to come."""

    id: int
    title: str
    description: str
    start_at: datetime


class ActivitiesViews:
    """Attendance figures, each read in its own transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def attended(self, member_ids: Sequence[int], first: date, last: date) -> dict[int, int]:
        """Activities each member attended over the days ``first``…``last``; absent: none.

        The days are a group's local days but attendance is stored in UTC, so the window runs
        from ``first`` 00:00 UTC to the end of the day after ``last`` (UTC): wide enough for
        every timezone, at the price of a few hours' slack at either end.
        """
        if not member_ids:
            return {}
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(activity_attendance.c.member_id, func.count().label("n"))
                    .where(
                        activity_attendance.c.member_id.in_(list(member_ids)),
                        activity_attendance.c.at >= datetime.combine(first, datetime.min.time(), tzinfo=UTC),
                        activity_attendance.c.at
                        < datetime.combine(last + timedelta(days=2), datetime.min.time(), tzinfo=UTC),
                    )
                    .group_by(activity_attendance.c.member_id)
                )
            ).all()
        return {r.member_id: int(r.n) for r in rows}

    async def attended_count(self, member_id: int) -> int:
        """Activities one member has attended, ever."""
        async with self.db.begin() as conn:
            value = (
                await conn.execute(select(func.count()).where(activity_attendance.c.member_id == member_id))
            ).scalar_one()
        return int(value)

    async def upcoming(self, group_id: int, since: datetime, until: datetime) -> list[Upcoming]:
        """Open activities of the group starting in ``[since, until)``, soonest first (behind the
        ``UpcomingActivities`` port)."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(
                        activities.c.id, activities.c.title, activities.c.description, activities.c.start_at
                    )
                    .where(
                        activities.c.group_id == group_id,
                        activities.c.status == "open",
                        activities.c.start_at >= since,
                        activities.c.start_at < until,
                    )
                    .order_by(activities.c.start_at, activities.c.id)
                )
            ).all()
        return [Upcoming(r.id, r.title, r.description or "", r.start_at) for r in rows]

    async def attendance(self, group_id: int, since: datetime, until: datetime) -> tuple[int, int]:
        """(going, attended) over the group's open activities that started in ``[since, until)``."""
        window = (
            select(activities.c.id)
            .where(
                activities.c.group_id == group_id,
                activities.c.status == "open",
                activities.c.start_at >= since,
                activities.c.start_at < until,
            )
            .scalar_subquery()
        )
        async with self.db.begin() as conn:
            going = (
                await conn.execute(
                    select(func.count()).where(
                        activity_rsvps.c.activity_id.in_(window), activity_rsvps.c.status == "going"
                    )
                )
            ).scalar_one()
            came = (
                await conn.execute(select(func.count()).where(activity_attendance.c.activity_id.in_(window)))
            ).scalar_one()
        return int(going), int(came)
