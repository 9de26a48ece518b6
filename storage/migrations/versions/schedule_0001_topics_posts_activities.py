"""Topics, scheduled posts, activities and onboarding (issue 5).

Revision ID: schedule_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "schedule_0001"
down_revision = "0001"
branch_labels = ("schedule",)
depends_on = None


def _group_fk() -> sa.ForeignKey:
    return sa.ForeignKey("groups.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "topics",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.Integer, _group_fk(), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("author_member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="SET NULL")),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_used_at", UTCDateTime()),
        sa.Column("uses", sa.Integer, nullable=False),
    )
    op.create_index("ix_topics_group_used", "topics", ["group_id", "last_used_at"])
    op.create_table(
        "topic_state",
        sa.Column("group_id", sa.Integer, _group_fk(), primary_key=True),
        sa.Column("seeded", sa.Boolean, nullable=False),
        sa.Column("daily_time", sa.String(5)),
        sa.Column("channel_id", sa.String(128)),
        sa.Column("thread_id", sa.String(128)),
    )
    op.create_table(
        "topic_posts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.Integer, _group_fk(), nullable=False),
        sa.Column("topic_id", sa.Integer, sa.ForeignKey("topics.id", ondelete="SET NULL")),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("channel_id", sa.String(128), nullable=False),
        sa.Column("message_id", sa.String(128)),
        sa.Column("posted_at", UTCDateTime(), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
    )
    op.create_index("ix_topic_posts_group_msg", "topic_posts", ["group_id", "message_id"])
    op.create_index("ix_topic_posts_group_day", "topic_posts", ["group_id", "day"])
    op.create_table(
        "topic_replies",
        sa.Column(
            "post_id", sa.Integer, sa.ForeignKey("topic_posts.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )
    op.create_table(
        "topic_suggestions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.Integer, _group_fk(), nullable=False),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="SET NULL")),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime()),
        sa.Column("decided_by", sa.String(128)),
        sa.Column("topic_id", sa.Integer, sa.ForeignKey("topics.id", ondelete="SET NULL")),
    )
    op.create_table(
        "scheduled_posts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.Integer, _group_fk(), nullable=False),
        sa.Column("channel_id", sa.String(128)),
        sa.Column("thread_id", sa.String(128)),
        sa.Column("when_text", sa.String(64), nullable=False),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("urgent", sa.Boolean, nullable=False),
        sa.Column("paused", sa.Boolean, nullable=False),
        sa.Column("done", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.String(128)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_local", sa.String(16)),
        sa.Column("posts", sa.Integer, nullable=False),
    )
    op.create_index("ix_scheduled_posts_group", "scheduled_posts", ["group_id"])
    op.create_table(
        "activities",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.Integer, _group_fk(), nullable=False),
        sa.Column("channel_id", sa.String(128)),
        sa.Column("thread_id", sa.String(128)),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("start_at", UTCDateTime(), nullable=False),
        sa.Column("duration_s", sa.Integer, nullable=False),
        sa.Column("capacity", sa.Integer),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("members.id", ondelete="SET NULL")),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("message_id", sa.String(128)),
        sa.Column("feedback_message_id", sa.String(128)),
    )
    op.create_index("ix_activities_group_start", "activities", ["group_id", "start_at"])
    for name, extra in (
        (
            "activity_rsvps",
            [
                sa.Column("status", sa.String(16), nullable=False),
                sa.Column("seq", sa.Integer, nullable=False),
                sa.Column("created_at", UTCDateTime(), nullable=False),
            ],
        ),
        ("activity_attendance", [sa.Column("at", UTCDateTime(), nullable=False)]),
        (
            "activity_ratings",
            [
                sa.Column("rating", sa.Integer, nullable=False),
                sa.Column("at", UTCDateTime(), nullable=False),
            ],
        ),
    ):
        op.create_table(
            name,
            sa.Column(
                "activity_id",
                sa.Integer,
                sa.ForeignKey("activities.id", ondelete="CASCADE"),
                primary_key=True,
            ),
            sa.Column(
                "member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
            ),
            *extra,
        )

    op.create_table(
        "onboarding",
        sa.Column("group_id", sa.Integer, _group_fk(), primary_key=True),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("joined_at", UTCDateTime(), nullable=False),
        sa.Column("read_rules_at", UTCDateTime()),
        sa.Column("spoke_at", UTCDateTime()),
        sa.Column("finished_at", UTCDateTime()),
    )


def downgrade() -> None:
    for table in (
        "onboarding",
        "activity_ratings",
        "activity_attendance",
        "activity_rsvps",
        "activities",
        "scheduled_posts",
        "topic_suggestions",
        "topic_replies",
        "topic_posts",
        "topic_state",
        "topics",
    ):
        op.drop_table(table)
