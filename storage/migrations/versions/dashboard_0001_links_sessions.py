"""Dashboard: one-time login links, browser sessions, and the change log that lets a `bot web`
process and a worker on one SQLite file empty each other's caches (issue 17).

Revision ID: dashboard_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "dashboard_0001"
down_revision = "0001"
branch_labels = ("dashboard",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dashboard_links",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime()),
    )
    op.create_index("ix_dashboard_links_user", "dashboard_links", ["platform", "user_id", "created_at"])
    op.create_table(
        "dashboard_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("lang", sa.String(8)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_dashboard_sessions_user", "dashboard_sessions", ["platform", "user_id"])
    op.create_table(
        "dashboard_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("worker", sa.String(128), nullable=False),
        sa.Column("topic", sa.String(32), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("dashboard_changes")
    op.drop_index("ix_dashboard_sessions_user", table_name="dashboard_sessions")
    op.drop_table("dashboard_sessions")
    op.drop_index("ix_dashboard_links_user", table_name="dashboard_links")
    op.drop_table("dashboard_links")
