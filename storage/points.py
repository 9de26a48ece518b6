"""Points: an append-only ledger with the balance kept in the same transaction, daily check-ins,
member counters, badges, the shop and referrals.

Invariants every method keeps (and the tests check on SQLite and PostgreSQL):
- for every member, ``points_balances.balance`` equals the sum of that member's ledger deltas;
- a balance never goes below zero: the guarded ``UPDATE … WHERE balance + delta >= 0`` refuses
  the spend and the whole operation rolls back (``InsufficientPoints``);
- one check-in per member per local day is a unique key, not a read-then-write check;
- a badge is a primary-key row, so it is awarded at most once however often it is re-evaluated.

Only plain values cross this module's edge: rule objects from ``handlers`` arrive as tuples.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

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
    and_,
    bindparam,
    delete,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from storage.database import Database
from storage.schema import metadata
from storage.sql import dialect_insert
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


#: Counters kept in ``member_counters``; the rest are derived from check-ins and balances.
STORED_COUNTER_KEYS = frozenset({"messages", "invites", "events_attended", "topic_replies"})
ALL_COUNTER_KEYS = STORED_COUNTER_KEYS | {"checkin_streak", "checkin_total", "points_earned"}


#: Advisory-lock namespace for "ranks of the day in group N" (PostgreSQL only).
_RANK_LOCK = 0x51C1

#: How often a check-in is retried when another member took the same rank of the day.
_CLAIM_ATTEMPTS = 5

#: Members per statement in a batch flush: far below SQLite's bound-parameter limit.
_CHUNK = 400


class InsufficientPoints(Exception):
    """A spend would take a balance below zero; the transaction was rolled back."""

    def __init__(self, balance: int) -> None:
        self.balance = balance
        super().__init__(f"balance {balance} is too low")


class _Refused(Exception):
    """Roll back and report ``status`` (an expected refusal, not an error) with its ``detail``."""

    def __init__(self, status: str, **detail: Any) -> None:
        self.status = status
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Entry:
    """One ledger line to post: ``earns`` says whether it counts toward levels and leaderboards."""

    delta: int
    kind: str
    earns: bool


#: Badge rules as plain values: (badge key, counter name, threshold).
AutoRule = tuple[str, str, int]


@dataclass(frozen=True, slots=True)
class Posting:
    """What a balance change did; ``earned_before/after`` show a level-up to the caller."""

    member_id: int
    balance: int
    earned_before: int
    earned_after: int
    new_badges: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One ledger line as shown to members and moderators."""

    id: int
    member_id: int
    delta: int
    kind: str
    reason: str | None
    actor_id: int | None
    ref: str | None
    at: datetime
    day: date
    balance_after: int


@dataclass(frozen=True, slots=True)
class CheckinOutcome:
    """The result of a check-in attempt."""

    created: bool
    day: date
    streak: int
    rank: int | None
    items: tuple[tuple[str, int], ...] = ()
    posting: Posting | None = None
    total_checkins: int = 0


@dataclass(frozen=True, slots=True)
class CheckinStatus:
    """A member's check-in standing on a given local day."""

    today: bool
    streak: int
    total: int
    last_day: date | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """An operation that may be refused: ``status`` is ``ok`` or the refusal's reason key."""

    status: str
    posting: Posting | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the operation committed."""
        return self.status == "ok"


@dataclass(frozen=True, slots=True)
class ShopItem:
    """An item for sale in a group's shop."""

    id: int
    name: str
    cost: int
    stock: int
    per_member_limit: int | None
    active: bool


@dataclass(frozen=True, slots=True)
class Redemption:
    """A member's purchase, open until a moderator marks it done."""

    id: int
    item_id: int
    item_name: str
    member_id: int | None
    cost: int
    at: datetime
    status: str
    done_at: datetime | None


@dataclass(frozen=True, slots=True)
class ActivityCredit:
    """One member's activity since the last flush: points claimed and messages counted."""

    group_id: int
    member_id: int
    day: date
    points: int
    messages: int
    at: datetime
    #: The group's activity-points cap per local day, re-checked against the ledger at flush.
    daily_cap: int


#: ``(streak, rank) → [(kind, amount)]``: the handler's reward rules, so storage holds none.
Itemizer = Callable[[int, int], Iterable[tuple[str, int]]]


class PointsRepo:
    """Every points, check-in, badge, shop and referral operation, one transaction each."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # --- primitives used inside a transaction --------------------------------------------------

    def _post(
        self,
        conn: Connection,
        group_id: int,
        member_id: int,
        entries: Sequence[Entry],
        *,
        at: datetime,
        day: date,
        reason: str | None = None,
        actor_id: int | None = None,
        ref: str | None = None,
    ) -> Posting:
        """Apply ``entries`` to one member: ledger rows and the balance, guarded against < 0.

        The common case is two statements: the guarded UPDATE … RETURNING and the ledger insert.
        The guard in the WHERE clause is what holds under concurrency: a parallel spend that got
        there first makes the UPDATE match nothing, and the operation rolls back.
        """
        live = [e for e in entries if e.delta != 0]
        key = (points_balances.c.group_id == group_id, points_balances.c.member_id == member_id)
        if not live:
            row = (
                conn.execute(select(points_balances.c.balance, points_balances.c.earned).where(*key))
            ).first()
            balance, earned = (int(row.balance), int(row.earned)) if row else (0, 0)
            return Posting(member_id, balance, earned, earned)
        total = sum(e.delta for e in live)
        earned_delta = sum(e.delta for e in live if e.earns)
        if total >= 0:
            # A credit cannot fail the guard: insert-or-add in one statement, first posting or not.
            credit = _credit_statement(conn.dialect.name)
            after: Any = (
                conn.execute(
                    credit,
                    {
                        "group_id": group_id,
                        "member_id": member_id,
                        "balance": total,
                        "earned": earned_delta,
                        "updated_at": at,
                        "earned_at": at if earned_delta else None,
                    },
                )
            ).one()
        else:
            guarded = (
                update(points_balances)
                .where(*key, points_balances.c.balance + total >= 0)
                .values(
                    balance=points_balances.c.balance + total,
                    earned=points_balances.c.earned + earned_delta,
                    updated_at=at,
                    **({"earned_at": at} if earned_delta else {}),
                )
                .returning(points_balances.c.balance, points_balances.c.earned)
            )
            after = conn.execute(guarded).first()
        if after is None:
            # Only a debit can miss the guard: too little held, or no balance row at all.
            current = conn.execute(select(points_balances.c.balance).where(*key)).scalar()
            raise InsufficientPoints(int(current or 0))
        start = int(after.balance) - total
        running = start
        rows: list[dict[str, Any]] = []
        for e in live:
            running += e.delta
            if running < 0:
                # Only possible when a credit and a larger debit come in one call; the final
                # balance was fine but the ledger would show a negative step. Refuse it whole.
                raise InsufficientPoints(start)
            rows.append(
                {
                    "group_id": group_id,
                    "member_id": member_id,
                    "delta": e.delta,
                    "earned": e.delta if e.earns else 0,
                    "kind": e.kind,
                    "reason": reason,
                    "actor_id": actor_id,
                    "ref": ref,
                    "at": at,
                    "day": day,
                    "balance_after": running,
                }
            )
        conn.execute(points_ledger.insert(), rows)
        return Posting(member_id, int(after.balance), int(after.earned) - earned_delta, int(after.earned))

    def _counters(
        self,
        conn: Connection,
        group_id: int,
        member_id: int,
        day: date,
        wanted: set[str],
        known: Mapping[str, int],
    ) -> dict[str, int]:
        """The counters in ``wanted``, reading only those the caller does not already know."""
        counters = dict(known)
        missing = wanted - set(counters)
        stored = missing & STORED_COUNTER_KEYS
        if stored:
            rows = (
                conn.execute(
                    select(member_counters.c.key, member_counters.c.value).where(
                        member_counters.c.group_id == group_id,
                        member_counters.c.member_id == member_id,
                        member_counters.c.key.in_(sorted(stored)),
                    )
                )
            ).all()
            counters.update({r.key: int(r.value) for r in rows})
        if "checkin_streak" in missing:
            last = (
                conn.execute(
                    select(checkins.c.day, checkins.c.streak)
                    .where(checkins.c.group_id == group_id, checkins.c.member_id == member_id)
                    .order_by(checkins.c.day.desc())
                    .limit(1)
                )
            ).first()
            counters["checkin_streak"] = (
                int(last.streak) if last and last.day >= day - timedelta(days=1) else 0
            )
        if "checkin_total" in missing:
            counters["checkin_total"] = self._checkin_total(conn, group_id, member_id)
        if "points_earned" in missing:
            earned = (
                conn.execute(
                    select(points_balances.c.earned).where(
                        points_balances.c.group_id == group_id, points_balances.c.member_id == member_id
                    )
                )
            ).scalar()
            counters["points_earned"] = int(earned or 0)
        return counters

    def _grant_due(
        self,
        conn: Connection,
        group_id: int,
        member_id: int,
        rules: Sequence[AutoRule],
        at: datetime,
        day: date,
        *,
        affected: Iterable[str] | None = None,
        known: Mapping[str, int] | None = None,
    ) -> tuple[str, ...]:
        """Award every automatic badge the member now qualifies for and does not hold yet.

        ``affected`` names the counters this operation can have moved: only their rules are
        evaluated, since every other counter was evaluated when it last changed.
        """
        if affected is not None:
            moved = set(affected)
            rules = [r for r in rules if r[1] in moved]
        if not rules:
            return ()
        counters = self._counters(conn, group_id, member_id, day, {r[1] for r in rules}, known or {})
        due = [key for key, counter, threshold in rules if counters.get(counter, 0) >= threshold]
        if not due:
            return ()
        owned = set(
            (
                conn.execute(
                    select(member_badges.c.badge_key).where(
                        member_badges.c.group_id == group_id,
                        member_badges.c.member_id == member_id,
                        member_badges.c.badge_key.in_(due),
                    )
                )
            ).scalars()
        )
        new = [k for k in due if k not in owned]
        if new:
            conn.execute(
                member_badges.insert(),
                [
                    {"group_id": group_id, "member_id": member_id, "badge_key": k, "awarded_at": at}
                    for k in new
                ],
            )
        return tuple(new)

    def _bump(self, conn: Connection, group_id: int, member_id: int, key: str, by: int) -> None:
        stmt = dialect_insert(conn, member_counters)
        stmt = stmt.on_conflict_do_update(
            index_elements=["group_id", "member_id", "key"],
            set_={"value": member_counters.c.value + stmt.excluded.value},
        )
        conn.execute(stmt, {"group_id": group_id, "member_id": member_id, "key": key, "value": by})

    async def round_trip(self) -> None:
        """One empty write transaction on the path a check-in takes: the bench's floor."""
        await self.db.transact(_select_one)

    # --- points -------------------------------------------------------------------------------

    async def post(
        self,
        group_id: int,
        member_id: int,
        entries: Sequence[Entry],
        *,
        at: datetime,
        day: date,
        reason: str | None = None,
        actor_id: int | None = None,
        ref: str | None = None,
        badge_rules: Sequence[AutoRule] = (),
        counters: Mapping[str, int] | None = None,
        clamp: bool = False,
    ) -> Posting:
        """Post ``entries`` (and bump ``counters``) in one transaction; raises ``InsufficientPoints``.

        With ``clamp``, a single debit takes at most what the balance holds, read under the
        same lock as the write, so a penalty never fails and never goes below zero.
        """
        return await self.db.transact(
            self._post_all,
            group_id,
            member_id,
            entries,
            at=at,
            day=day,
            reason=reason,
            actor_id=actor_id,
            ref=ref,
            badge_rules=badge_rules,
            counters=counters or {},
            clamp=clamp,
        )

    def _post_all(
        self,
        conn: Connection,
        group_id: int,
        member_id: int,
        entries: Sequence[Entry],
        *,
        at: datetime,
        day: date,
        reason: str | None,
        actor_id: int | None,
        ref: str | None,
        badge_rules: Sequence[AutoRule],
        counters: Mapping[str, int],
        clamp: bool,
    ) -> Posting:
        if clamp and len(entries) == 1 and entries[0].delta < 0:
            held = (
                conn.execute(
                    select(points_balances.c.balance)
                    .where(points_balances.c.group_id == group_id, points_balances.c.member_id == member_id)
                    .with_for_update()
                )
            ).scalar()
            e = entries[0]
            entries = [Entry(-min(-e.delta, int(held or 0)), e.kind, e.earns)]
        for key, by in counters.items():
            self._bump(conn, group_id, member_id, key, by)
        posting = self._post(
            conn, group_id, member_id, entries, at=at, day=day, reason=reason, actor_id=actor_id, ref=ref
        )
        new = self._grant_due(
            conn,
            group_id,
            member_id,
            badge_rules,
            at,
            day,
            affected={"points_earned", *counters},
            known={"points_earned": posting.earned_after},
        )
        return Posting(posting.member_id, posting.balance, posting.earned_before, posting.earned_after, new)

    async def balance(self, group_id: int, member_id: int) -> tuple[int, int]:
        """``(balance, lifetime earned)``; zeros for a member who never had points."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(points_balances.c.balance, points_balances.c.earned).where(
                        points_balances.c.group_id == group_id, points_balances.c.member_id == member_id
                    )
                )
            ).first()
        return (int(row.balance), int(row.earned)) if row else (0, 0)

    async def history(self, group_id: int, member_id: int, limit: int = 5) -> list[LedgerRow]:
        """The member's latest ledger rows, newest first."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(points_ledger)
                    .where(points_ledger.c.group_id == group_id, points_ledger.c.member_id == member_id)
                    .order_by(points_ledger.c.id.desc())
                    .limit(limit)
                )
            ).all()
        return [
            LedgerRow(
                id=r.id,
                member_id=r.member_id,
                delta=int(r.delta),
                kind=r.kind,
                reason=r.reason,
                actor_id=r.actor_id,
                ref=r.ref,
                at=r.at,
                day=r.day,
                balance_after=int(r.balance_after),
            )
            for r in rows
        ]

    async def transfer(
        self,
        group_id: int,
        sender_id: int,
        receiver_id: int,
        amount: int,
        *,
        at: datetime,
        day: date,
        daily_cap: int,
        reason: str | None = None,
    ) -> Outcome:
        """Move ``amount`` between members: ``ok``, ``over_cap`` (detail: sent, cap) or ``not_enough``."""
        if amount <= 0 or sender_id == receiver_id:
            raise ValueError("a transfer moves a positive amount between two members")
        try:
            posting = await self.db.transact(
                self._transfer, group_id, sender_id, receiver_id, amount, at, day, daily_cap, reason
            )
        except InsufficientPoints as exc:
            return Outcome("not_enough", detail={"balance": exc.balance})
        except _Refused as exc:
            return Outcome(exc.status, detail=exc.detail)
        return Outcome("ok", posting)

    def _transfer(
        self,
        conn: Connection,
        group_id: int,
        sender_id: int,
        receiver_id: int,
        amount: int,
        at: datetime,
        day: date,
        daily_cap: int,
        reason: str | None,
    ) -> Posting:
        if conn.dialect.name == "postgresql":
            # Lock both balances in id order first: A→B and B→A at the same moment
            # would otherwise each hold one row and wait for the other (a deadlock).
            self._lock_balances(conn, group_id, sorted((sender_id, receiver_id)), at)
        # Debit first: the sender's row lock serialises their transfers, so the
        # daily-cap sum below cannot be raced past.
        posting = self._post(
            conn,
            group_id,
            sender_id,
            [Entry(-amount, "transfer", False)],
            at=at,
            day=day,
            reason=reason,
            actor_id=sender_id,
            ref=f"to:{receiver_id}",
        )
        sent = -int(
            conn.execute(
                select(func.coalesce(func.sum(points_ledger.c.delta), 0)).where(
                    points_ledger.c.group_id == group_id,
                    points_ledger.c.member_id == sender_id,
                    points_ledger.c.day == day,
                    points_ledger.c.kind == "transfer",
                    points_ledger.c.delta < 0,
                )
            ).scalar_one()
        )
        if sent > daily_cap:
            raise _Refused("over_cap", sent=sent - amount, cap=daily_cap)
        self._post(
            conn,
            group_id,
            receiver_id,
            [Entry(amount, "transfer", False)],
            at=at,
            day=day,
            reason=reason,
            actor_id=sender_id,
            ref=f"from:{sender_id}",
        )
        return posting

    def _lock_balances(
        self, conn: Connection, group_id: int, member_ids: Sequence[int], at: datetime
    ) -> None:
        conn.execute(
            dialect_insert(conn, points_balances).on_conflict_do_nothing(
                index_elements=["group_id", "member_id"]
            ),
            [
                {"group_id": group_id, "member_id": m, "balance": 0, "earned": 0, "updated_at": at}
                for m in member_ids
            ],
        )
        conn.execute(
            select(points_balances.c.member_id)
            .where(points_balances.c.group_id == group_id, points_balances.c.member_id.in_(member_ids))
            .order_by(points_balances.c.member_id)
            .with_for_update()
        )

    async def leaderboard(self, group_id: int, since: date | None, limit: int = 10) -> list[tuple[int, int]]:
        """``(member_id, earned)`` by points earned since local day ``since`` (None: all time).

        Ties go to whoever reached the total first: the lower id of their last earning row.
        """
        rows = await self._board(group_id, since)
        return rows[:limit]

    async def rank_of(self, group_id: int, member_id: int, since: date | None) -> tuple[int, int] | None:
        """``(rank, earned)`` of one member in the period, or None when they earned nothing."""
        rows = await self._board(group_id, since)
        for i, (mid, earned) in enumerate(rows, start=1):
            if mid == member_id:
                return i, earned
        return None

    async def _board(self, group_id: int, since: date | None) -> list[tuple[int, int]]:
        if since is None:
            # All time is exactly the lifetime "earned" column: no need to sum the ledger.
            stmt = (
                select(points_balances.c.member_id, points_balances.c.earned)
                .where(points_balances.c.group_id == group_id, points_balances.c.earned > 0)
                .order_by(
                    points_balances.c.earned.desc(),
                    points_balances.c.earned_at.asc(),
                    points_balances.c.member_id.asc(),
                )
            )
            async with self.db.begin() as conn:
                return [(int(r.member_id), int(r.earned)) for r in (await conn.execute(stmt)).all()]
        total = func.sum(points_ledger.c.earned).label("total")
        reached = func.max(points_ledger.c.id).label("reached")
        conds = [points_ledger.c.group_id == group_id, points_ledger.c.earned != 0]
        if since is not None:
            conds.append(points_ledger.c.day >= since)
        stmt = (
            select(points_ledger.c.member_id, total, reached)
            .where(*conds)
            .group_by(points_ledger.c.member_id)
            .having(func.sum(points_ledger.c.earned) > 0)
            .order_by(total.desc(), reached.asc())
        )
        async with self.db.begin() as conn:
            rows = (await conn.execute(stmt)).all()
        return [(int(r.member_id), int(r.total)) for r in rows]

    async def all_balances(self, group_id: int | None = None) -> list[tuple[int, int, int, int]]:
        """``(group_id, member_id, balance, ledger sum)`` for invariant checks and audits."""
        ledger_sum = (
            select(
                points_ledger.c.group_id,
                points_ledger.c.member_id,
                func.sum(points_ledger.c.delta).label("total"),
            )
            .group_by(points_ledger.c.group_id, points_ledger.c.member_id)
            .subquery()
        )
        stmt = select(
            points_balances.c.group_id,
            points_balances.c.member_id,
            points_balances.c.balance,
            func.coalesce(ledger_sum.c.total, 0),
        ).select_from(
            points_balances.outerjoin(
                ledger_sum,
                and_(
                    ledger_sum.c.group_id == points_balances.c.group_id,
                    ledger_sum.c.member_id == points_balances.c.member_id,
                ),
            )
        )
        if group_id is not None:
            stmt = stmt.where(points_balances.c.group_id == group_id)
        async with self.db.begin() as conn:
            rows = (await conn.execute(stmt)).all()
        return [(int(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in rows]

    # --- check-ins ----------------------------------------------------------------------------

    async def checkin(
        self,
        group_id: int,
        member_id: int,
        *,
        day: date,
        at: datetime,
        itemize: Itemizer,
        badge_rules: Sequence[AutoRule] = (),
    ) -> CheckinOutcome:
        """Claim ``day`` for the member; ``itemize(streak, rank)`` gives ``[(kind, amount)]``.

        Unique keys decide between simultaneous claims. The same member twice: the loser's insert
        fails, its transaction rolls back whole, and it is answered as "already checked in". Two
        members taking the same rank of the day at once (possible on PostgreSQL, where readers
        do not queue behind the writer): the loser simply claims again and gets the next rank.
        """
        for _ in range(_CLAIM_ATTEMPTS - 1):
            try:
                return await self.db.transact(self._claim, group_id, member_id, day, at, itemize, badge_rules)
            except IntegrityError:
                existing = await self.db.transact(self._checkin_row, group_id, member_id, day)
                if existing is not None:
                    return existing
        return await self.db.transact(self._claim, group_id, member_id, day, at, itemize, badge_rules)

    def _claim(
        self,
        conn: Connection,
        group_id: int,
        member_id: int,
        day: date,
        at: datetime,
        itemize: Itemizer,
        badge_rules: Sequence[AutoRule],
    ) -> CheckinOutcome:
        if conn.dialect.name == "postgresql":
            # Ranks of the day are handed out in order: claims in one group queue here (on
            # SQLite, BEGIN IMMEDIATE already queues every writer). Released at commit.
            conn.execute(select(func.pg_advisory_xact_lock(_RANK_LOCK, group_id)))
        # One round trip for everything the claim needs to know; the statement is built
        # once and reused, since building it cost more than running it.
        facts = (
            conn.execute(
                _checkin_facts(),
                {"g": group_id, "m": member_id, "d": day, "p": day - timedelta(days=1)},
            )
        ).one()
        if facts.streak is not None:
            return CheckinOutcome(False, day, int(facts.streak), facts.rank, total_checkins=int(facts.total))
        streak = int(facts.prev) + 1 if facts.prev is not None else 1
        rank = int(facts.taken) + 1
        total = int(facts.total) + 1
        items: list[tuple[str, int]] = [(k, int(a)) for k, a in itemize(streak, rank)]
        conn.execute(
            checkins.insert(),
            {
                "group_id": group_id,
                "member_id": member_id,
                "day": day,
                "at": at,
                "streak": streak,
                "rank": rank,
                "points": sum(a for _, a in items),
                "makeup": False,
            },
        )
        posting = self._post(
            conn,
            group_id,
            member_id,
            [Entry(a, k, True) for k, a in items],
            at=at,
            day=day,
            ref=f"checkin:{day.isoformat()}",
        )
        new = self._grant_due(
            conn,
            group_id,
            member_id,
            badge_rules,
            at,
            day,
            affected=("checkin_streak", "checkin_total", "points_earned"),
            known={
                "checkin_streak": streak,
                "checkin_total": total,
                "points_earned": posting.earned_after,
            },
        )
        return CheckinOutcome(
            True,
            day,
            streak,
            rank,
            tuple(items),
            Posting(member_id, posting.balance, posting.earned_before, posting.earned_after, new),
            total,
        )

    def _checkin_total(self, conn: Connection, group_id: int, member_id: int) -> int:
        return int(
            (
                conn.execute(
                    select(func.count())
                    .select_from(checkins)
                    .where(checkins.c.group_id == group_id, checkins.c.member_id == member_id)
                )
            ).scalar_one()
        )

    def _checkin_row(
        self, conn: Connection, group_id: int, member_id: int, day: date
    ) -> CheckinOutcome | None:
        row = (
            conn.execute(
                select(checkins.c.streak, checkins.c.rank).where(
                    checkins.c.group_id == group_id, checkins.c.member_id == member_id, checkins.c.day == day
                )
            )
        ).first()
        if row is None:
            return None
        total = self._checkin_total(conn, group_id, member_id)
        return CheckinOutcome(False, day, int(row.streak), row.rank, total_checkins=total)

    async def checkin_status(self, group_id: int, member_id: int, today: date) -> CheckinStatus:
        """Whether the member checked in ``today``, the live streak and the total."""
        return await self.db.transact(self._checkin_status, group_id, member_id, today)

    def _checkin_status(self, conn: Connection, group_id: int, member_id: int, today: date) -> CheckinStatus:
        last = conn.execute(
            select(checkins.c.day, checkins.c.streak)
            .where(checkins.c.group_id == group_id, checkins.c.member_id == member_id)
            .order_by(checkins.c.day.desc())
            .limit(1)
        ).first()
        total = self._checkin_total(conn, group_id, member_id)
        if last is None:
            return CheckinStatus(False, 0, total, None)
        alive = last.day >= today - timedelta(days=1)
        return CheckinStatus(last.day == today, int(last.streak) if alive else 0, total, last.day)

    async def checkin_days(self, group_id: int, member_id: int, first: date, last: date) -> dict[date, bool]:
        """Days in ``[first, last]`` the member checked in, mapped to whether it was a make-up."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(checkins.c.day, checkins.c.makeup).where(
                        checkins.c.group_id == group_id,
                        checkins.c.member_id == member_id,
                        checkins.c.day >= first,
                        checkins.c.day <= last,
                    )
                )
            ).all()
        return {r.day: bool(r.makeup) for r in rows}

    async def makeup(
        self,
        group_id: int,
        member_id: int,
        *,
        today: date,
        at: datetime,
        cost: int,
        monthly_limit: int,
    ) -> Outcome:
        """Fill yesterday when it was missed and the day before was checked in.

        Refusals: ``nothing_to_repair``, ``limit`` (detail: limit), ``not_enough`` (detail: cost,
        balance). On success today's streak, when already claimed, is re-linked too.
        """
        try:
            posting, used, streak = await self.db.transact(
                self._makeup, group_id, member_id, today, at, cost, monthly_limit
            )
        except _Refused as exc:
            return Outcome(exc.status, detail={"limit": monthly_limit, "cost": cost})
        except InsufficientPoints as exc:
            return Outcome("not_enough", detail={"cost": cost, "balance": exc.balance})
        return Outcome("ok", posting, {"day": today - timedelta(days=1), "streak": streak, "used": used})

    def _makeup(
        self,
        conn: Connection,
        group_id: int,
        member_id: int,
        today: date,
        at: datetime,
        cost: int,
        monthly_limit: int,
    ) -> tuple[Posting, int, int]:
        """``(posting, make-ups used this month, the streak now)``."""
        yesterday = today - timedelta(days=1)
        month_start = today.replace(day=1)
        days = {
            r.day: r
            for r in (
                conn.execute(
                    select(checkins.c.id, checkins.c.day, checkins.c.streak).where(
                        checkins.c.group_id == group_id,
                        checkins.c.member_id == member_id,
                        checkins.c.day >= yesterday - timedelta(days=1),
                        checkins.c.day <= today,
                    )
                )
            ).all()
        }
        before = days.get(yesterday - timedelta(days=1))
        if yesterday in days or before is None:
            raise _Refused("nothing_to_repair")
        used = int(
            (
                conn.execute(
                    select(func.count())
                    .select_from(points_ledger)
                    .where(
                        points_ledger.c.group_id == group_id,
                        points_ledger.c.member_id == member_id,
                        points_ledger.c.kind == "makeup",
                        points_ledger.c.day >= month_start,
                        points_ledger.c.day <= today,
                    )
                )
            ).scalar_one()
        )
        if used >= monthly_limit:
            raise _Refused("limit")
        streak = int(before.streak) + 1
        conn.execute(
            checkins.insert().values(
                group_id=group_id,
                member_id=member_id,
                day=yesterday,
                at=at,
                streak=streak,
                rank=None,
                points=0,
                makeup=True,
            )
        )
        if today in days:
            conn.execute(update(checkins).where(checkins.c.id == days[today].id).values(streak=streak + 1))
        posting = self._post(
            conn,
            group_id,
            member_id,
            [Entry(-cost, "makeup", False)] if cost > 0 else [],
            at=at,
            day=today,
            ref=f"makeup:{yesterday.isoformat()}",
        )
        if cost <= 0:
            # A free make-up still needs a ledger-visible trace for the monthly limit.
            conn.execute(
                points_ledger.insert().values(
                    group_id=group_id,
                    member_id=member_id,
                    delta=0,
                    earned=0,
                    kind="makeup",
                    at=at,
                    day=today,
                    ref=f"makeup:{yesterday.isoformat()}",
                    balance_after=posting.balance,
                )
            )
        return posting, used + 1, streak + 1 if today in days else streak

    # --- counters and badges ------------------------------------------------------------------

    async def bump_counter(
        self,
        group_id: int,
        member_id: int,
        key: str,
        by: int,
        *,
        at: datetime,
        day: date,
        badge_rules: Sequence[AutoRule] = (),
    ) -> tuple[str, ...]:
        """Add ``by`` to a member counter and award any badge that now applies."""
        return await self.db.transact(self._bump_counter, group_id, member_id, key, by, at, day, badge_rules)

    def _bump_counter(
        self,
        conn: Connection,
        group_id: int,
        member_id: int,
        key: str,
        by: int,
        at: datetime,
        day: date,
        badge_rules: Sequence[AutoRule],
    ) -> tuple[str, ...]:
        self._bump(conn, group_id, member_id, key, by)
        return self._grant_due(conn, group_id, member_id, badge_rules, at, day, affected=(key,))

    async def counters(self, group_id: int, member_id: int, day: date) -> dict[str, int]:
        """Every counter a badge rule can name, for progress displays."""
        return await self.db.transact(self._counters, group_id, member_id, day, set(ALL_COUNTER_KEYS), {})

    async def badges_of(self, group_id: int, member_id: int) -> dict[str, datetime]:
        """The member's badge keys with when each was awarded."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(member_badges.c.badge_key, member_badges.c.awarded_at)
                    .where(member_badges.c.group_id == group_id, member_badges.c.member_id == member_id)
                    .order_by(member_badges.c.awarded_at, member_badges.c.badge_key)
                )
            ).all()
        return {r.badge_key: r.awarded_at for r in rows}

    async def grant_badge(
        self, group_id: int, member_id: int, key: str, *, at: datetime, actor_id: int | None
    ) -> bool:
        """Give a badge by hand; False when the member already holds it."""
        async with self.db.begin() as conn:
            stmt = dialect_insert(conn, member_badges).on_conflict_do_nothing(
                index_elements=["group_id", "member_id", "badge_key"]
            )
            result = await conn.execute(
                stmt,
                {
                    "group_id": group_id,
                    "member_id": member_id,
                    "badge_key": key,
                    "awarded_at": at,
                    "actor_id": actor_id,
                },
            )
        return bool(result.rowcount)

    async def revoke_badge(self, group_id: int, member_id: int, key: str) -> bool:
        """Take a badge away; False when the member did not hold it."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                delete(member_badges).where(
                    member_badges.c.group_id == group_id,
                    member_badges.c.member_id == member_id,
                    member_badges.c.badge_key == key,
                )
            )
        return bool(result.rowcount)

    # --- activity (batched from the hot path) -------------------------------------------------

    async def flush_activity(
        self,
        credits: Sequence[ActivityCredit],
        *,
        badge_rules: Sequence[AutoRule] = (),
    ) -> list[Posting]:
        """Persist a batch of activity in one transaction, in a fixed handful of statements.

        The daily cap is re-checked here against the ledger: the in-memory limiter on the hot path
        forgets its counts on restart, this sum does not. Returns one posting per credit, in order.
        """
        return await self.db.transact(self._flush_activity, credits, badge_rules)

    def _flush_activity(
        self, conn: Connection, credits: Sequence[ActivityCredit], badge_rules: Sequence[AutoRule]
    ) -> list[Posting]:
        out: list[Posting] = []
        for i in range(0, len(credits), _CHUNK):
            out.extend(self._flush_chunk(conn, credits[i : i + _CHUNK], badge_rules))
        return out

    def _flush_chunk(
        self, conn: Connection, credits: Sequence[ActivityCredit], badge_rules: Sequence[AutoRule]
    ) -> list[Posting]:
        member_ids = sorted({c.member_id for c in credits})
        group_ids = sorted({c.group_id for c in credits})
        counted = [
            {"group_id": c.group_id, "member_id": c.member_id, "key": "messages", "value": c.messages}
            for c in credits
            if c.messages
        ]
        if counted:
            stmt = dialect_insert(conn, member_counters)
            stmt = stmt.on_conflict_do_update(
                index_elements=["group_id", "member_id", "key"],
                set_={"value": member_counters.c.value + stmt.excluded.value},
            )
            conn.execute(stmt, counted)
        claiming = [c for c in credits if c.points > 0]
        granted: dict[tuple[int, int, date], int] = {}
        if claiming:
            already = {
                (int(r.group_id), int(r.member_id), r.day): int(r.total)
                for r in (
                    conn.execute(
                        select(
                            points_ledger.c.group_id,
                            points_ledger.c.member_id,
                            points_ledger.c.day,
                            func.sum(points_ledger.c.delta).label("total"),
                        )
                        .where(
                            points_ledger.c.group_id.in_(group_ids),
                            points_ledger.c.member_id.in_(sorted({c.member_id for c in claiming})),
                            points_ledger.c.day.in_(sorted({c.day for c in claiming})),
                            points_ledger.c.kind == "activity",
                        )
                        .group_by(points_ledger.c.group_id, points_ledger.c.member_id, points_ledger.c.day)
                    )
                ).all()
            }
            for c in claiming:
                k = (c.group_id, c.member_id, c.day)
                room = c.daily_cap - already.get(k, 0) - granted.get(k, 0)
                pts = max(0, min(c.points, room))
                if pts:
                    granted[k] = granted.get(k, 0) + pts
        per_member: dict[tuple[int, int], int] = {}
        for (gid, mid, _day), pts in granted.items():
            per_member[(gid, mid)] = per_member.get((gid, mid), 0) + pts
        if per_member:
            first = min(c.at for c in credits)
            conn.execute(
                dialect_insert(conn, points_balances).on_conflict_do_nothing(
                    index_elements=["group_id", "member_id"]
                ),
                [
                    {"group_id": g, "member_id": m, "balance": 0, "earned": 0, "updated_at": first}
                    for g, m in sorted(per_member)
                ],
            )
            last = max(c.at for c in credits)
            conn.execute(
                update(points_balances)
                .where(
                    points_balances.c.group_id == bindparam("g"),
                    points_balances.c.member_id == bindparam("m"),
                )
                .values(
                    balance=points_balances.c.balance + bindparam("d"),
                    earned=points_balances.c.earned + bindparam("d"),
                    updated_at=bindparam("at"),
                    earned_at=bindparam("at"),
                ),
                # Rows in key order, like every multi-row lock here: no deadlock with a transfer.
                [{"g": g, "m": m, "d": d, "at": last} for (g, m), d in sorted(per_member.items())],
            )
        balances = {
            (int(r.group_id), int(r.member_id)): (int(r.balance), int(r.earned))
            for r in (
                conn.execute(
                    select(
                        points_balances.c.group_id,
                        points_balances.c.member_id,
                        points_balances.c.balance,
                        points_balances.c.earned,
                    ).where(
                        points_balances.c.group_id.in_(group_ids), points_balances.c.member_id.in_(member_ids)
                    )
                )
            ).all()
        }
        # Ledger rows with running balances: a member's credits (one per local day) in order.
        running = {k: balances[k][0] - d for k, d in per_member.items()}
        ledger_rows: list[dict[str, Any]] = []
        for c in credits:
            pts = granted.pop((c.group_id, c.member_id, c.day), 0)
            if not pts:
                continue
            mk = (c.group_id, c.member_id)
            running[mk] += pts
            ledger_rows.append(
                {
                    "group_id": c.group_id,
                    "member_id": c.member_id,
                    "delta": pts,
                    "earned": pts,
                    "kind": "activity",
                    "reason": None,
                    "actor_id": None,
                    "ref": None,
                    "at": c.at,
                    "day": c.day,
                    "balance_after": running[mk],
                }
            )
        if ledger_rows:
            conn.execute(points_ledger.insert(), ledger_rows)
        new_badges = self._grant_batch(conn, credits, balances, badge_rules)
        out: list[Posting] = []
        for c in credits:
            mk = (c.group_id, c.member_id)
            bal, earned = balances.get(mk, (0, 0))
            before = earned - per_member.pop(mk, 0)
            out.append(Posting(c.member_id, bal, before, earned, tuple(new_badges.pop(mk, ()))))
        return out

    def _grant_batch(
        self,
        conn: Connection,
        credits: Sequence[ActivityCredit],
        balances: Mapping[tuple[int, int], tuple[int, int]],
        badge_rules: Sequence[AutoRule],
    ) -> dict[tuple[int, int], list[str]]:
        """Badges a flush can unlock (message counts, points earned), checked for the whole batch."""
        rules = [r for r in badge_rules if r[1] in ("messages", "points_earned")]
        if not rules:
            return {}
        keys = sorted({(c.group_id, c.member_id) for c in credits})
        member_ids = sorted({m for _, m in keys})
        group_ids = sorted({g for g, _ in keys})
        messages = {
            (int(r.group_id), int(r.member_id)): int(r.value)
            for r in (
                conn.execute(
                    select(
                        member_counters.c.group_id, member_counters.c.member_id, member_counters.c.value
                    ).where(
                        member_counters.c.group_id.in_(group_ids),
                        member_counters.c.member_id.in_(member_ids),
                        member_counters.c.key == "messages",
                    )
                )
            ).all()
        }
        due: dict[tuple[int, int], list[str]] = {}
        for k in keys:
            values = {"messages": messages.get(k, 0), "points_earned": balances.get(k, (0, 0))[1]}
            hits = [key for key, counter, threshold in rules if values[counter] >= threshold]
            if hits:
                due[k] = hits
        if not due:
            return {}
        owned = {
            (int(r.group_id), int(r.member_id), r.badge_key)
            for r in (
                conn.execute(
                    select(
                        member_badges.c.group_id, member_badges.c.member_id, member_badges.c.badge_key
                    ).where(
                        member_badges.c.group_id.in_(group_ids),
                        member_badges.c.member_id.in_(sorted({m for _, m in due})),
                        member_badges.c.badge_key.in_(sorted({b for hits in due.values() for b in hits})),
                    )
                )
            ).all()
        }
        new = {k: [b for b in hits if (k[0], k[1], b) not in owned] for k, hits in due.items()}
        new = {k: v for k, v in new.items() if v}
        at = max(c.at for c in credits)
        if new:
            conn.execute(
                member_badges.insert(),
                [
                    {"group_id": g, "member_id": m, "badge_key": b, "awarded_at": at}
                    for (g, m), badges in new.items()
                    for b in badges
                ],
            )
        return new

    # --- shop ---------------------------------------------------------------------------------

    async def add_item(
        self, group_id: int, name: str, cost: int, stock: int, limit: int | None, *, at: datetime
    ) -> ShopItem:
        """Put an item on sale."""
        async with self.db.begin() as conn:
            item_id = (
                await conn.execute(
                    shop_items.insert()
                    .values(
                        group_id=group_id,
                        name=name,
                        cost=cost,
                        stock=stock,
                        per_member_limit=limit,
                        active=True,
                        created_at=at,
                    )
                    .returning(shop_items.c.id)
                )
            ).scalar_one()
        return ShopItem(int(item_id), name, cost, stock, limit, True)

    async def items(self, group_id: int, *, include_inactive: bool = False) -> list[ShopItem]:
        """The group's items, cheapest first."""
        stmt = select(shop_items).where(shop_items.c.group_id == group_id)
        if not include_inactive:
            stmt = stmt.where(shop_items.c.active.is_(True))
        async with self.db.begin() as conn:
            rows = (await conn.execute(stmt.order_by(shop_items.c.cost, shop_items.c.id))).all()
        return [
            ShopItem(int(r.id), r.name, int(r.cost), int(r.stock), r.per_member_limit, bool(r.active))
            for r in rows
        ]

    async def remove_item(self, group_id: int, item_id: int) -> bool:
        """Take an item off sale; open redemptions of it stay to be fulfilled."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                update(shop_items)
                .where(
                    shop_items.c.group_id == group_id,
                    shop_items.c.id == item_id,
                    shop_items.c.active.is_(True),
                )
                .values(active=False)
            )
        return bool(result.rowcount)

    async def redeem(
        self, group_id: int, member_id: int, item_id: int, *, at: datetime, day: date
    ) -> Outcome:
        """Buy one of an item: ``ok`` (detail: redemption id, item), ``unknown``, ``sold_out``,
        ``over_limit`` (detail: limit) or ``not_enough`` (detail: cost, balance)."""
        try:
            posting, redemption_id, item = await self.db.transact(
                self._redeem, group_id, member_id, item_id, at, day
            )
        except _Refused as exc:
            return Outcome(exc.status, detail=exc.detail)
        return Outcome(
            "ok",
            posting,
            {
                "redemption": int(redemption_id),
                "item": item.name,
                "cost": int(item.cost),
                "stock": int(item.stock) - 1,
            },
        )

    def _redeem(
        self,
        conn: Connection,
        group_id: int,
        member_id: int,
        item_id: int,
        at: datetime,
        day: date,
    ) -> tuple[Posting, int, Any]:
        item = (
            conn.execute(
                select(shop_items).where(
                    shop_items.c.group_id == group_id,
                    shop_items.c.id == item_id,
                    shop_items.c.active.is_(True),
                )
            )
        ).first()
        if item is None:
            raise _Refused("unknown", limit=None)
        limit = item.per_member_limit
        if int(item.stock) <= 0:
            raise _Refused("sold_out", limit=limit)
        try:
            posting = self._post(
                conn,
                group_id,
                member_id,
                [Entry(-int(item.cost), "redeem", False)],
                at=at,
                day=day,
                reason=item.name,
                ref=f"item:{item.id}",
            )
        except InsufficientPoints as exc:
            raise _Refused("not_enough", cost=int(item.cost), balance=exc.balance) from exc
        if item.per_member_limit is not None:
            bought = int(
                (
                    conn.execute(
                        select(func.count())
                        .select_from(shop_redemptions)
                        .where(
                            shop_redemptions.c.item_id == item.id,
                            shop_redemptions.c.member_id == member_id,
                        )
                    )
                ).scalar_one()
            )
            if bought >= int(item.per_member_limit):
                raise _Refused("over_limit", limit=limit)
        taken = conn.execute(
            update(shop_items)
            .where(shop_items.c.id == item.id, shop_items.c.stock > 0)
            .values(stock=shop_items.c.stock - 1)
        )
        if not taken.rowcount:
            raise _Refused("sold_out", limit=limit)
        redemption_id = (
            conn.execute(
                shop_redemptions.insert()
                .values(
                    group_id=group_id,
                    item_id=item.id,
                    member_id=member_id,
                    cost=int(item.cost),
                    at=at,
                    status="open",
                )
                .returning(shop_redemptions.c.id)
            )
        ).scalar_one()
        return posting, int(redemption_id), item

    async def redemptions(self, group_id: int, *, open_only: bool, limit: int = 20) -> list[Redemption]:
        """Recent redemptions, newest first."""
        stmt = (
            select(shop_redemptions, shop_items.c.name)
            .join(shop_items, shop_items.c.id == shop_redemptions.c.item_id)
            .where(shop_redemptions.c.group_id == group_id)
        )
        if open_only:
            stmt = stmt.where(shop_redemptions.c.status == "open")
        async with self.db.begin() as conn:
            rows = (await conn.execute(stmt.order_by(shop_redemptions.c.id.desc()).limit(limit))).all()
        return [
            Redemption(int(r.id), int(r.item_id), r.name, r.member_id, int(r.cost), r.at, r.status, r.done_at)
            for r in rows
        ]

    async def complete_redemption(
        self, group_id: int, redemption_id: int, *, at: datetime, by: int | None
    ) -> Redemption | None:
        """Mark an open redemption fulfilled; None when there is no such open redemption."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                update(shop_redemptions)
                .where(
                    shop_redemptions.c.group_id == group_id,
                    shop_redemptions.c.id == redemption_id,
                    shop_redemptions.c.status == "open",
                )
                .values(status="done", done_at=at, done_by=by)
            )
            if not result.rowcount:
                return None
            r = (
                await conn.execute(
                    select(shop_redemptions, shop_items.c.name)
                    .join(shop_items, shop_items.c.id == shop_redemptions.c.item_id)
                    .where(shop_redemptions.c.id == redemption_id)
                )
            ).one()
        return Redemption(
            int(r.id), int(r.item_id), r.name, r.member_id, int(r.cost), r.at, r.status, r.done_at
        )

    # --- referrals ----------------------------------------------------------------------------

    async def record_invite(self, group_id: int, invitee_id: int, inviter_id: int, *, at: datetime) -> bool:
        """Remember who invited a new member; a member is only ever referred once per group."""
        if invitee_id == inviter_id:
            return False
        async with self.db.begin() as conn:
            stmt = dialect_insert(conn, referrals).on_conflict_do_nothing(
                index_elements=["group_id", "invitee_id"]
            )
            result = await conn.execute(
                stmt,
                {
                    "group_id": group_id,
                    "invitee_id": invitee_id,
                    "inviter_id": inviter_id,
                    "joined_at": at,
                    "state": "pending",
                    "amount": 0,
                },
            )
        return bool(result.rowcount)

    async def pending_invitees(self) -> set[tuple[int, int]]:
        """``(group_id, invitee_id)`` of every referral waiting for a first message."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(referrals.c.group_id, referrals.c.invitee_id).where(referrals.c.state == "pending")
                )
            ).all()
        return {(int(r.group_id), int(r.invitee_id)) for r in rows}

    async def credit_referral(
        self,
        group_id: int,
        invitee_id: int,
        amount: int,
        *,
        at: datetime,
        day: date,
        badge_rules: Sequence[AutoRule] = (),
    ) -> Posting | None:
        """Pay the inviter once the invitee has spoken; None when nothing was pending."""
        return await self.db.transact(
            self._credit_referral, group_id, invitee_id, amount, at, day, badge_rules
        )

    def _credit_referral(
        self,
        conn: Connection,
        group_id: int,
        invitee_id: int,
        amount: int,
        at: datetime,
        day: date,
        badge_rules: Sequence[AutoRule],
    ) -> Posting | None:
        claimed = conn.execute(
            update(referrals)
            .where(
                referrals.c.group_id == group_id,
                referrals.c.invitee_id == invitee_id,
                referrals.c.state == "pending",
            )
            .values(state="credited", amount=amount, credited_at=at)
            .returning(referrals.c.inviter_id)
        )
        inviter = claimed.scalar()
        if inviter is None:
            return None
        self._bump(conn, group_id, int(inviter), "invites", 1)
        posting = self._post(
            conn,
            group_id,
            int(inviter),
            [Entry(amount, "referral", True)],
            at=at,
            day=day,
            ref=f"invitee:{invitee_id}",
        )
        new = self._grant_due(
            conn,
            group_id,
            int(inviter),
            badge_rules,
            at,
            day,
            affected=("invites", "points_earned"),
            known={"points_earned": posting.earned_after},
        )
        return Posting(int(inviter), posting.balance, posting.earned_before, posting.earned_after, new)

    async def settle_leave(
        self, group_id: int, invitee_id: int, *, at: datetime, day: date, window: timedelta
    ) -> Posting | None:
        """The invitee left: inside ``window`` of joining, void the referral and claw back any
        credit (never below zero). Returns the inviter's posting when points were taken back."""
        return await self.db.transact(self._settle_leave, group_id, invitee_id, at, day, window)

    def _settle_leave(
        self,
        conn: Connection,
        group_id: int,
        invitee_id: int,
        at: datetime,
        day: date,
        window: timedelta,
    ) -> Posting | None:
        row = (
            conn.execute(
                select(referrals).where(
                    referrals.c.group_id == group_id, referrals.c.invitee_id == invitee_id
                )
            )
        ).first()
        if row is None or row.state not in ("pending", "credited") or at - row.joined_at > window:
            return None
        if row.state == "pending":
            conn.execute(
                update(referrals)
                .where(referrals.c.group_id == group_id, referrals.c.invitee_id == invitee_id)
                .values(state="void")
            )
            return None
        conn.execute(
            update(referrals)
            .where(referrals.c.group_id == group_id, referrals.c.invitee_id == invitee_id)
            .values(state="clawed_back")
        )
        self._bump(conn, group_id, int(row.inviter_id), "invites", -1)
        balance = (
            conn.execute(
                select(points_balances.c.balance).where(
                    points_balances.c.group_id == group_id, points_balances.c.member_id == row.inviter_id
                )
            )
        ).scalar()
        take = min(int(row.amount), int(balance or 0))
        return self._post(
            conn,
            group_id,
            int(row.inviter_id),
            [Entry(-take, "referral", True)],
            at=at,
            day=day,
            reason="clawback",
            ref=f"invitee:{invitee_id}",
        )

    # --- privacy --------------------------------------------------------------------------------

    async def export_member(self, group_id: int, member_id: int) -> dict[str, Any]:
        """Everything this module keeps about one member, as plain JSON-able values."""
        async with self.db.begin() as conn:

            async def rows(stmt: Any) -> list[dict[str, Any]]:
                return [
                    {
                        k: (v.isoformat() if isinstance(v, date | datetime) else v)
                        for k, v in r._mapping.items()
                    }
                    for r in (await conn.execute(stmt)).all()
                ]

            return {
                "balance": await rows(
                    select(points_balances.c.balance, points_balances.c.earned).where(
                        points_balances.c.group_id == group_id, points_balances.c.member_id == member_id
                    )
                ),
                "ledger": await rows(
                    select(
                        points_ledger.c.delta,
                        points_ledger.c.kind,
                        points_ledger.c.reason,
                        points_ledger.c.at,
                        points_ledger.c.balance_after,
                    )
                    .where(points_ledger.c.group_id == group_id, points_ledger.c.member_id == member_id)
                    .order_by(points_ledger.c.id)
                ),
                "checkins": await rows(
                    select(
                        checkins.c.day,
                        checkins.c.streak,
                        checkins.c.rank,
                        checkins.c.points,
                        checkins.c.makeup,
                    )
                    .where(checkins.c.group_id == group_id, checkins.c.member_id == member_id)
                    .order_by(checkins.c.day)
                ),
                "badges": await rows(
                    select(member_badges.c.badge_key, member_badges.c.awarded_at).where(
                        member_badges.c.group_id == group_id, member_badges.c.member_id == member_id
                    )
                ),
                "counters": await rows(
                    select(member_counters.c.key, member_counters.c.value).where(
                        member_counters.c.group_id == group_id, member_counters.c.member_id == member_id
                    )
                ),
                "redemptions": await rows(
                    select(
                        shop_redemptions.c.item_id,
                        shop_redemptions.c.cost,
                        shop_redemptions.c.at,
                        shop_redemptions.c.status,
                    ).where(
                        shop_redemptions.c.group_id == group_id, shop_redemptions.c.member_id == member_id
                    )
                ),
            }

    async def delete_member(self, group_id: int, member_id: int) -> None:
        """Forget a member here: their rows go; redemptions stay for the shop's books, unnamed."""
        async with self.db.begin() as conn:
            for table in (points_ledger, points_balances, checkins, member_badges, member_counters):
                await conn.execute(
                    delete(table).where(table.c.group_id == group_id, table.c.member_id == member_id)
                )
            await conn.execute(
                update(shop_redemptions)
                .where(shop_redemptions.c.group_id == group_id, shop_redemptions.c.member_id == member_id)
                .values(member_id=None)
            )
            await conn.execute(
                delete(referrals).where(
                    referrals.c.group_id == group_id,
                    (referrals.c.invitee_id == member_id) | (referrals.c.inviter_id == member_id),
                )
            )


def _select_one(conn: Connection) -> None:
    conn.execute(select(literal(1)))


def month_bounds(day: date) -> tuple[date, date]:
    """First and last day of ``day``'s month."""
    first = day.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return first, nxt - timedelta(days=1)


def iter_entries(items: Iterable[tuple[str, int]], earns: bool = True) -> list[Entry]:
    """``[(kind, amount)]`` as ledger entries."""
    return [Entry(a, k, earns) for k, a in items]


@functools.cache
def _checkin_facts() -> Any:
    """Today's row (streak, rank), yesterday's streak, today's highest rank so far and the
    member's total, as one SELECT of scalar subqueries with parameters g, m, d (day) and p (day before)."""
    mine = and_(checkins.c.group_id == bindparam("g"), checkins.c.member_id == bindparam("m"))

    def on(day_param: str, column: Any) -> Any:
        return select(column).where(mine, checkins.c.day == bindparam(day_param)).scalar_subquery()

    # The highest rank handed out today, not a count of today's rows: /forgetme deletes rows,
    # and a count it lowered handed out a rank still held (unique key) for the rest of the day.
    # Claims in a group are serialised (advisory lock / BEGIN IMMEDIATE), so max + 1 is free.
    taken = (
        select(func.coalesce(func.max(checkins.c.rank), 0))
        .where(checkins.c.group_id == bindparam("g"), checkins.c.day == bindparam("d"))
        .scalar_subquery()
    )
    total = select(func.count()).select_from(checkins).where(mine).scalar_subquery()
    return select(
        on("d", checkins.c.streak).label("streak"),
        on("d", checkins.c.rank).label("rank"),
        on("p", checkins.c.streak).label("prev"),
        taken.label("taken"),
        total.label("total"),
    )


@functools.cache
def _credit_statement(dialect: str) -> Any:
    """Insert-or-add a credit to a balance, returning the new balance and earned; built once
    per dialect. ``earned_at`` moves only when the credit counts as earned (non-null)."""
    base = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(points_balances)
    return base.on_conflict_do_update(
        index_elements=["group_id", "member_id"],
        set_={
            "balance": points_balances.c.balance + base.excluded.balance,
            "earned": points_balances.c.earned + base.excluded.earned,
            "updated_at": base.excluded.updated_at,
            "earned_at": func.coalesce(base.excluded.earned_at, points_balances.c.earned_at),
        },
    ).returning(points_balances.c.balance, points_balances.c.earned)
