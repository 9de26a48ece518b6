"""Support desk: FAQ entries, their answers and votes; standard replies; complaints and the
response levels that fired.

Revision ID: desk_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "desk_0001"
down_revision = "0001"
branch_labels = ("desk",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "desk_faq",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("triggers", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("lang", sa.String(16)),
        sa.Column("cooldown", sa.Integer, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_desk_faq_group", "desk_faq", ["group_id"])
    op.create_table(
        "desk_faq_answers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("entry_id", sa.Integer, sa.ForeignKey("desk_faq.id", ondelete="CASCADE"), nullable=False),
        sa.Column("channel_id", sa.String(128), nullable=False),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="SET NULL")),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_desk_faq_answers_entry", "desk_faq_answers", ["entry_id", "channel_id", "at"])
    op.create_table(
        "desk_faq_votes",
        sa.Column(
            "answer_id",
            sa.Integer,
            sa.ForeignKey("desk_faq_answers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("helpful", sa.Boolean, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "desk_replies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("lang", sa.String(16), nullable=False),
        sa.Column("opening", sa.Text, nullable=False),
        sa.Column("fact", sa.Text, nullable=False),
        sa.Column("impact", sa.Text, nullable=False),
        sa.Column("plan", sa.Text, nullable=False),
        sa.Column("closing", sa.Text, nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("group_id", "name", "lang", name="uq_desk_replies_group_id"),
    )
    op.create_table(
        "desk_complaints",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="SET NULL")),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("alert_id", sa.Integer),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_desk_complaints_group_at", "desk_complaints", ["group_id", "at"])
    op.create_table(
        "desk_responses",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_desk_responses_group_level", "desk_responses", ["group_id", "level", "at"])
    op.create_table(
        "desk_unanswered",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("channel_id", sa.String(128), nullable=False),
        sa.Column("message_id", sa.String(128), nullable=False),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="SET NULL")),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("answered_at", UTCDateTime()),
    )
    op.create_index("ix_desk_unanswered_group_at", "desk_unanswered", ["group_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_desk_unanswered_group_at", table_name="desk_unanswered")
    op.drop_table("desk_unanswered")
    op.drop_index("ix_desk_responses_group_level", table_name="desk_responses")
    op.drop_table("desk_responses")
    op.drop_index("ix_desk_complaints_group_at", table_name="desk_complaints")
    op.drop_table("desk_complaints")
    op.drop_table("desk_replies")
    op.drop_table("desk_faq_votes")
    op.drop_index("ix_desk_faq_answers_entry", table_name="desk_faq_answers")
    op.drop_table("desk_faq_answers")
    op.drop_index("ix_desk_faq_group", table_name="desk_faq")
    op.drop_table("desk_faq")
