"""Moderator-chat links: which chat receives a group's alerts and may run its moderator commands.

A link is only written when both sides agreed: the group's admin asked for a one-time code
(``mod_chat_codes``) and an admin of the other chat accepted it there. Both ends are group rows,
so a Telegram chat-id migration (one UPDATE of ``groups``) carries the link along.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer, String, Table, delete, select
from sqlalchemy.engine import Row

from storage.database import Database
from storage.rights import declare, erase, rewrite
from storage.schema import metadata
from storage.types import UTCDateTime

mod_chat_links = Table(
    "mod_chat_links",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    # One chat is the moderator chat of at most one group, so a command typed there has one target.
    Column(
        "chat_group_id",
        Integer,
        ForeignKey("groups.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    # The channel accepted in, where it differs from the chat's scope (a Discord channel of a
    # server); NULL for platforms where a chat is its own scope, so a chat-id migration follows.
    Column("channel_id", String(128)),
    Column("requested_by", String(128), nullable=False),
    Column("accepted_by", String(128), nullable=False),
    Column("linked_at", UTCDateTime(), nullable=False),
)

mod_chat_codes = Table(
    "mod_chat_codes",
    metadata,
    Column("code", String(16), primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("created_by", String(128), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
)


@dataclass(frozen=True)
class ModChatLink:
    """A consented link: ``chat_group_id`` is the moderator chat of ``group_id``."""

    group_id: int
    chat_group_id: int
    channel_id: str | None
    requested_by: str
    accepted_by: str
    linked_at: datetime


@dataclass(frozen=True)
class LinkCode:
    """A pending one-time code a group's admin asked for."""

    code: str
    group_id: int
    created_by: str
    expires_at: datetime


def _link(row: Row[Any]) -> ModChatLink:
    return ModChatLink(
        group_id=row.group_id,
        chat_group_id=row.chat_group_id,
        channel_id=row.channel_id,
        requested_by=row.requested_by,
        accepted_by=row.accepted_by,
        linked_at=row.linked_at,
    )


class ModChatRepo:
    """Links and their pending codes."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def link_of(self, group_id: int) -> ModChatLink | None:
        """The moderator chat linked to a group, if any."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(select(mod_chat_links).where(mod_chat_links.c.group_id == group_id))
            ).first()
        return _link(row) if row else None

    async def link_served_by(self, chat_group_id: int) -> ModChatLink | None:
        """The link in which this chat is the moderator chat, if any."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(mod_chat_links).where(mod_chat_links.c.chat_group_id == chat_group_id)
                )
            ).first()
        return _link(row) if row else None

    async def put_code(self, group_id: int, code: str, by: str, expires_at: datetime) -> None:
        """Replace the group's pending code (a new request voids the old one)."""
        async with self.db.begin() as conn:
            await conn.execute(delete(mod_chat_codes).where(mod_chat_codes.c.group_id == group_id))
            await conn.execute(
                mod_chat_codes.insert().values(
                    code=code, group_id=group_id, created_by=by, expires_at=expires_at
                )
            )

    async def take_code(self, code: str, now: datetime) -> LinkCode | None:
        """Consume a code: it is deleted whether valid or expired, and returned only when valid."""
        # One DELETE … RETURNING: of two acceptances racing for one code, exactly one gets the
        # row (a read, then a delete, would let both read it first on PostgreSQL).
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    delete(mod_chat_codes).where(mod_chat_codes.c.code == code).returning(*mod_chat_codes.c)
                )
            ).first()
            await conn.execute(delete(mod_chat_codes).where(mod_chat_codes.c.expires_at <= now))
            if row is None:
                return None
        if row.expires_at <= now:
            return None
        return LinkCode(row.code, row.group_id, row.created_by, row.expires_at)

    async def link(
        self,
        group_id: int,
        chat_group_id: int,
        channel_id: str | None,
        requested_by: str,
        accepted_by: str,
        now: datetime,
    ) -> ModChatLink | None:
        """Write a link, replacing the group's previous one; returns the replaced link.

        The caller has checked that ``chat_group_id`` serves no other group; the unique key
        still refuses it should two acceptances race.
        """
        async with self.db.begin() as conn:
            old = (
                await conn.execute(select(mod_chat_links).where(mod_chat_links.c.group_id == group_id))
            ).first()
            await conn.execute(delete(mod_chat_links).where(mod_chat_links.c.group_id == group_id))
            await conn.execute(
                mod_chat_links.insert().values(
                    group_id=group_id,
                    chat_group_id=chat_group_id,
                    channel_id=channel_id,
                    requested_by=requested_by,
                    accepted_by=accepted_by,
                    linked_at=now,
                )
            )
        return _link(old) if old else None

    async def unlink(self, group_id: int) -> ModChatLink | None:
        """Remove the group's link; returns what was removed."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(select(mod_chat_links).where(mod_chat_links.c.group_id == group_id))
            ).first()
            if row is None:
                return None
            await conn.execute(delete(mod_chat_links).where(mod_chat_links.c.group_id == group_id))
        return _link(row)


# -- data rights (storage/rights.py; docs/privacy.md) ------------------------------------------


def _either_side(table: Table, group_id: int) -> Any:
    """A link is asked for in the group and accepted in the moderator chat: both are its groups."""
    return (table.c.group_id == group_id) | (table.c.chat_group_id == group_id)


declare(
    mod_chat_links,
    rewrite("requested_by", {"requested_by": "(forgotten)"}, holds="user"),
    rewrite("accepted_by", {"accepted_by": "(forgotten)"}, holds="user"),
    scope=_either_side,
    why="the link between a group and its moderator chat stays; who asked and who accepted is forgotten",
)
declare(
    mod_chat_codes,
    erase("created_by", holds="user"),
    why="a pending link code of theirs is dropped (it expires within minutes anyway)",
)
