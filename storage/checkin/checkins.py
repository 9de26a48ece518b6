"""Daily check-ins and make-ups.

One check-in per member per local day is a unique key, not a read-then-write check; ranks of the
day are unique too, so two claims can never share one. A claim is one ``Database.transact``
function (no await inside): the hot path, tuned to run without a thread hop per statement.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from storage.checkin.badges import checkin_total, grant_due
from storage.checkin.ledger import post_entries
from storage.checkin.tables import checkins, points_ledger
from storage.checkin.values import (
    AutoRule,
    CheckinOutcome,
    CheckinStatus,
    Entry,
    InsufficientPoints,
    Itemizer,
    Outcome,
    Posting,
    Refused,
)
from storage.database import Database

#: Advisory-lock namespace for "ranks of the day in group N" (PostgreSQL only).
_RANK_LOCK = 0x51C1

#: How often a check-in is retried when another member took the same rank of the day.
_CLAIM_ATTEMPTS = 5


class CheckinRepo:
    """Check-ins, the member's standing and calendar, and make-ups: one transaction each."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def checkin(
        self,
        group_id: int,
        member_id: int,
        *,
        day: date,
        at: datetime,
        itemize: Itemizer,
        badge_rules: Sequence[AutoRule] = (),
        also: Sequence[tuple[int, int]] = (),
        actor_id: int | None = None,
    ) -> CheckinOutcome:
        """Claim ``day`` for the member; ``itemize(streak, rank)`` gives ``[(kind, amount)]``.

        ``also`` names the person's other memberships ``(group id, member id)`` in chats that
        share check-ins: a claim they made that day (before the accounts were one) counts, and
        the longer of their streaks continues. ``actor_id`` is the membership that checked in,
        when the points go to another (the person's primary).

        Unique keys decide between simultaneous claims. The same member twice: the loser's insert
        fails, its transaction rolls back whole, and it is answered as "already checked in". Two
        members taking the same rank of the day at once (possible on PostgreSQL, where readers
        do not queue behind the writer): the loser simply claims again and gets the next rank.
        """
        for _ in range(_CLAIM_ATTEMPTS - 1):
            try:
                return await self.db.transact(
                    self._claim, group_id, member_id, day, at, itemize, badge_rules, tuple(also), actor_id
                )
            except IntegrityError:
                existing = await self.db.transact(self._checkin_row, group_id, member_id, day)
                if existing is not None:
                    return existing
        return await self.db.transact(
            self._claim, group_id, member_id, day, at, itemize, badge_rules, tuple(also), actor_id
        )

    def _claim(
        self,
        conn: Connection,
        group_id: int,
        member_id: int,
        day: date,
        at: datetime,
        itemize: Itemizer,
        badge_rules: Sequence[AutoRule],
        also: tuple[tuple[int, int], ...] = (),
        actor_id: int | None = None,
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
        prev = int(facts.prev) if facts.prev is not None else 0
        if also:
            # The person's other memberships: a claim of theirs today is this claim; the longer
            # streak continues (max, not sum: a day counts once).
            for other_day, other_streak in conn.execute(
                select(checkins.c.day, checkins.c.streak).where(
                    or_(*(and_(checkins.c.group_id == g, checkins.c.member_id == m) for g, m in also)),
                    checkins.c.day.in_((day, day - timedelta(days=1))),
                )
            ).all():
                if other_day == day:
                    return CheckinOutcome(
                        False, day, int(other_streak), None, total_checkins=int(facts.total)
                    )
                prev = max(prev, int(other_streak))
        streak = prev + 1
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
        posting = post_entries(
            conn,
            group_id,
            member_id,
            [Entry(a, k, True) for k, a in items],
            at=at,
            day=day,
            actor_id=actor_id,
            ref=f"checkin:{day.isoformat()}",
        )
        new = grant_due(
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
        total = checkin_total(conn, group_id, member_id)
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
        total = checkin_total(conn, group_id, member_id)
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
        except Refused as exc:
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
            raise Refused("nothing_to_repair")
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
            raise Refused("limit")
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
        posting = post_entries(
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
