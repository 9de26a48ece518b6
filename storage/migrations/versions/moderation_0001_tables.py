"""Moderation tables: lexicon, allow-list, term stats, alerts, reports, warnings, credit, sanctions, log.

Revision ID: moderation_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "moderation_0001"
down_revision = "0001"
branch_labels = ("moderation",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mod_terms",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("term", sa.String(256), nullable=False),
        sa.Column("key", sa.String(256), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("created_by", sa.String(128)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("group_id", "key", "mode", name="uq_mod_terms_group_key_mode"),
    )
    op.create_table(
        "mod_allow",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("term", sa.String(256), nullable=False),
        sa.Column("key", sa.String(256), nullable=False),
        sa.Column("created_by", sa.String(128)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("group_id", "key", name="uq_mod_allow_group_key"),
    )
    op.create_table(
        "mod_term_stats",
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("key", sa.String(256), primary_key=True),
        sa.Column("hits", sa.Integer, nullable=False),
        sa.Column("false_positives", sa.Integer, nullable=False),
    )
    op.create_table(
        "mod_alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("level", sa.String(8)),
        sa.Column("category", sa.String(32)),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="SET NULL")),
        sa.Column("user_id", sa.String(128)),
        sa.Column("message_id", sa.String(128)),
        sa.Column("term_key", sa.String(256)),
        sa.Column("excerpt", sa.Text),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("notified_at", UTCDateTime()),
        sa.Column("escalated_at", UTCDateTime()),
        sa.Column("handled_by", sa.String(128)),
        sa.Column("handled_at", UTCDateTime()),
        sa.Column("steps", sa.Text, nullable=False),
        sa.Column("refs", sa.Text, nullable=False),
        sa.Column("reporters", sa.Integer, nullable=False),
        sa.Column("credit_delta", sa.Integer, nullable=False),
        sa.Column("sanction", sa.String(8)),
    )
    op.create_index("ix_mod_alerts_group_created", "mod_alerts", ["group_id", "created_at"])
    op.create_table(
        "mod_report_votes",
        sa.Column(
            "alert_id", sa.Integer, sa.ForeignKey("mod_alerts.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("user_id", sa.String(128), primary_key=True),
    )
    op.create_table(
        "mod_warnings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("category", sa.String(32)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(128)),
        sa.Column("revoked_at", UTCDateTime()),
        sa.Column("alert_id", sa.Integer),
    )
    op.create_index("ix_mod_warnings_member", "mod_warnings", ["member_id", "expires_at"])
    op.create_table(
        "mod_credit",
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("recovered_through", sa.Date, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "mod_sanctions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("until", UTCDateTime()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("lifted_at", UTCDateTime()),
        sa.Column("reason", sa.Text),
    )
    op.create_index("ix_mod_sanctions_open", "mod_sanctions", ["lifted_at", "until"])
    op.create_table(
        "mod_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="SET NULL")),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("alert_id", sa.Integer),
    )
    op.create_index("ix_mod_log_group_at", "mod_log", ["group_id", "at"])


def downgrade() -> None:
    for name in (
        "mod_log",
        "mod_sanctions",
        "mod_credit",
        "mod_warnings",
        "mod_report_votes",
        "mod_alerts",
        "mod_term_stats",
        "mod_allow",
        "mod_terms",
    ):
        op.drop_table(name)
