"""Member feedback, NPS polls and their answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from storage.schema import members
from storage.sql import upsert
from storage.stats.base import StatsBase
from storage.stats.tables import stats_feedback, stats_nps_answer, stats_nps_poll
from storage.stats.values import Feedback, NpsPoll


class FeedbackRepo(StatsBase):
    """Feedback, and NPS polls with one current answer per member."""

    async def add_feedback(self, group_id: int, member_id: int | None, at: datetime, text: str) -> int:
        """Store feedback; returns its id."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                stats_feedback.insert().values(group_id=group_id, member_id=member_id, at=at, text=text)
            )
            return int(result.inserted_primary_key[0])  # type: ignore[index]

    async def feedback(self, group_id: int, since: datetime, limit: int = 200) -> list[Feedback]:
        """Feedback since ``since``, newest first."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(stats_feedback, members.c.display_name)
                    .select_from(
                        stats_feedback.outerjoin(members, members.c.id == stats_feedback.c.member_id)
                    )
                    .where(stats_feedback.c.group_id == group_id, stats_feedback.c.at >= since)
                    .order_by(stats_feedback.c.at.desc(), stats_feedback.c.id.desc())
                    .limit(limit)
                )
            ).all()
        return [Feedback(r.id, r.member_id, r.display_name, r.at, r.text) for r in rows]

    # -- NPS ----------------------------------------------------------------------------------
    async def open_poll(self, group_id: int) -> NpsPoll | None:
        """The group's open NPS poll, if any."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(stats_nps_poll)
                    .where(stats_nps_poll.c.group_id == group_id, stats_nps_poll.c.closed_at.is_(None))
                    .order_by(stats_nps_poll.c.id.desc())
                )
            ).first()
        return _poll(row) if row else None

    async def latest_poll(self, group_id: int) -> NpsPoll | None:
        """The group's newest NPS poll, open or closed."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(stats_nps_poll)
                    .where(stats_nps_poll.c.group_id == group_id)
                    .order_by(stats_nps_poll.c.id.desc())
                )
            ).first()
        return _poll(row) if row else None

    async def get_poll(self, poll_id: int) -> NpsPoll | None:
        """One poll by id."""
        async with self.db.begin() as conn:
            row = (await conn.execute(select(stats_nps_poll).where(stats_nps_poll.c.id == poll_id))).first()
        return _poll(row) if row else None

    async def start_poll(self, group_id: int, question: str | None, by: int | None, at: datetime) -> NpsPoll:
        """Close any open poll of the group and open a new one."""
        async with self.db.begin() as conn:
            await conn.execute(
                update(stats_nps_poll)
                .where(stats_nps_poll.c.group_id == group_id, stats_nps_poll.c.closed_at.is_(None))
                .values(closed_at=at)
            )
            result = await conn.execute(
                stats_nps_poll.insert().values(
                    group_id=group_id, question=question, started_by=by, started_at=at
                )
            )
            poll_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        return NpsPoll(poll_id, group_id, question, at, None)

    async def close_poll(self, poll_id: int, at: datetime) -> None:
        """Close a poll."""
        async with self.db.begin() as conn:
            await conn.execute(
                update(stats_nps_poll).where(stats_nps_poll.c.id == poll_id).values(closed_at=at)
            )

    async def answer(self, poll_id: int, member_id: int, score: int, at: datetime) -> bool:
        """Record (or change) a member's answer; True when it replaced an earlier one."""
        async with self.db.begin() as conn:
            before = (
                await conn.execute(
                    select(stats_nps_answer.c.score).where(
                        stats_nps_answer.c.poll_id == poll_id, stats_nps_answer.c.member_id == member_id
                    )
                )
            ).first()
            await upsert(
                conn,
                stats_nps_answer,
                {"poll_id": poll_id, "member_id": member_id, "score": score, "answered_at": at},
                keys=("poll_id", "member_id"),
                update=("score", "answered_at"),
            )
        return before is not None

    async def scores(self, poll_id: int) -> list[int]:
        """Every member's current answer to a poll."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(stats_nps_answer.c.score).where(stats_nps_answer.c.poll_id == poll_id)
                )
            ).all()
        return [int(r.score) for r in rows]


def _poll(row: Any) -> NpsPoll:
    return NpsPoll(row.id, row.group_id, row.question, row.started_at, row.closed_at)
