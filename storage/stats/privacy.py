"""A member's own data: everything the stats feature keeps about them, exported or forgotten."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from storage.schema import members
from storage.stats.base import StatsBase
from storage.stats.tables import (
    stats_feedback,
    stats_member,
    stats_member_daily,
    stats_nps_answer,
    stats_recall,
    stats_text,
    stats_top,
)


class StatsPrivacyRepo(StatsBase):
    """Export and forget one member."""

    async def export_member(self, member_id: int) -> dict[str, Any]:
        """Everything this feature keeps about one member."""
        async with self.db.begin() as conn:
            state = (
                await conn.execute(select(stats_member).where(stats_member.c.member_id == member_id))
            ).first()
            texts = (
                await conn.execute(
                    select(stats_text.c.at, stats_text.c.text)
                    .where(stats_text.c.member_id == member_id)
                    .order_by(stats_text.c.at)
                )
            ).all()
            feedback = (
                await conn.execute(
                    select(stats_feedback.c.at, stats_feedback.c.text)
                    .where(stats_feedback.c.member_id == member_id)
                    .order_by(stats_feedback.c.at)
                )
            ).all()
            answers = (
                await conn.execute(
                    select(
                        stats_nps_answer.c.poll_id, stats_nps_answer.c.score, stats_nps_answer.c.answered_at
                    )
                    .where(stats_nps_answer.c.member_id == member_id)
                    .order_by(stats_nps_answer.c.poll_id)
                )
            ).all()
            recalls = (
                await conn.execute(
                    select(stats_recall.c.named_at, stats_recall.c.returned_at)
                    .where(stats_recall.c.member_id == member_id)
                    .order_by(stats_recall.c.named_at)
                )
            ).all()
            daily = (
                await conn.execute(
                    select(stats_member_daily)
                    .where(stats_member_daily.c.member_id == member_id)
                    .order_by(stats_member_daily.c.day)
                )
            ).all()
        return {
            "last_post_at": state.last_post_at.isoformat() if state and state.last_post_at else None,
            "nudge_off": bool(state.nudge_off) if state else False,
            "retained_messages": [{"at": r.at.isoformat(), "text": r.text} for r in texts],
            "feedback": [{"at": r.at.isoformat(), "text": r.text} for r in feedback],
            "nps_answers": [
                {"poll": r.poll_id, "score": r.score, "at": r.answered_at.isoformat()} for r in answers
            ],
            "recalls": [
                {
                    "named_at": r.named_at.isoformat(),
                    "returned_at": r.returned_at.isoformat() if r.returned_at else None,
                }
                for r in recalls
            ],
            "daily": [
                {
                    "day": r.day.isoformat(),
                    "replies_received": r.replies_received,
                    "topic_replies": r.topic_replies,
                }
                for r in daily
            ],
        }

    async def delete_member(self, member_id: int) -> None:
        """Forget one member: their text, feedback, answers, recalls and counters."""
        if self._awaiting is not None:
            self._awaiting.discard(member_id)
        async with self.db.begin() as conn:
            for table in (
                stats_text,
                stats_feedback,
                stats_nps_answer,
                stats_recall,
                stats_member_daily,
                stats_member,
            ):
                await conn.execute(delete(table).where(table.c.member_id == member_id))
            # Cached rankings that named them are dropped whole; they are recomputed on demand.
            groups = select(members.c.group_id).where(members.c.id == member_id).scalar_subquery()
            await conn.execute(delete(stats_top).where(stats_top.c.group_id == groups))
