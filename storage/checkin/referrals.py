"""Referrals: who invited whom, the inviter's credit once the invitee speaks, and the
claw-back when the invitee leaves soon after joining."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from storage.checkin.badges import bump, grant_due
from storage.checkin.ledger import post_entries
from storage.checkin.tables import points_balances, referrals
from storage.checkin.values import AutoRule, Entry, Posting
from storage.database import Database
from storage.sql import dialect_insert


class ReferralRepo:
    """Invites recorded, credited and settled: one transaction each."""

    def __init__(self, db: Database) -> None:
        self.db = db

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
        bump(conn, group_id, int(inviter), "invites", 1)
        posting = post_entries(
            conn,
            group_id,
            int(inviter),
            [Entry(amount, "referral", True)],
            at=at,
            day=day,
            ref=f"invitee:{invitee_id}",
        )
        new = grant_due(
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
        bump(conn, group_id, int(row.inviter_id), "invites", -1)
        balance = (
            conn.execute(
                select(points_balances.c.balance).where(
                    points_balances.c.group_id == group_id, points_balances.c.member_id == row.inviter_id
                )
            )
        ).scalar()
        take = min(int(row.amount), int(balance or 0))
        return post_entries(
            conn,
            group_id,
            int(row.inviter_id),
            [Entry(-take, "referral", True)],
            at=at,
            day=day,
            reason="clawback",
            ref=f"invitee:{invitee_id}",
        )
