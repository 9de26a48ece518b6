"""Members per lifecycle stage at the end of each local day (the Charts page's stages over time).

Revision ID: stats_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "stats_0002"
down_revision = "stats_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stats_stage_daily",
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("stage", sa.String(16), primary_key=True),
        sa.Column("members", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("stats_stage_daily")
