"""Antispam: newcomer probation per member and group, and the group's spam samples.

Revision ID: antispam_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "antispam_0001"
down_revision = "0001"
branch_labels = ("antispam",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "antispam_probation",
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("joined", sa.Integer, nullable=False),
        sa.Column("messages", sa.Integer, nullable=False),
        sa.Column("strikes", sa.Integer, nullable=False),
        sa.Column("approved_at", UTCDateTime()),
        sa.Column("approved_by", sa.String(128)),
    )
    op.create_table(
        "antispam_samples",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("added_by", sa.String(128), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_antispam_samples_group", "antispam_samples", ["group_id"])


def downgrade() -> None:
    op.drop_index("ix_antispam_samples_group", table_name="antispam_samples")
    op.drop_table("antispam_samples")
    op.drop_table("antispam_probation")
