"""Interest circles: circles, their members and their pings.

Revision ID: circles_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "circles_0001"
down_revision = "0001"
branch_labels = ("circles",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "circles",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("name_key", sa.String(64), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("role_id", sa.String(32)),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("members.id", ondelete="SET NULL")),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("group_id", "name_key", name="uq_circles_group_name"),
    )
    op.create_table(
        "circle_members",
        sa.Column("circle_id", sa.Integer, sa.ForeignKey("circles.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("joined_at", UTCDateTime(), nullable=False),
        sa.Column("muted", sa.Integer, nullable=False),
    )
    op.create_index("ix_circle_members_member", "circle_members", ["member_id"])
    op.create_table(
        "circle_pings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("circle_id", sa.Integer, sa.ForeignKey("circles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("sent_by", sa.Integer, sa.ForeignKey("members.id", ondelete="SET NULL")),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.Column("reached", sa.Integer, nullable=False),
    )
    op.create_index("ix_circle_pings_group", "circle_pings", ["group_id", "sent_at"])


def downgrade() -> None:
    op.drop_index("ix_circle_pings_group", table_name="circle_pings")
    op.drop_table("circle_pings")
    op.drop_index("ix_circle_members_member", table_name="circle_members")
    op.drop_table("circle_members")
    op.drop_table("circles")
