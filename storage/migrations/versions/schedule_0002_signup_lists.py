"""Sign-up lists (接龙, issue 23): an activity's kind, deadline and close time, a note per
sign-up, and an index to count and order long lists.

Revision ID: schedule_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "schedule_0002"
down_revision = "schedule_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite cannot drop columns in place (the downgrade), PostgreSQL just ALTERs.
    with op.batch_alter_table("activities") as batch:
        # Every existing row is a planned activity.
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="event"))
        batch.add_column(sa.Column("closes_at", UTCDateTime()))
        batch.add_column(sa.Column("closed_at", UTCDateTime()))
    with op.batch_alter_table("activity_rsvps") as batch:
        batch.add_column(sa.Column("note", sa.String(100)))
    op.create_index("ix_activity_rsvps_status", "activity_rsvps", ["activity_id", "status", "seq"])


def downgrade() -> None:
    op.drop_index("ix_activity_rsvps_status", table_name="activity_rsvps")
    with op.batch_alter_table("activity_rsvps") as batch:
        batch.drop_column("note")
    with op.batch_alter_table("activities") as batch:
        batch.drop_column("closed_at")
        batch.drop_column("closes_at")
        batch.drop_column("kind")
