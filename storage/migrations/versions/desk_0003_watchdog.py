"""Support desk: who an FAQ entry answers (``desk_faq.audience``), and level 3's watchdog
shared by the workers and kept across restarts (the workers' reports of their adapters, the
incidents, and which adapter told the superusers).

Revision ID: desk_0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "desk_0003"
down_revision = "desk_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("desk_faq") as batch:
        batch.add_column(sa.Column("audience", sa.String(16), nullable=False, server_default="all"))
    op.create_table(
        "desk_watch_reports",
        sa.Column("worker", sa.String(128), primary_key=True),
        sa.Column("adapter", sa.String(64), primary_key=True),
        sa.Column("connected", sa.Boolean, nullable=False),
        sa.Column("offline_since", UTCDateTime()),
        sa.Column("backlog", sa.Integer, nullable=False),
        sa.Column("errors", sa.Integer, nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "desk_incidents",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("what", sa.String(16), nullable=False),
        sa.Column("adapter", sa.String(64)),
        sa.Column("values", sa.Text, nullable=False),
        sa.Column("since", UTCDateTime(), nullable=False),
        sa.Column("cleared_at", UTCDateTime()),
    )
    op.create_table(
        "desk_incident_notices",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("since", UTCDateTime(), primary_key=True),
        sa.Column("phase", sa.String(16), primary_key=True),
        sa.Column("adapter", sa.String(64), primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("desk_incident_notices")
    op.drop_table("desk_incidents")
    op.drop_table("desk_watch_reports")
    with op.batch_alter_table("desk_faq") as batch:
        batch.drop_column("audience")
