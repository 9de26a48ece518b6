"""Communities, their one-time codes, and the accounts a person linked across platforms."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection

from storage.community.tables import account_links, communities, community_chats, community_codes
from storage.database import Database


@dataclass(frozen=True)
class Community:
    """A named set of chats that share bans (when ``share_bans``)."""

    id: int
    name: str
    share_bans: bool
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class Code:
    """A pending one-time code: a community's invitation, or a person's account-link code."""

    code: str
    kind: str
    target: int
    platform: str
    user_id: str
    group_id: int | None
    expires_at: datetime


@dataclass(frozen=True)
class Account:
    """One platform account (``platform``, ``user_id``)."""

    platform: str
    user_id: str


def _community(row: Any) -> Community:
    return Community(row.id, row.name, bool(row.share_bans), row.created_by, row.created_at)


class CommunityRepo:
    """Communities and the chats in them."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def of_group(self, group_id: int) -> Community | None:
        """The community a chat belongs to, if any."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(communities)
                    .join(community_chats, community_chats.c.community_id == communities.c.id)
                    .where(community_chats.c.group_id == group_id)
                )
            ).first()
        return _community(row) if row else None

    async def create(self, name: str, group_id: int, by: str, now: datetime) -> Community:
        """A new community with ``group_id`` as its first chat."""

        def write(conn: Connection) -> int:
            new_id = int(
                conn.execute(
                    communities.insert().values(name=name, share_bans=True, created_by=by, created_at=now)
                ).inserted_primary_key[0]  # type: ignore[index]
            )
            conn.execute(
                community_chats.insert().values(
                    group_id=group_id, community_id=new_id, added_by=by, added_at=now
                )
            )
            return new_id

        new_id = await self.db.transact(write)
        return Community(new_id, name, True, by, now)

    async def add_chat(self, community_id: int, group_id: int, by: str, now: datetime) -> None:
        """Put a chat into a community (the key refuses a chat already in one)."""
        async with self.db.begin() as conn:
            await conn.execute(
                community_chats.insert().values(
                    group_id=group_id, community_id=community_id, added_by=by, added_at=now
                )
            )

    async def remove_chat(self, group_id: int) -> int | None:
        """Take a chat out of its community; the community goes with its last chat."""

        def write(conn: Connection) -> int | None:
            found = conn.execute(
                select(community_chats.c.community_id).where(community_chats.c.group_id == group_id)
            ).scalar()
            if found is None:
                return None
            conn.execute(delete(community_chats).where(community_chats.c.group_id == group_id))
            left = conn.execute(
                select(func.count())
                .select_from(community_chats)
                .where(community_chats.c.community_id == found)
            ).scalar_one()
            if left == 0:
                conn.execute(delete(communities).where(communities.c.id == found))
            return int(found)

        return await self.db.transact(write)

    async def chats(self, community_id: int) -> list[int]:
        """The group ids of a community's chats, in the order they joined."""
        async with self.db.begin() as conn:
            rows = await conn.execute(
                select(community_chats.c.group_id)
                .where(community_chats.c.community_id == community_id)
                .order_by(community_chats.c.added_at, community_chats.c.group_id)
            )
        return [int(r[0]) for r in rows]

    async def set_share_bans(self, community_id: int, on: bool) -> None:
        """Whether a sanction in one chat applies in all of them."""
        async with self.db.begin() as conn:
            await conn.execute(
                update(communities).where(communities.c.id == community_id).values(share_bans=on)
            )


class CodeRepo:
    """One-time codes: used up by their first use, right or wrong."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def put(self, code: Code) -> None:
        """Store a new code, replacing the same person's pending code of the same kind."""
        async with self.db.begin() as conn:
            await conn.execute(
                delete(community_codes).where(
                    community_codes.c.kind == code.kind,
                    community_codes.c.platform == code.platform,
                    community_codes.c.user_id == code.user_id,
                )
            )
            await conn.execute(
                community_codes.insert().values(
                    code=code.code,
                    kind=code.kind,
                    target=code.target,
                    platform=code.platform,
                    user_id=code.user_id,
                    group_id=code.group_id,
                    expires_at=code.expires_at,
                )
            )

    async def take(self, code: str, kind: str, now: datetime) -> Code | None:
        """Consume a code of ``kind``: deleted whether valid or expired, returned only when valid.

        One ``DELETE … RETURNING``: of two uses racing for the same code, exactly one gets the
        row back (a read, then a delete, would let both read it first).
        """

        def write(conn: Connection) -> Any:
            row = conn.execute(
                delete(community_codes)
                .where(community_codes.c.code == code, community_codes.c.kind == kind)
                .returning(*community_codes.c)
            ).first()
            conn.execute(delete(community_codes).where(community_codes.c.expires_at <= now))
            return row

        row = await self.db.transact(write)
        if row is None or row.expires_at <= now:
            return None
        return Code(row.code, row.kind, row.target, row.platform, row.user_id, row.group_id, row.expires_at)


class AccountLinkRepo:
    """A person's accounts: every account in ``account_links`` with one ``person_id``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def person_of(self, account: Account) -> int | None:
        """The person an account is linked as, if it is linked at all."""
        async with self.db.begin() as conn:
            found = (
                await conn.execute(
                    select(account_links.c.person_id).where(
                        account_links.c.platform == account.platform,
                        account_links.c.user_id == account.user_id,
                    )
                )
            ).scalar()
        return int(found) if found is not None else None

    async def accounts(self, account: Account) -> list[Account]:
        """Every account of the same person, ``account`` included (alone when not linked)."""
        async with self.db.begin() as conn:
            person = (
                select(account_links.c.person_id)
                .where(
                    account_links.c.platform == account.platform,
                    account_links.c.user_id == account.user_id,
                )
                .scalar_subquery()
            )
            rows = await conn.execute(
                select(account_links.c.platform, account_links.c.user_id)
                .where(account_links.c.person_id == person)
                .order_by(account_links.c.linked_at, account_links.c.platform, account_links.c.user_id)
            )
            found = [Account(r.platform, r.user_id) for r in rows]
        return found or [account]

    async def link(self, first: Account, second: Account, now: datetime) -> None:
        """Make ``second`` (and everyone linked with it) the same person as ``first``."""

        def write(conn: Connection) -> None:
            def person(account: Account) -> int | None:
                return conn.execute(
                    select(account_links.c.person_id).where(
                        account_links.c.platform == account.platform,
                        account_links.c.user_id == account.user_id,
                    )
                ).scalar()

            keep = person(first)
            if keep is None:
                keep = (
                    int(
                        conn.execute(
                            select(func.coalesce(func.max(account_links.c.person_id), 0))
                        ).scalar_one()
                    )
                    + 1
                )
                conn.execute(
                    account_links.insert().values(
                        platform=first.platform, user_id=first.user_id, person_id=keep, linked_at=now
                    )
                )
            other = person(second)
            if other is None:
                conn.execute(
                    account_links.insert().values(
                        platform=second.platform, user_id=second.user_id, person_id=keep, linked_at=now
                    )
                )
            elif other != keep:
                conn.execute(
                    update(account_links).where(account_links.c.person_id == other).values(person_id=keep)
                )

        await self.db.transact(write)

    async def unlink(self, account: Account) -> bool:
        """Take one account out of its person; a person left with one account is no link at all."""

        def write(conn: Connection) -> bool:
            person = conn.execute(
                select(account_links.c.person_id).where(
                    account_links.c.platform == account.platform,
                    account_links.c.user_id == account.user_id,
                )
            ).scalar()
            if person is None:
                return False
            conn.execute(
                delete(account_links).where(
                    account_links.c.platform == account.platform,
                    account_links.c.user_id == account.user_id,
                )
            )
            left = conn.execute(
                select(func.count()).select_from(account_links).where(account_links.c.person_id == person)
            ).scalar_one()
            if left == 1:
                conn.execute(delete(account_links).where(account_links.c.person_id == person))
            return True

        return await self.db.transact(write)


def accounts_on(accounts: Sequence[Account], platform: str) -> list[str]:
    """The user ids among ``accounts`` that live on ``platform``."""
    return [a.user_id for a in accounts if a.platform == platform]
