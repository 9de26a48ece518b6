"""Community-health tables: group daily rollups, hourly counters, lifecycle state, retained text,
recalls, feedback, NPS polls and answers, cached rankings, per-group markers.

Revision ID: stats_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "stats_0001"
down_revision = "0001"
branch_labels = ("stats",)
depends_on = None


def _group() -> sa.Column[int]:
    return sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "stats_group_daily",
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("joins", sa.Integer, nullable=False),
        sa.Column("leaves", sa.Integer, nullable=False),
        sa.Column("messages", sa.BigInteger),
        sa.Column("replies", sa.BigInteger),
        sa.Column("commands", sa.BigInteger),
        sa.Column("checkins", sa.Integer),
        sa.Column("dau", sa.Integer),
        sa.Column("wau", sa.Integer),
        sa.Column("mau", sa.Integer),
    )
    op.create_table(
        "stats_hourly",
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("hour", sa.SmallInteger, primary_key=True),
        sa.Column("messages", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "stats_member",
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
        _group(),
        sa.Column("last_post_at", UTCDateTime()),
        sa.Column("nudge_off", sa.Boolean, nullable=False),
    )
    op.create_index("ix_stats_member_group_post", "stats_member", ["group_id", "last_post_at"])
    op.create_table(
        "stats_member_daily",
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        _group(),
        sa.Column("replies_received", sa.Integer, nullable=False),
        sa.Column("topic_replies", sa.Integer, nullable=False),
    )
    op.create_index("ix_stats_member_daily_group_day", "stats_member_daily", ["group_id", "day"])
    op.create_table(
        "stats_text",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _group(),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="CASCADE")),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_index("ix_stats_text_group_at", "stats_text", ["group_id", "at"])
    op.create_index("ix_stats_text_at", "stats_text", ["at"])
    op.create_table(
        "stats_recall",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _group(),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
        sa.Column("named_at", UTCDateTime(), nullable=False),
        sa.Column("returned_at", UTCDateTime()),
    )
    op.create_index("ix_stats_recall_group_named", "stats_recall", ["group_id", "named_at"])
    op.create_index("ix_stats_recall_member", "stats_recall", ["member_id", "named_at"])
    op.create_table(
        "stats_feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _group(),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="CASCADE")),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_index("ix_stats_feedback_group_at", "stats_feedback", ["group_id", "at"])
    op.create_table(
        "stats_nps_poll",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _group(),
        sa.Column("question", sa.Text),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("started_by", sa.Integer, sa.ForeignKey("members.id", ondelete="SET NULL")),
        sa.Column("closed_at", UTCDateTime()),
    )
    op.create_index("ix_stats_nps_poll_group", "stats_nps_poll", ["group_id", "started_at"])
    op.create_table(
        "stats_nps_answer",
        sa.Column(
            "poll_id", sa.Integer, sa.ForeignKey("stats_nps_poll.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("score", sa.SmallInteger, nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "stats_top",
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("end_day", sa.Date, primary_key=True),
        sa.Column("days", sa.SmallInteger, primary_key=True),
        sa.Column("rank", sa.SmallInteger, primary_key=True),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
        sa.Column("messages", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "stats_marker",
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "stats_marker",
        "stats_top",
        "stats_nps_answer",
        "stats_nps_poll",
        "stats_feedback",
        "stats_recall",
        "stats_text",
        "stats_member_daily",
        "stats_member",
        "stats_hourly",
        "stats_group_daily",
    ):
        op.drop_table(table)
