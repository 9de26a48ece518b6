"""Read-only views over the check-in feature's tables, for other features' statistics.

The check-in feature publishes these figures through its ``CheckinFacts`` port (``bot.ports``);
statistics never read ``checkins`` or ``member_badges`` themselves, so the check-in tables can
change shape without breaking another feature, and a bot without check-ins simply has no port.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import and_, func, select

from storage.checkin.tables import checkins, member_badges
from storage.database import Database
from storage.schema import members


class CheckinViews:
    """Check-in counts, live streaks and awarded badges, each read in its own transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def checkins_per_day(self, group_id: int, first: date, last: date) -> dict[date, int]:
        """Check-ins per check-in day of ``first``…``last``; days without any are absent."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(checkins.c.day, func.count().label("n"))
                    .where(checkins.c.group_id == group_id, checkins.c.day.between(first, last))
                    .group_by(checkins.c.day)
                )
            ).all()
        return {r.day: int(r.n) for r in rows}

    async def live_streaks(self, member_ids: Sequence[int], alive_on: date) -> dict[int, int]:
        """The streak of each member's latest check-in, when that check-in is on ``alive_on`` or
        later (an older streak is broken and counts for nothing)."""
        if not member_ids:
            return {}
        ids = list(member_ids)
        latest = (
            select(checkins.c.member_id, func.max(checkins.c.day).label("d"))
            .where(checkins.c.member_id.in_(ids))
            .group_by(checkins.c.member_id)
            .subquery()
        )
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(checkins.c.member_id, checkins.c.streak, checkins.c.day).join(
                        latest,
                        and_(latest.c.member_id == checkins.c.member_id, latest.c.d == checkins.c.day),
                    )
                )
            ).all()
        return {r.member_id: int(r.streak) for r in rows if r.day >= alive_on}

    async def checkin_days(self, member_id: int, first: date, last: date) -> int:
        """On how many check-in days of ``first``…``last`` one member checked in."""
        async with self.db.begin() as conn:
            value = (
                await conn.execute(
                    select(func.count()).where(
                        checkins.c.member_id == member_id, checkins.c.day.between(first, last)
                    )
                )
            ).scalar_one()
        return int(value)

    async def badges_awarded(self, group_id: int, since: datetime, until: datetime) -> list[tuple[str, str]]:
        """(member name, badge key) of the badges awarded in ``[since, until)``, oldest first."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(members.c.display_name, member_badges.c.badge_key)
                    .join(members, members.c.id == member_badges.c.member_id)
                    .where(
                        member_badges.c.group_id == group_id,
                        member_badges.c.awarded_at >= since,
                        member_badges.c.awarded_at < until,
                    )
                    .order_by(member_badges.c.awarded_at)
                )
            ).all()
        return [(r.display_name, r.badge_key) for r in rows]
