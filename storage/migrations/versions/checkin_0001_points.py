"""Check-ins, the points ledger and balances, member counters, badges, shop and referrals.

Revision ID: checkin_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "checkin_0001"
down_revision = "0001"
branch_labels = ("checkin",)
depends_on = None


def _group() -> sa.Column:
    return sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False)


def _member(name: str = "member_id", *, nullable: bool = False, ondelete: str = "CASCADE") -> sa.Column:
    return sa.Column(name, sa.Integer, sa.ForeignKey("members.id", ondelete=ondelete), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "points_balances",
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("balance", sa.BigInteger, nullable=False),
        sa.Column("earned", sa.BigInteger, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("earned_at", UTCDateTime()),
        sa.CheckConstraint("balance >= 0", name="ck_points_balances_nonneg"),
    )
    op.create_index("ix_points_balances_board", "points_balances", ["group_id", "earned"])
    op.create_table(
        "points_ledger",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _group(),
        _member(),
        sa.Column("delta", sa.BigInteger, nullable=False),
        sa.Column("earned", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(256)),
        _member("actor_id", nullable=True, ondelete="SET NULL"),
        sa.Column("ref", sa.String(128)),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("balance_after", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_points_ledger_member", "points_ledger", ["group_id", "member_id", "id"])
    op.create_index(
        "ix_points_ledger_board", "points_ledger", ["group_id", "day", "member_id", "earned", "id"]
    )
    op.create_table(
        "checkins",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _group(),
        _member(),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("streak", sa.Integer, nullable=False),
        sa.Column("rank", sa.Integer),
        sa.Column("points", sa.BigInteger, nullable=False),
        sa.Column("makeup", sa.Boolean, nullable=False),
        sa.UniqueConstraint("group_id", "member_id", "day", name="uq_checkins_member_day"),
        sa.UniqueConstraint("group_id", "day", "rank", name="uq_checkins_group_day_rank"),
    )
    op.create_table(
        "member_counters",
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("key", sa.String(32), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "member_badges",
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("badge_key", sa.String(32), primary_key=True),
        sa.Column("awarded_at", UTCDateTime(), nullable=False),
        _member("actor_id", nullable=True, ondelete="SET NULL"),
    )
    op.create_table(
        "shop_items",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _group(),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("cost", sa.BigInteger, nullable=False),
        sa.Column("stock", sa.Integer, nullable=False),
        sa.Column("per_member_limit", sa.Integer),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("stock >= 0", name="ck_shop_items_stock_nonneg"),
    )
    op.create_index("ix_shop_items_group", "shop_items", ["group_id"])
    op.create_table(
        "shop_redemptions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _group(),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("shop_items.id", ondelete="CASCADE"), nullable=False),
        _member(nullable=True, ondelete="SET NULL"),
        sa.Column("cost", sa.BigInteger, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("done_at", UTCDateTime()),
        _member("done_by", nullable=True, ondelete="SET NULL"),
    )
    op.create_index("ix_shop_redemptions_group_status", "shop_redemptions", ["group_id", "status"])
    op.create_table(
        "referrals",
        sa.Column("group_id", sa.Integer, sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
        sa.Column(
            "invitee_id", sa.Integer, sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
        ),
        _member("inviter_id"),
        sa.Column("joined_at", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("credited_at", UTCDateTime()),
    )


def downgrade() -> None:
    for table in (
        "referrals",
        "shop_redemptions",
        "shop_items",
        "member_badges",
        "member_counters",
        "checkins",
        "points_ledger",
        "points_balances",
    ):
        op.drop_table(table)
