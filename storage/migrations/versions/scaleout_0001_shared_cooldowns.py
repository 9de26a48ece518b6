"""Scale-out: cooldowns and sliding-window counts shared by the workers on one database
(``storage.cooldowns``).

Revision ID: scaleout_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "scaleout_0001"
down_revision = "0002"
branch_labels = ("scaleout",)
depends_on = None


def upgrade() -> None:
    # A new table only: until a worker claims a cooldown here, each keeps its own as before.
    op.create_table(
        "shared_cooldowns",
        sa.Column("scope", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(191), primary_key=True),
        sa.Column("until", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "shared_counts",
        sa.Column("scope", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(191), primary_key=True),
        sa.Column("second", UTCDateTime(), primary_key=True),
        sa.Column("n", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("shared_counts")
    op.drop_table("shared_cooldowns")
