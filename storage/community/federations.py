"""Federations: ban lists kept by their admins, subscribed to by chats."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, tuple_
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import BindParameter

from storage.community.communities import Account
from storage.community.tables import (
    account_links,
    federation_admins,
    federation_bans,
    federation_chats,
    federations,
)
from storage.database import Database


@dataclass(frozen=True)
class Federation:
    """A shared ban list; ``code`` is what ``/fed join`` names."""

    id: int
    code: str
    name: str
    owner: Account
    created_at: datetime


@dataclass(frozen=True)
class FederationBan:
    """One account on a federation's ban list."""

    account: Account
    reason: str | None
    banned_by: str
    banned_at: datetime


@functools.cache
def _banned_person_statement() -> Any:
    """``FederationRepo.banned_person``'s query, built once (building it cost more than running it)."""
    links, bans = account_links.c, federation_bans.c
    platform: BindParameter[str] = bindparam("platform")
    user_id: BindParameter[str] = bindparam("user_id")
    person = select(links.person_id).where(links.platform == platform, links.user_id == user_id)
    linked = select(links.platform, links.user_id).where(links.person_id == person.scalar_subquery())
    return (
        select(federation_bans)
        .join(federation_chats, federation_chats.c.federation_id == bans.federation_id)
        .where(
            federation_chats.c.group_id == bindparam("group_id"),
            ((bans.platform == platform) & (bans.user_id == user_id))
            | tuple_(bans.platform, bans.user_id).in_(linked),
        )
        .limit(1)
    )


def _federation(row: Any) -> Federation:
    return Federation(row.id, row.code, row.name, Account(row.owner_platform, row.owner_user), row.created_at)


class FederationRepo:
    """Federations, their admins, subscribed chats and ban lists."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, code: str, name: str, owner: Account, now: datetime) -> Federation:
        """A new federation; its owner is its first admin."""

        def write(conn: Connection) -> int:
            new_id = int(
                conn.execute(
                    federations.insert().values(
                        code=code,
                        name=name,
                        owner_platform=owner.platform,
                        owner_user=owner.user_id,
                        created_at=now,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
            )
            conn.execute(
                federation_admins.insert().values(
                    federation_id=new_id, platform=owner.platform, user_id=owner.user_id, added_at=now
                )
            )
            return new_id

        return Federation(await self.db.transact(write), code, name, owner, now)

    async def by_code(self, code: str) -> Federation | None:
        """The federation ``code`` names."""
        async with self.db.begin() as conn:
            row = (await conn.execute(select(federations).where(federations.c.code == code))).first()
        return _federation(row) if row else None

    async def of_group(self, group_id: int) -> Federation | None:
        """The federation a chat subscribes to."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(federations)
                    .join(federation_chats, federation_chats.c.federation_id == federations.c.id)
                    .where(federation_chats.c.group_id == group_id)
                )
            ).first()
        return _federation(row) if row else None

    async def subscribe(self, federation_id: int, group_ids: Sequence[int], now: datetime) -> None:
        """Subscribe chats (replacing any federation they followed before)."""

        def write(conn: Connection) -> None:
            conn.execute(delete(federation_chats).where(federation_chats.c.group_id.in_(list(group_ids))))
            for group_id in group_ids:
                conn.execute(
                    federation_chats.insert().values(
                        group_id=group_id, federation_id=federation_id, joined_at=now
                    )
                )

        await self.db.transact(write)

    async def unsubscribe(self, group_id: int) -> bool:
        """A chat leaves its federation."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                delete(federation_chats).where(federation_chats.c.group_id == group_id)
            )
        return bool(result.rowcount)

    async def chats(self, federation_id: int) -> list[int]:
        """The group ids subscribed to a federation."""
        async with self.db.begin() as conn:
            rows = await conn.execute(
                select(federation_chats.c.group_id)
                .where(federation_chats.c.federation_id == federation_id)
                .order_by(federation_chats.c.group_id)
            )
        return [int(r[0]) for r in rows]

    async def admins(self, federation_id: int) -> list[Account]:
        """A federation's admins, the owner first."""
        async with self.db.begin() as conn:
            rows = await conn.execute(
                select(federation_admins.c.platform, federation_admins.c.user_id)
                .where(federation_admins.c.federation_id == federation_id)
                .order_by(
                    federation_admins.c.added_at, federation_admins.c.platform, federation_admins.c.user_id
                )
            )
        return [Account(r.platform, r.user_id) for r in rows]

    async def add_admin(self, federation_id: int, account: Account, now: datetime) -> bool:
        """Make an account an admin; False when it already was."""
        if account in await self.admins(federation_id):
            return False
        async with self.db.begin() as conn:
            await conn.execute(
                federation_admins.insert().values(
                    federation_id=federation_id,
                    platform=account.platform,
                    user_id=account.user_id,
                    added_at=now,
                )
            )
        return True

    async def remove_admin(self, federation_id: int, account: Account) -> bool:
        """Take an account's admin rights away."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                delete(federation_admins).where(
                    federation_admins.c.federation_id == federation_id,
                    federation_admins.c.platform == account.platform,
                    federation_admins.c.user_id == account.user_id,
                )
            )
        return bool(result.rowcount)

    async def ban(self, federation_id: int, bans: Sequence[FederationBan]) -> int:
        """Add accounts to the ban list (an account already on it keeps its first entry);
        returns how many were new."""

        def write(conn: Connection) -> int:
            wanted = {(b.account.platform, b.account.user_id): b for b in bans}
            present = (
                {
                    (r.platform, r.user_id)
                    for r in conn.execute(
                        select(federation_bans.c.platform, federation_bans.c.user_id).where(
                            federation_bans.c.federation_id == federation_id,
                            tuple_(federation_bans.c.platform, federation_bans.c.user_id).in_(list(wanted)),
                        )
                    )
                }
                if wanted
                else set()
            )
            new = [b for key, b in wanted.items() if key not in present]
            for chunk in range(0, len(new), 500):
                conn.execute(
                    federation_bans.insert(),
                    [
                        {
                            "federation_id": federation_id,
                            "platform": b.account.platform,
                            "user_id": b.account.user_id,
                            "reason": b.reason,
                            "banned_by": b.banned_by,
                            "banned_at": b.banned_at,
                        }
                        for b in new[chunk : chunk + 500]
                    ],
                )
            return len(new)

        return await self.db.transact(write)

    async def unban(self, federation_id: int, accounts: Sequence[Account]) -> int:
        """Take accounts off the ban list; returns how many were on it."""
        keys = [(a.platform, a.user_id) for a in accounts]
        if not keys:
            return 0
        async with self.db.begin() as conn:
            result = await conn.execute(
                delete(federation_bans).where(
                    federation_bans.c.federation_id == federation_id,
                    tuple_(federation_bans.c.platform, federation_bans.c.user_id).in_(keys),
                )
            )
        return int(result.rowcount or 0)

    async def banned(self, group_id: int, accounts: Sequence[Account]) -> FederationBan | None:
        """The ban of any of ``accounts`` in the federation a chat subscribes to, if any."""
        keys = [(a.platform, a.user_id) for a in accounts]
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(federation_bans)
                    .join(
                        federation_chats, federation_chats.c.federation_id == federation_bans.c.federation_id
                    )
                    .where(
                        federation_chats.c.group_id == group_id,
                        tuple_(federation_bans.c.platform, federation_bans.c.user_id).in_(keys),
                    )
                    .limit(1)
                )
            ).first()
        return _ban(row) if row else None

    async def banned_person(self, group_id: int, account: Account) -> FederationBan | None:
        """``banned(group_id, <every account of account's person>)`` in one statement.

        The join hot path: a raid is a thousand joins, and the two reads this replaces cost two
        transactions each (aiosqlite thread hops). One ``transact`` on SQLite runs on the event
        loop's own connection; a chat in no federation ends at the first index lookup.
        """

        def read(conn: Connection) -> Any:
            values = {"group_id": group_id, "platform": account.platform, "user_id": account.user_id}
            return conn.execute(_banned_person_statement(), values).first()

        row = await self.db.transact(read)
        return _ban(row) if row else None

    async def bans(self, federation_id: int) -> list[FederationBan]:
        """The whole ban list, oldest first (for the CSV export)."""
        async with self.db.begin() as conn:
            rows = await conn.execute(
                select(federation_bans)
                .where(federation_bans.c.federation_id == federation_id)
                .order_by(federation_bans.c.banned_at, federation_bans.c.platform, federation_bans.c.user_id)
            )
        return [_ban(r) for r in rows]

    async def ban_count(self, federation_id: int) -> int:
        """How many accounts are on the list."""
        async with self.db.begin() as conn:
            return int(
                (
                    await conn.execute(
                        select(func.count())
                        .select_from(federation_bans)
                        .where(federation_bans.c.federation_id == federation_id)
                    )
                ).scalar_one()
            )


def _ban(row: Any) -> FederationBan:
    return FederationBan(Account(row.platform, row.user_id), row.reason, row.banned_by, row.banned_at)
