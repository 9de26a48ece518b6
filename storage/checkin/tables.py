"""The check-in feature's tables: balances, the ledger, check-ins, counters, badges, the shop
and referrals. Declared on ``storage.schema.metadata``; ``checkin_0001``… build exactly these."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from storage.rights import clear, declare, erase
from storage.schema import metadata
from storage.types import UTCDateTime

points_balances = Table(
    "points_balances",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("balance", BigInteger, nullable=False, default=0),
    #: Lifetime earned points (levels); spending and incoming transfers do not move it.
    Column("earned", BigInteger, nullable=False, default=0),
    Column("updated_at", UTCDateTime(), nullable=False),
    #: When ``earned`` last moved: the all-time board's "who got there first" without a scan.
    Column("earned_at", UTCDateTime()),
    CheckConstraint("balance >= 0", name="nonneg"),
    Index("ix_points_balances_board", "group_id", "earned"),
)

points_ledger = Table(
    "points_ledger",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    Column("delta", BigInteger, nullable=False),
    #: This row's contribution to ``earned`` (0 for spending and incoming transfers).
    Column("earned", BigInteger, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("reason", String(256)),
    Column("actor_id", Integer, ForeignKey("members.id", ondelete="SET NULL")),
    Column("ref", String(128)),
    Column("at", UTCDateTime(), nullable=False),
    #: The group's local day at ``at``: daily caps and periods are indexed lookups on it.
    Column("day", Date, nullable=False),
    Column("balance_after", BigInteger, nullable=False),
    Index("ix_points_ledger_member", "group_id", "member_id", "id"),
    # Covers the weekly and monthly boards: an index-only range scan over the period.
    Index("ix_points_ledger_board", "group_id", "day", "member_id", "earned", "id"),
)

checkins = Table(
    "checkins",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    Column("day", Date, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("streak", Integer, nullable=False),
    Column("rank", Integer),
    Column("points", BigInteger, nullable=False),
    Column("makeup", Boolean, nullable=False, default=False),
    UniqueConstraint("group_id", "member_id", "day", name="uq_checkins_member_day"),
    # Two members can never share a rank of the day; make-ups have no rank (NULLs are distinct).
    UniqueConstraint("group_id", "day", "rank", name="uq_checkins_group_day_rank"),
)

member_counters = Table(
    "member_counters",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

member_badges = Table(
    "member_badges",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("badge_key", String(32), primary_key=True),
    Column("awarded_at", UTCDateTime(), nullable=False),
    Column("actor_id", Integer, ForeignKey("members.id", ondelete="SET NULL")),
)

shop_items = Table(
    "shop_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("cost", BigInteger, nullable=False),
    Column("stock", Integer, nullable=False),
    Column("per_member_limit", Integer),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime(), nullable=False),
    CheckConstraint("stock >= 0", name="stock_nonneg"),
    Index("ix_shop_items_group", "group_id"),
)

shop_redemptions = Table(
    "shop_redemptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("item_id", Integer, ForeignKey("shop_items.id", ondelete="CASCADE"), nullable=False),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="SET NULL")),
    Column("cost", BigInteger, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("status", String(8), nullable=False),
    Column("done_at", UTCDateTime()),
    Column("done_by", Integer, ForeignKey("members.id", ondelete="SET NULL")),
    Index("ix_shop_redemptions_group_status", "group_id", "status"),
)

referrals = Table(
    "referrals",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("invitee_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("inviter_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    Column("joined_at", UTCDateTime(), nullable=False),
    #: pending → credited → clawed_back, or pending → void when the invitee leaves silent.
    Column("state", String(16), nullable=False),
    Column("amount", BigInteger, nullable=False, default=0),
    Column("credited_at", UTCDateTime()),
)


# -- data rights (storage/rights.py; docs/privacy.md) ------------------------------------------

declare(points_balances, erase("member_id"), why="the member's balance")
declare(
    points_ledger,
    erase("member_id"),
    clear("actor_id", "reason"),
    why="the member's own postings go; a posting on another member's account that they caused "
    "(a transfer, a correction) stays, since that balance is its sum, without naming them or "
    "the reason they wrote",
)
declare(checkins, erase("member_id"), why="the member's check-ins")
declare(member_counters, erase("member_id"), why="the member's counters")
declare(
    member_badges,
    erase("member_id"),
    clear("actor_id"),
    why="the member's badges go; badges they handed out stay, unsigned",
)
declare(
    shop_redemptions,
    clear("member_id"),
    clear("done_by"),
    why="the shop's books (stock, what was spent) keep the redemption, without the member",
)
declare(
    referrals,
    erase("invitee_id"),
    erase("inviter_id"),
    why="an invitation links two members: it goes when either is forgotten",
)
