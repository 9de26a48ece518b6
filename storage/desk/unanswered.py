"""Members' questions nobody answered (``desk_unanswered``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, update

from storage.database import Database
from storage.desk.tables import desk_unanswered as questions


@dataclass(frozen=True, slots=True)
class QuestionRow:
    """One recorded question."""

    id: int
    channel_id: str
    message_id: str
    member_id: int | None
    text: str
    at: datetime


def _row(r: object) -> QuestionRow:
    return QuestionRow(r.id, r.channel_id, r.message_id, r.member_id, r.text, r.at)  # type: ignore[attr-defined]


class UnansweredRepo:
    """Questions waiting for an answer, and those that never got one."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self, group_id: int, channel_id: str, message_id: str, member_id: int | None, text: str, at: datetime
    ) -> int:
        """Record a question; returns its id."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                insert(questions).values(
                    group_id=group_id,
                    channel_id=channel_id,
                    message_id=message_id,
                    member_id=member_id,
                    text=text,
                    at=at,
                )
            )
            key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    async def waiting(self, group_id: int, since: datetime) -> list[QuestionRow]:
        """Questions asked since ``since`` that nobody has answered yet, oldest first."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(questions)
                    .where(
                        questions.c.group_id == group_id,
                        questions.c.at >= since,
                        questions.c.answered_at.is_(None),
                    )
                    .order_by(questions.c.at, questions.c.id)
                )
            ).all()
        return [_row(r) for r in rows]

    async def answered(self, question_id: int, at: datetime) -> None:
        """Someone answered the question."""
        async with self.db.begin() as conn:
            await conn.execute(update(questions).where(questions.c.id == question_id).values(answered_at=at))

    async def get(self, group_id: int, question_id: int) -> QuestionRow | None:
        """One question of the group, or None."""
        async with self.db.begin() as conn:
            r = (
                await conn.execute(
                    select(questions).where(questions.c.id == question_id, questions.c.group_id == group_id)
                )
            ).first()
        return None if r is None else _row(r)

    async def owner(self, question_id: int) -> int | None:
        """The group a question was asked in, or None."""
        async with self.db.begin() as conn:
            found = await conn.scalar(select(questions.c.group_id).where(questions.c.id == question_id))
        return None if found is None else int(found)

    async def purge(self, before: datetime) -> int:
        """Delete questions asked before ``before`` (every group); returns how many."""
        async with self.db.begin() as conn:
            result = await conn.execute(delete(questions).where(questions.c.at < before))
        return int(result.rowcount or 0)
