"""Job leases: a scheduled run claimed but not yet completed, so a crash mid-run is re-run at start.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A new table only: existing job rows are untouched, and a database upgraded while runs were
    # in flight under the old code simply has no open leases (those runs stay at-most-once).
    op.create_table(
        "job_leases",
        sa.Column("job_id", sa.String(191), primary_key=True),
        sa.Column("fire_at", UTCDateTime(), primary_key=True),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("lease_until", UTCDateTime(), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("message_id", sa.String(191)),
    )


def downgrade() -> None:
    op.drop_table("job_leases")
