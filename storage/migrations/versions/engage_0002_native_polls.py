"""Engagement: a poll may be the platform's native poll (its id there, to map answers back),
and the latest native answer applied per member (so a late-handled earlier answer loses).

Revision ID: engage_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "engage_0002"
down_revision = "engage_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("engage_polls") as batch:
        batch.add_column(sa.Column("native_id", sa.String(128)))
    op.create_index("ix_engage_polls_native", "engage_polls", ["native_id"])
    op.create_table(
        "engage_poll_answers",
        sa.Column(
            "poll_id", sa.Integer, sa.ForeignKey("engage_polls.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("answered_at", UTCDateTime(), nullable=False),
        sa.Column("answer_order", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("engage_poll_answers")
    op.drop_index("ix_engage_polls_native", table_name="engage_polls")
    with op.batch_alter_table("engage_polls") as batch:
        batch.drop_column("native_id")
