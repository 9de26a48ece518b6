"""One wallet for one person across a community's chats: ledger merges and splits.

A person's memberships in the chats that share points (linked accounts, or the same account in
two chats) keep one balance, on one of those memberships (the *primary*). Balances never jump:
every move is two ledger rows in one transaction, the source's ``merge_out``/``split_out``
(negative) and the target's ``merge_in``/``split_in`` (positive), each naming the other side in
``ref``, so for every member the balance is still the sum of its ledger. Lifetime ``earned``
moves with the balance (the rows carry it), so the person has one level too.

The rows' ``actor_id`` says whose points moved: a merge row names the membership the points
came from, and postings made on the primary by another membership name that membership. A
split gives a leaving side exactly the sum of the primary's rows that name it, within what the
primary holds.

Badges are one set too: a merge moves the other memberships' badge counters (messages, invites,
…) onto the primary, awards what the combined counters now reach, and gives every membership
of the person the badges any of them holds (with the date it was first awarded), so no
membership earns again a badge the person has, and an unlink takes nothing away
(``copy_badges``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection

from storage.checkin.badges import bump, grant_due
from storage.checkin.ledger import _credit_statement
from storage.checkin.tables import member_badges, member_counters, points_balances, points_ledger
from storage.checkin.values import AutoRule
from storage.database import Database
from storage.sql import dialect_insert

#: A balance's key: (group id, member id).
Key = tuple[int, int]


def _held(conn: Connection, key: Key) -> tuple[int, int]:
    """(balance, earned) of ``key``, locked until the commit (PostgreSQL; SQLite's writer
    already holds the database)."""
    row = conn.execute(
        select(points_balances.c.balance, points_balances.c.earned)
        .where(points_balances.c.group_id == key[0], points_balances.c.member_id == key[1])
        .with_for_update()
    ).first()
    return (int(row.balance), int(row.earned)) if row else (0, 0)


def _move(
    conn: Connection,
    source: Key,
    target: Key,
    amount: int,
    earned: int,
    *,
    held: tuple[int, int],
    kind: str,
    actor_id: int,
    at: datetime,
    day: date,
) -> None:
    """Move ``amount`` (and ``earned``) from ``source`` to ``target``: two ledger rows, both
    balances, one transaction. ``held`` is the source's (balance, earned), read under lock."""
    balance, lifetime = held
    conn.execute(
        update(points_balances)
        .where(points_balances.c.group_id == source[0], points_balances.c.member_id == source[1])
        .values(balance=balance - amount, earned=lifetime - earned, updated_at=at)
    )
    after: Any = conn.execute(
        _credit_statement(conn.dialect.name),
        {
            "group_id": target[0],
            "member_id": target[1],
            "balance": amount,
            "earned": earned,
            "updated_at": at,
            "earned_at": at if earned else None,
        },
    ).one()
    common = {"reason": None, "actor_id": actor_id, "at": at, "day": day}
    conn.execute(
        points_ledger.insert(),
        [
            {
                **common,
                "group_id": source[0],
                "member_id": source[1],
                "delta": -amount,
                "earned": -earned,
                "kind": f"{kind}_out",
                "ref": f"{kind}:to:{target[0]}:{target[1]}",
                "balance_after": balance - amount,
            },
            {
                **common,
                "group_id": target[0],
                "member_id": target[1],
                "delta": amount,
                "earned": earned,
                "kind": f"{kind}_in",
                "ref": f"{kind}:from:{source[0]}:{source[1]}",
                "balance_after": int(after.balance),
            },
        ],
    )


class WalletRepo:
    """Merges into a person's primary membership and splits out of it."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def merge(
        self,
        primary: Key,
        others: Sequence[Key],
        *,
        at: datetime,
        day: date,
        badge_rules: Sequence[AutoRule] = (),
    ) -> int:
        """Move every balance (and lifetime earned) and badge counter of ``others`` onto
        ``primary`` and give all of them one badge set; returns the points moved. Idempotent: a
        membership with nothing left moves nothing."""
        if not others:
            return 0
        return await self.db.transact(self._merge_all, primary, tuple(others), at, day, tuple(badge_rules))

    def _merge_all(
        self,
        conn: Connection,
        primary: Key,
        others: tuple[Key, ...],
        at: datetime,
        day: date,
        badge_rules: tuple[AutoRule, ...],
    ) -> int:
        moved = self._merge(conn, primary, others, at, day)
        keys = [o for o in others if o != primary]
        counted = _move_counters(conn, primary, keys)
        if badge_rules and (counted or moved):
            grant_due(conn, *primary, badge_rules, at, day, affected={*counted, "points_earned"})
        copy_badges(conn, [primary, *keys])
        return moved

    def _merge(self, conn: Connection, primary: Key, others: tuple[Key, ...], at: datetime, day: date) -> int:
        # One read of what could move: the common case (nothing) is a single statement.
        keys = [o for o in others if o != primary]
        candidates = conn.execute(
            select(points_balances.c.group_id, points_balances.c.member_id).where(
                points_balances.c.member_id.in_([k[1] for k in keys]),
                (points_balances.c.balance != 0) | (points_balances.c.earned != 0),
            )
        ).all()
        moved = 0
        for row in candidates:
            source = (int(row.group_id), int(row.member_id))
            if source not in keys:
                continue
            held = _held(conn, source)
            if held == (0, 0):
                continue  # a concurrent merge got there first
            _move(
                conn,
                source,
                primary,
                held[0],
                held[1],
                held=held,
                kind="merge",
                actor_id=source[1],
                at=at,
                day=day,
            )
            moved += held[0]
        return moved

    async def split(
        self,
        primary: Key,
        target: Key,
        leaving: Sequence[int],
        *,
        at: datetime,
        day: date,
        badges_to: Sequence[Key] = (),
    ) -> int:
        """Give ``target`` what the primary's ledger says belongs to the memberships
        ``leaving`` (rows naming them as actor), within what the primary holds; returns it.
        ``badges_to`` (the leaving memberships) keep the person's badge set."""
        if primary == target or not leaving:
            return 0
        return await self.db.transact(
            self._split_all, primary, target, tuple(leaving), at, day, tuple(badges_to)
        )

    def _split_all(
        self,
        conn: Connection,
        primary: Key,
        target: Key,
        leaving: tuple[int, ...],
        at: datetime,
        day: date,
        badges_to: tuple[Key, ...],
    ) -> int:
        if badges_to:
            copy_badges(conn, [primary, *badges_to])
        return self._split(conn, primary, target, leaving, at, day)

    def _split(
        self, conn: Connection, primary: Key, target: Key, leaving: tuple[int, ...], at: datetime, day: date
    ) -> int:
        held = _held(conn, primary)
        row = conn.execute(
            select(
                func.coalesce(func.sum(points_ledger.c.delta), 0),
                func.coalesce(func.sum(points_ledger.c.earned), 0),
            ).where(
                points_ledger.c.group_id == primary[0],
                points_ledger.c.member_id == primary[1],
                points_ledger.c.actor_id.in_(leaving),
            )
        ).one()
        # Spent more than it brought: nothing to take. More than is there: what is there.
        amount = max(0, min(int(row[0]), held[0]))
        earned = max(0, min(int(row[1]), held[1]))
        if amount == 0 and earned == 0:
            return 0
        actor = target[1] if target[1] in leaving else leaving[0]
        _move(conn, primary, target, amount, earned, held=held, kind="split", actor_id=actor, at=at, day=day)
        return amount


def _move_counters(conn: Connection, primary: Key, keys: Sequence[Key]) -> set[str]:
    """Add the stored badge counters of ``keys`` onto ``primary`` and clear theirs; returns the
    counters that moved."""
    if not keys:
        return set()
    rows = conn.execute(
        select(
            member_counters.c.group_id,
            member_counters.c.member_id,
            member_counters.c.key,
            member_counters.c.value,
        )
        .where(member_counters.c.member_id.in_([k[1] for k in keys]), member_counters.c.value != 0)
        # One lock order for every merge of this person: two at once wait, never deadlock.
        .order_by(member_counters.c.member_id, member_counters.c.key)
        .with_for_update()
    ).all()
    moved: set[str] = set()
    wanted = set(keys)
    for row in rows:
        source = (int(row.group_id), int(row.member_id))
        if source not in wanted:
            continue
        bump(conn, *primary, row.key, int(row.value))
        conn.execute(
            delete(member_counters).where(
                member_counters.c.group_id == source[0],
                member_counters.c.member_id == source[1],
                member_counters.c.key == row.key,
            )
        )
        moved.add(str(row.key))
    return moved


def copy_badges(conn: Connection, keys: Sequence[Key]) -> None:
    """Give each of ``keys`` (one person's memberships) every badge any of them holds, dated when
    it was first awarded. Nothing is taken away, and a badge already held is left as it is."""
    wanted = set(keys)
    rows = conn.execute(
        select(
            member_badges.c.group_id,
            member_badges.c.member_id,
            member_badges.c.badge_key,
            member_badges.c.awarded_at,
            member_badges.c.actor_id,
        ).where(member_badges.c.member_id.in_(sorted({k[1] for k in keys})))
    ).all()
    held: dict[Key, set[str]] = {k: set() for k in wanted}
    first: dict[str, tuple[datetime, int | None]] = {}
    for row in rows:
        key = (int(row.group_id), int(row.member_id))
        if key not in wanted:
            continue
        held[key].add(row.badge_key)
        if row.badge_key not in first or row.awarded_at < first[row.badge_key][0]:
            first[row.badge_key] = (row.awarded_at, row.actor_id)
    missing = [
        {
            "group_id": k[0],
            "member_id": k[1],
            "badge_key": b,
            "awarded_at": first[b][0],
            "actor_id": first[b][1],
        }
        for k in sorted(wanted)
        for b in sorted(first)
        if b not in held[k]
    ]
    if missing:
        stmt = dialect_insert(conn, member_badges).on_conflict_do_nothing(
            index_elements=["group_id", "member_id", "badge_key"]
        )
        conn.execute(stmt, missing)
