"""Antispam: the raid in progress per group and its newcomers, so raid mode survives a restart.

Revision ID: antispam_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "antispam_0002"
down_revision = "antispam_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "antispam_raids",
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("last_surge", UTCDateTime(), nullable=False),
        sa.Column("until", UTCDateTime()),
        sa.Column("removed", sa.Integer, nullable=False),
        sa.Column("notice", sa.Text),
        sa.Column("alerts", sa.Text, nullable=False),
    )
    op.create_table(
        "antispam_raid_joiners",
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("banned", sa.Integer, nullable=False),
        sa.Column("released", sa.Integer, nullable=False),
        sa.Column("wrong", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("antispam_raid_joiners")
    op.drop_table("antispam_raids")
