"""A group's own standard replies (``desk_replies``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from storage.database import Database
from storage.desk.tables import desk_replies as replies

#: The fields of a reply, in the order they are posted.
FIELDS = ("opening", "fact", "impact", "plan", "closing")


@dataclass(frozen=True, slots=True)
class ReplyRow:
    """One stored reply: its name, language and fields (``FIELDS`` → text)."""

    name: str
    lang: str
    fields: dict[str, str]


class ReplyRepo:
    """Standard replies a group has written or changed."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def all(self, group_id: int, lang: str) -> list[ReplyRow]:
        """The group's replies in one language, by name."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(replies)
                    .where(replies.c.group_id == group_id, replies.c.lang == lang)
                    .order_by(replies.c.name)
                )
            ).all()
        return [ReplyRow(r.name, r.lang, {f: getattr(r, f) for f in FIELDS}) for r in rows]

    async def get(self, group_id: int, name: str, lang: str) -> ReplyRow | None:
        """One reply, or None."""
        async with self.db.begin() as conn:
            r = (
                await conn.execute(
                    select(replies).where(
                        replies.c.group_id == group_id, replies.c.name == name, replies.c.lang == lang
                    )
                )
            ).first()
        return None if r is None else ReplyRow(r.name, r.lang, {f: getattr(r, f) for f in FIELDS})

    async def put(
        self, group_id: int, name: str, lang: str, fields: dict[str, str], by: str, at: datetime
    ) -> None:
        """Write a reply whole (insert or replace), in one transaction."""
        await self.db.transact(_put, group_id, name, lang, fields, by, at)

    async def remove(self, group_id: int, name: str, lang: str) -> bool:
        """Delete the group's own version; False when it had none."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                delete(replies).where(
                    replies.c.group_id == group_id, replies.c.name == name, replies.c.lang == lang
                )
            )
        return bool(result.rowcount)


def _put(
    conn: Connection, group_id: int, name: str, lang: str, fields: dict[str, str], by: str, at: datetime
) -> None:
    values = {f: fields.get(f, "") for f in FIELDS} | {"updated_by": by, "updated_at": at}
    where = (replies.c.group_id == group_id, replies.c.name == name, replies.c.lang == lang)
    if conn.execute(update(replies).where(*where).values(**values)).rowcount:
        return
    conn.execute(insert(replies).values(group_id=group_id, name=name, lang=lang, **values))
