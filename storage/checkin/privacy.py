"""A member's check-in data for export, and forgetting it (``/exportme``, ``/forgetme``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select, update

from storage.checkin.tables import (
    checkins,
    member_badges,
    member_counters,
    points_balances,
    points_ledger,
    referrals,
    shop_redemptions,
)
from storage.database import Database


class CheckinPrivacyRepo:
    """Everything ``storage.checkin`` keeps about one member: exported, or deleted."""

    def __init__(self, db: Database) -> None:
        self.db = db

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
