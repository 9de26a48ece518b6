"""The shop: items for sale and members' redemptions, paid from the points ledger."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from storage.checkin.ledger import post_entries
from storage.checkin.tables import shop_items, shop_redemptions
from storage.checkin.values import Entry, InsufficientPoints, Outcome, Posting, Redemption, Refused, ShopItem
from storage.database import Database


class ShopRepo:
    """Items, redemptions and their fulfilment: one transaction each."""

    def __init__(self, db: Database) -> None:
        self.db = db

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
        self,
        group_id: int,
        member_id: int,
        item_id: int,
        *,
        at: datetime,
        day: date,
        payer: tuple[int, int] | None = None,
    ) -> Outcome:
        """Buy one of an item: ``ok`` (detail: redemption id, item), ``unknown``, ``sold_out``,
        ``over_limit`` (detail: limit) or ``not_enough`` (detail: cost, balance).

        ``payer`` is the balance ``(group id, member id)`` that pays when it is not the buyer's
        own in this group (a community wallet kept in another chat)."""
        try:
            posting, redemption_id, item = await self.db.transact(
                self._redeem, group_id, member_id, item_id, at, day, payer
            )
        except Refused as exc:
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
        payer: tuple[int, int] | None = None,
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
            raise Refused("unknown", limit=None)
        limit = item.per_member_limit
        if int(item.stock) <= 0:
            raise Refused("sold_out", limit=limit)
        try:
            pays = payer or (group_id, member_id)
            posting = post_entries(
                conn,
                pays[0],
                pays[1],
                [Entry(-int(item.cost), "redeem", False)],
                at=at,
                day=day,
                reason=item.name,
                # The buyer, when the wallet is another membership of theirs.
                actor_id=member_id if pays[1] != member_id else None,
                ref=f"item:{item.id}",
            )
        except InsufficientPoints as exc:
            raise Refused("not_enough", cost=int(item.cost), balance=exc.balance) from exc
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
                raise Refused("over_limit", limit=limit)
        taken = conn.execute(
            update(shop_items)
            .where(shop_items.c.id == item.id, shop_items.c.stock > 0)
            .values(stock=shop_items.c.stock - 1)
        )
        if not taken.rowcount:
            raise Refused("sold_out", limit=limit)
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
