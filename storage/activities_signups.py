"""Sign-up lists (接龙, issue 23): activities of kind ``signup``, over the activities tables.

A sign-up list is an activity with a limit: places and the waiting list are the activity's RSVPs
(``ActivitiesRepo.join`` / ``leave``, which promote the first waiting member), and this module
adds what only a list needs: finding it by its post, closing it once at its deadline, listing
the open ones for the scheduler and the post book after a restart.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from storage.activities import Activity, _activity, activities
from storage.database import Database

SIGNUP = "signup"


class SignupsRepo:
    """Reads and the one compare-and-set (``close``) of sign-up lists."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def by_message(self, group_id: int, message_id: str) -> Activity | None:
        """The sign-up list whose post is ``message_id`` in the group (a ``+1`` reply's target)."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(activities).where(
                        activities.c.group_id == group_id,
                        activities.c.message_id == message_id,
                        activities.c.kind == SIGNUP,
                    )
                )
            ).first()
        return _activity(row) if row else None

    async def close(self, activity_id: int, now: datetime) -> bool:
        """Close an open list; False when it was closed (or cancelled) already: whoever gets here
        first (the deadline job, ``/signup close``, a re-run after a crash) posts the final list."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                update(activities)
                .where(
                    activities.c.id == activity_id,
                    activities.c.kind == SIGNUP,
                    activities.c.status == "open",
                )
                .values(status="closed", closed_at=now)
            )
        return bool(result.rowcount)

    async def open_lists(self) -> list[Activity]:
        """Every open sign-up list of every group (at start: posts to refresh, missed deadlines)."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(activities)
                    .where(activities.c.kind == SIGNUP, activities.c.status == "open")
                    .order_by(activities.c.id)
                )
            ).all()
        return [_activity(r) for r in rows]

    async def recent(self, group_id: int, limit: int = 10) -> list[Activity]:
        """A group's sign-up lists, newest first."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(activities)
                    .where(activities.c.group_id == group_id, activities.c.kind == SIGNUP)
                    .order_by(activities.c.id.desc())
                    .limit(limit)
                )
            ).all()
        return [_activity(r) for r in rows]
