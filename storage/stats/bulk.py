"""Fast inserts of synthetic history, for the benchmark and the demo."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import bindparam, select

from storage.database import Database
from storage.schema import activity_daily, members
from storage.stats.tables import stats_hourly, stats_member, stats_text
from storage.stats.values import CheckinCounter


class BulkLoader:
    """Fast inserts of synthetic history: the benchmark (``python -m bot bench stats``) and the demo."""

    def __init__(self, db: Database, checkins: CheckinCounter | None = None) -> None:
        self.db = db
        #: Where the day rollups get check-in counts; None when no check-in feature is installed
        #: (the rollups then record none, and ``/stats`` shows no check-in rate).
        self._checkins = checkins

    async def members(self, group_id: int, user_ids: Sequence[str], seen: datetime) -> list[int]:
        """Insert members; returns their ids in order."""
        async with self.db.begin() as conn:
            await conn.execute(
                members.insert(),
                [
                    {
                        "group_id": group_id,
                        "user_id": uid,
                        "display_name": f"member {uid}",
                        "username": None,
                        "is_bot": False,
                        "first_seen": seen,
                        "last_seen": seen,
                        "joined_at": None,
                        "left_at": None,
                        "forgotten": False,
                    }
                    for uid in user_ids
                ],
            )
            rows = (
                await conn.execute(
                    select(members.c.id).where(
                        members.c.group_id == group_id, members.c.user_id.in_(list(user_ids))
                    )
                )
            ).all()
        return sorted(int(r.id) for r in rows)

    async def day(
        self, group_id: int, day: date, activity: Sequence[tuple[int, int, int]], hourly: Sequence[int]
    ) -> None:
        """One day: (member, messages, replies) rows and 24 hourly message counts."""
        async with self.db.begin() as conn:
            if activity:
                await conn.execute(
                    activity_daily.insert(),
                    [
                        {
                            "group_id": group_id,
                            "member_id": m,
                            "day": day,
                            "messages": n,
                            "replies": r,
                            "commands": 0,
                        }
                        for m, n, r in activity
                    ],
                )
            await conn.execute(
                stats_hourly.insert(),
                [{"group_id": group_id, "day": day, "hour": h, "messages": n} for h, n in enumerate(hourly)],
            )

    async def last_posts(self, group_id: int, posts: Sequence[tuple[int, datetime]]) -> None:
        """Lifecycle state: each member's last post."""
        if not posts:
            return
        async with self.db.begin() as conn:
            await conn.execute(
                stats_member.insert(),
                [
                    {"member_id": m, "group_id": group_id, "last_post_at": at, "nudge_off": False}
                    for m, at in posts
                ],
            )

    async def member_ids(self, group_id: int) -> list[int]:
        """The group's member ids, in order."""
        async with self.db.begin() as conn:
            rows = (await conn.execute(select(members.c.id).where(members.c.group_id == group_id))).all()
        return sorted(int(r.id) for r in rows)

    async def join_times(self, posts: Sequence[tuple[int, datetime]]) -> None:
        """Members' join instants: (member, joined at)."""
        if not posts:
            return
        async with self.db.begin() as conn:
            await conn.execute(
                members.update().where(members.c.id == bindparam("m")).values(joined_at=bindparam("at")),
                [{"m": m, "at": at} for m, at in posts],
            )

    async def texts(self, group_id: int, rows: Sequence[tuple[int, datetime, str]]) -> None:
        """Retained message text: (member, at, text)."""
        if not rows:
            return
        async with self.db.begin() as conn:
            await conn.execute(
                stats_text.insert(),
                [{"group_id": group_id, "member_id": m, "at": at, "text": t} for m, at, t in rows],
            )
