"""Dashboard: failed login-link attempts per client address, so the login rate limit survives a
restart and is shared by `bot web` and the workers (issue 17).

Revision ID: dashboard_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "dashboard_0002"
down_revision = "dashboard_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dashboard_login_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_dashboard_login_failures_address", "dashboard_login_failures", ["address", "at"])
    op.create_index("ix_dashboard_login_failures_at", "dashboard_login_failures", ["at"])


def downgrade() -> None:
    op.drop_index("ix_dashboard_login_failures_at", table_name="dashboard_login_failures")
    op.drop_index("ix_dashboard_login_failures_address", table_name="dashboard_login_failures")
    op.drop_table("dashboard_login_failures")
