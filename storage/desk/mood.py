"""The group's mood (``desk_mood_hourly``) and its negative messages (``desk_mood_negative``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, insert, select

from storage.database import Database
from storage.desk.tables import desk_mood_hourly as hourly
from storage.desk.tables import desk_mood_negative as negative
from storage.sql import dialect_insert, increment


@dataclass(frozen=True, slots=True)
class MoodHour:
    """What one flush adds to one local hour of a group."""

    group_id: int
    day: date
    hour: int
    messages: int
    score_sum: float
    negative: int


@dataclass(frozen=True, slots=True)
class NegativeMessage:
    """A negative message to keep for the negative topics."""

    group_id: int
    member_id: int | None
    at: datetime
    score: float
    text: str


@dataclass(frozen=True, slots=True)
class MoodDayRow:
    """One local day of a group's mood."""

    day: date
    messages: int
    score_sum: float
    negative: int


class MoodRepo:
    """Hourly mood sums and the negative messages of the retention window."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, hours: Sequence[MoodHour], messages: Sequence[NegativeMessage]) -> None:
        """Add one flush's sums and negative messages, in one transaction."""
        async with self.db.begin() as conn:
            if hours:
                stmt = dialect_insert(conn, hourly)
                stmt = stmt.on_conflict_do_update(
                    index_elements=["group_id", "day", "hour"],
                    set_={c: increment(hourly, stmt, c) for c in ("messages", "score_sum", "negative")},
                )
                await conn.execute(
                    stmt,
                    [
                        {
                            "group_id": h.group_id,
                            "day": h.day,
                            "hour": h.hour,
                            "messages": h.messages,
                            "score_sum": h.score_sum,
                            "negative": h.negative,
                        }
                        for h in hours
                    ],
                )
            if messages:
                await conn.execute(
                    insert(negative),
                    [
                        {
                            "group_id": m.group_id,
                            "member_id": m.member_id,
                            "at": m.at,
                            "score": m.score,
                            "text": m.text,
                        }
                        for m in messages
                    ],
                )

    async def days(self, group_id: int, first: date, last: date) -> list[MoodDayRow]:
        """The group's days from ``first`` to ``last`` (inclusive) that have scored messages."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(
                        hourly.c.day,
                        func.sum(hourly.c.messages),
                        func.sum(hourly.c.score_sum),
                        func.sum(hourly.c.negative),
                    )
                    .where(hourly.c.group_id == group_id, hourly.c.day >= first, hourly.c.day <= last)
                    .group_by(hourly.c.day)
                    .order_by(hourly.c.day)
                )
            ).all()
        return [MoodDayRow(r[0], int(r[1]), float(r[2]), int(r[3])) for r in rows]

    async def hours(self, group_id: int, day: date) -> list[MoodHour]:
        """The group's hours of one local day that have scored messages."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(hourly)
                    .where(hourly.c.group_id == group_id, hourly.c.day == day)
                    .order_by(hourly.c.hour)
                )
            ).all()
        return [MoodHour(r.group_id, r.day, r.hour, r.messages, r.score_sum, r.negative) for r in rows]

    async def negative_texts(self, group_id: int, since: datetime, until: datetime, limit: int) -> list[str]:
        """The group's negative messages in ``[since, until)``, newest first."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(negative.c.text)
                    .where(negative.c.group_id == group_id, negative.c.at >= since, negative.c.at < until)
                    .order_by(negative.c.at.desc(), negative.c.id.desc())
                    .limit(limit)
                )
            ).all()
        return [r[0] for r in rows]

    async def kept_groups(self) -> list[int]:
        """Groups that have negative messages kept."""
        async with self.db.begin() as conn:
            rows = (await conn.execute(select(negative.c.group_id).distinct())).all()
        return [int(r[0]) for r in rows]

    async def purge(self, group_id: int, before: datetime) -> int:
        """Delete the group's negative messages older than ``before``; returns how many."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                delete(negative).where(negative.c.group_id == group_id, negative.c.at < before)
            )
        return int(result.rowcount or 0)
