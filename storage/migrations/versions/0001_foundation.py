"""Foundation tables: groups, members, settings, role overrides, dedupe, jobs, activity.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "groups",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("adapter", sa.String(64), nullable=False),
        sa.Column("scope_id", sa.String(128), nullable=False),
        sa.Column("title", sa.String(256)),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("adapter", "scope_id", name="uq_groups_adapter_scope"),
    )
    op.create_table(
        "members",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("display_name", sa.String(256), nullable=False),
        sa.Column("username", sa.String(128)),
        sa.Column("is_bot", sa.Boolean, nullable=False),
        sa.Column("first_seen", UTCDateTime(), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
        sa.Column("joined_at", UTCDateTime()),
        sa.Column("left_at", UTCDateTime()),
        sa.Column("forgotten", sa.Boolean, nullable=False),
        sa.UniqueConstraint("group_id", "user_id", name="uq_members_group_user"),
    )
    op.create_table(
        "group_settings",
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(128)),
    )
    op.create_table(
        "role_overrides",
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.String(128), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("granted_by", sa.String(128)),
        sa.Column("granted_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "processed_events",
        sa.Column("adapter", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(191), primary_key=True),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "adapter_state",
        sa.Column("adapter", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "scheduled_jobs",
        sa.Column("id", sa.String(191), primary_key=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE")),
        sa.Column("trigger", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("next_run_at", UTCDateTime()),
        sa.Column("last_run_at", UTCDateTime()),
        sa.Column("paused", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_scheduled_jobs_next", "scheduled_jobs", ["next_run_at"])
    op.create_table(
        "activity_daily",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="SET NULL")),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("messages", sa.BigInteger, nullable=False),
        sa.Column("replies", sa.BigInteger, nullable=False),
        sa.Column("commands", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("group_id", "member_id", "day", name="uq_activity_daily_gmd"),
    )
    op.create_index("ix_activity_daily_group_day", "activity_daily", ["group_id", "day"])


def downgrade() -> None:
    for table in (
        "activity_daily",
        "scheduled_jobs",
        "adapter_state",
        "processed_events",
        "role_overrides",
        "group_settings",
        "members",
        "groups",
    ):
        op.drop_table(table)
