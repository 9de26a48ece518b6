"""Moderation: flooders of an open burst, held until the burst is written (nothing lost on crash).

Revision ID: moderation_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "moderation_0002"
down_revision = "moderation_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mod_flood_held",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("record", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("mod_flood_held")
