"""Support desk: the group's mood per local hour, and the negative messages of the text
retention window.

Revision ID: desk_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "desk_0002"
down_revision = "desk_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "desk_mood_hourly",
        sa.Column(
            "group_id",
            sa.Integer,
            sa.ForeignKey("groups.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("hour", sa.Integer, primary_key=True),
        sa.Column("messages", sa.Integer, nullable=False),
        sa.Column("score_sum", sa.Float, nullable=False),
        sa.Column("negative", sa.Integer, nullable=False),
    )
    op.create_table(
        "desk_mood_negative",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="SET NULL")),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_index("ix_desk_mood_negative_group_at", "desk_mood_negative", ["group_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_desk_mood_negative_group_at", table_name="desk_mood_negative")
    op.drop_table("desk_mood_negative")
    op.drop_table("desk_mood_hourly")
