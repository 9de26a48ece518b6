"""The points ledger: an append-only ledger with the balance kept in the same transaction.

Invariants (the tests check them on SQLite and PostgreSQL):
- for every member, ``points_balances.balance`` equals the sum of that member's ledger deltas;
- a balance never goes below zero: the guarded ``UPDATE … WHERE balance + delta >= 0`` refuses
  the spend and the whole operation rolls back (``InsufficientPoints``).

``post_entries`` is the synchronous primitive every other aggregate of this package (check-ins,
make-ups, the shop, referrals) calls inside its own ``Database.transact`` function: one
transaction per operation, no await inside, so the check-in hot path keeps its speed.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from storage.checkin.badges import bump, grant_due
from storage.checkin.tables import points_balances, points_ledger
from storage.checkin.values import AutoRule, Entry, InsufficientPoints, LedgerRow, Outcome, Posting, Refused
from storage.database import Database
from storage.sql import dialect_insert


def _balance_key(group_id: int, member_id: int) -> tuple[Any, Any]:
    """The WHERE of one member's balance row; built only off the credit path, where two
    expression comparisons cost a check-in about 0.1 ms of CPU."""
    return (points_balances.c.group_id == group_id, points_balances.c.member_id == member_id)


def post_entries(
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
    if not live:
        row = (
            conn.execute(
                select(points_balances.c.balance, points_balances.c.earned).where(
                    *_balance_key(group_id, member_id)
                )
            )
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
            .where(*_balance_key(group_id, member_id), points_balances.c.balance + total >= 0)
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
        current = conn.execute(
            select(points_balances.c.balance).where(*_balance_key(group_id, member_id))
        ).scalar()
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


class LedgerRepo:
    """Balances, history, transfers and leaderboards: one transaction per operation."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def round_trip(self) -> None:
        """One empty write transaction on the path a check-in takes: the bench's floor."""
        await self.db.transact(_select_one)

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
            bump(conn, group_id, member_id, key, by)
        posting = post_entries(
            conn, group_id, member_id, entries, at=at, day=day, reason=reason, actor_id=actor_id, ref=ref
        )
        new = grant_due(
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
        receiver_group_id: int | None = None,
        actor_id: int | None = None,
    ) -> Outcome:
        """Move ``amount`` between members: ``ok``, ``over_cap`` (detail: sent, cap) or ``not_enough``.

        ``receiver_group_id``: the receiver's balance lives in another chat (a community's
        wallets); ``actor_id``: the membership that sent it, when not the sender's wallet itself.
        """
        if amount <= 0 or sender_id == receiver_id:
            raise ValueError("a transfer moves a positive amount between two members")
        to_group = receiver_group_id if receiver_group_id is not None else group_id
        try:
            posting = await self.db.transact(
                self._transfer,
                group_id,
                sender_id,
                receiver_id,
                amount,
                at,
                day,
                daily_cap,
                reason,
                to_group,
                actor_id if actor_id is not None else sender_id,
            )
        except InsufficientPoints as exc:
            return Outcome("not_enough", detail={"balance": exc.balance})
        except Refused as exc:
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
        to_group: int,
        actor_id: int,
    ) -> Posting:
        if conn.dialect.name == "postgresql":
            # Lock both balances in id order first: A→B and B→A at the same moment
            # would otherwise each hold one row and wait for the other (a deadlock).
            self._lock_balances(
                conn, sorted(((group_id, sender_id), (to_group, receiver_id)), key=lambda k: k[1]), at
            )
        # Debit first: the sender's row lock serialises their transfers, so the
        # daily-cap sum below cannot be raced past.
        posting = post_entries(
            conn,
            group_id,
            sender_id,
            [Entry(-amount, "transfer", False)],
            at=at,
            day=day,
            reason=reason,
            actor_id=actor_id,
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
            raise Refused("over_cap", sent=sent - amount, cap=daily_cap)
        post_entries(
            conn,
            to_group,
            receiver_id,
            [Entry(amount, "transfer", False)],
            at=at,
            day=day,
            reason=reason,
            actor_id=sender_id,
            ref=f"from:{sender_id}",
        )
        return posting

    def _lock_balances(self, conn: Connection, keys: Sequence[tuple[int, int]], at: datetime) -> None:
        """Lock the balances ``(group id, member id)`` in member-id order (created empty if new)."""
        conn.execute(
            dialect_insert(conn, points_balances).on_conflict_do_nothing(
                index_elements=["group_id", "member_id"]
            ),
            [{"group_id": g, "member_id": m, "balance": 0, "earned": 0, "updated_at": at} for g, m in keys],
        )
        conn.execute(
            select(points_balances.c.member_id)
            .where(
                or_(
                    *(
                        and_(points_balances.c.group_id == g, points_balances.c.member_id == m)
                        for g, m in keys
                    )
                )
            )
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


def _select_one(conn: Connection) -> None:
    conn.execute(select(literal(1)))


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
