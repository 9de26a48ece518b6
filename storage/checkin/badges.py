"""Member counters and badges: the counters a badge rule can name, and awarding badges.

A badge is a primary-key row, so it is awarded at most once however often it is re-evaluated.
``bump``, ``read_counters`` and ``grant_due`` are synchronous primitives for use inside another
aggregate's ``Database.transact`` function (a check-in, a posting, a referral credit).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection

from storage.checkin.tables import checkins, member_badges, member_counters, points_balances
from storage.checkin.values import ALL_COUNTER_KEYS, STORED_COUNTER_KEYS, AutoRule
from storage.database import Database
from storage.sql import dialect_insert


def bump(conn: Connection, group_id: int, member_id: int, key: str, by: int) -> None:
    """Add ``by`` to one stored counter (insert-or-add)."""
    stmt = dialect_insert(conn, member_counters)
    stmt = stmt.on_conflict_do_update(
        index_elements=["group_id", "member_id", "key"],
        set_={"value": member_counters.c.value + stmt.excluded.value},
    )
    conn.execute(stmt, {"group_id": group_id, "member_id": member_id, "key": key, "value": by})


def checkin_total(conn: Connection, group_id: int, member_id: int) -> int:
    """How many days the member has checked in (make-ups included)."""
    return int(
        (
            conn.execute(
                select(func.count())
                .select_from(checkins)
                .where(checkins.c.group_id == group_id, checkins.c.member_id == member_id)
            )
        ).scalar_one()
    )


def read_counters(
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
        counters["checkin_streak"] = int(last.streak) if last and last.day >= day - timedelta(days=1) else 0
    if "checkin_total" in missing:
        counters["checkin_total"] = checkin_total(conn, group_id, member_id)
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


def grant_due(
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
    counters = read_counters(conn, group_id, member_id, day, {r[1] for r in rules}, known or {})
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
            [{"group_id": group_id, "member_id": member_id, "badge_key": k, "awarded_at": at} for k in new],
        )
    return tuple(new)


class BadgeRepo:
    """Counters and badges outside a check-in: bumps, progress, manual grants and revokes."""

    def __init__(self, db: Database) -> None:
        self.db = db

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
        bump(conn, group_id, member_id, key, by)
        return grant_due(conn, group_id, member_id, badge_rules, at, day, affected=(key,))

    async def counters(self, group_id: int, member_id: int, day: date) -> dict[str, int]:
        """Every counter a badge rule can name, for progress displays."""
        return await self.db.transact(read_counters, group_id, member_id, day, set(ALL_COUNTER_KEYS), {})

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
