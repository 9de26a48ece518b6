"""Engagement: giveaways and their entries, polls and their votes.

Revision ID: engage_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "engage_0001"
down_revision = "0001"
branch_labels = ("engage",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "engage_giveaways",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("channel_id", sa.String(128)),
        sa.Column("thread_id", sa.String(128)),
        sa.Column("message_id", sa.String(128)),
        sa.Column("prize", sa.Text, nullable=False),
        sa.Column("winners", sa.Integer, nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("seed", sa.String(64), nullable=False),
        sa.Column("seed_hash", sa.String(64), nullable=False),
        sa.Column("price", sa.Integer, nullable=False),
        sa.Column("min_points", sa.Integer, nullable=False),
        sa.Column("min_days", sa.Integer, nullable=False),
        sa.Column("min_checkins", sa.Integer, nullable=False),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("members.id", ondelete="SET NULL")),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("drawn_at", UTCDateTime()),
    )
    op.create_index("ix_engage_giveaways_group", "engage_giveaways", ["group_id", "status"])
    op.create_table(
        "engage_giveaway_entries",
        sa.Column(
            "giveaway_id",
            sa.Integer,
            sa.ForeignKey("engage_giveaways.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("entered_at", UTCDateTime(), nullable=False),
        sa.Column("paid", sa.Integer, nullable=False),
        sa.Column("won", sa.Integer, nullable=False),
    )
    op.create_table(
        "engage_polls",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("channel_id", sa.String(128)),
        sa.Column("thread_id", sa.String(128)),
        sa.Column("message_id", sa.String(128)),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("options", sa.Text, nullable=False),
        sa.Column("multi", sa.Integer, nullable=False),
        sa.Column("anon", sa.Integer, nullable=False),
        sa.Column("closes_at", UTCDateTime()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("members.id", ondelete="SET NULL")),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime()),
    )
    op.create_index("ix_engage_polls_group", "engage_polls", ["group_id", "status"])
    op.create_table(
        "engage_poll_votes",
        sa.Column(
            "poll_id", sa.Integer, sa.ForeignKey("engage_polls.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("option", sa.Integer, primary_key=True),
        sa.Column("voted_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("engage_poll_votes")
    op.drop_index("ix_engage_polls_group", table_name="engage_polls")
    op.drop_table("engage_polls")
    op.drop_table("engage_giveaway_entries")
    op.drop_index("ix_engage_giveaways_group", table_name="engage_giveaways")
    op.drop_table("engage_giveaways")
