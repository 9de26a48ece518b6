"""The media store's one aggregate: pictures by content hash, and the posts that carry them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select

from storage.database import Database
from storage.media.tables import media, media_links
from storage.sql import dialect_insert


@dataclass(frozen=True, slots=True)
class StoredImage:
    """A stored picture's identity (its bytes are read separately, only when sent)."""

    id: int
    sha256: str
    kind: str
    size: int


class MediaRepo:
    """Pictures kept once by SHA-256, and the (group, owner) → picture links."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def keep(self, sha256: str, kind: str, data: bytes, now: datetime) -> tuple[StoredImage, bool]:
        """Store the picture unless a picture with the same hash is stored; returns it and
        whether it was new. Two concurrent stores of one picture leave one row (the unique hash
        and ON CONFLICT DO NOTHING), never an error."""
        async with self.db.begin() as conn:
            stmt = dialect_insert(conn, media).values(
                sha256=sha256, kind=kind, size=len(data), data=data, created_at=now
            )
            inserted = await conn.execute(stmt.on_conflict_do_nothing(index_elements=["sha256"]))
            row = (
                await conn.execute(
                    select(media.c.id, media.c.sha256, media.c.kind, media.c.size).where(
                        media.c.sha256 == sha256
                    )
                )
            ).one()
        return StoredImage(row.id, row.sha256, row.kind, row.size), bool(inserted.rowcount)

    async def data(self, media_id: int) -> bytes | None:
        """A stored picture's bytes."""
        async with self.db.begin() as conn:
            value = (await conn.execute(select(media.c.data).where(media.c.id == media_id))).scalar()
        return bytes(value) if value is not None else None

    async def attach(self, group_id: int, owner: str, media_id: int, now: datetime) -> None:
        """Make ``media_id`` the picture of ``owner`` in the group (replacing any before)."""
        async with self.db.begin() as conn:
            stmt = dialect_insert(conn, media_links).values(
                group_id=group_id, owner=owner, media_id=media_id, created_at=now
            )
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["group_id", "owner"],
                    set_={"media_id": stmt.excluded.media_id, "created_at": stmt.excluded.created_at},
                )
            )

    async def detach(self, group_id: int, owner: str) -> bool:
        """Take the picture off ``owner``; True when it had one."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                delete(media_links).where(media_links.c.group_id == group_id, media_links.c.owner == owner)
            )
        return bool(result.rowcount)

    async def attached(self, group_id: int, owner: str) -> StoredImage | None:
        """The picture ``owner`` carries in the group, if any."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(media.c.id, media.c.sha256, media.c.kind, media.c.size)
                    .join(media_links, media_links.c.media_id == media.c.id)
                    .where(media_links.c.group_id == group_id, media_links.c.owner == owner)
                )
            ).first()
        return StoredImage(row.id, row.sha256, row.kind, row.size) if row is not None else None

    async def prune(self, before: datetime) -> int:
        """Delete pictures no post carries any more and stored before ``before``; how many.

        The grace period keeps a picture just stored for a post being created (``keep`` and
        ``attach`` are two steps) from being pruned between them."""
        async with self.db.begin() as conn:
            linked = select(media_links.c.id).where(media_links.c.media_id == media.c.id).exists()
            result = await conn.execute(delete(media).where(~linked, media.c.created_at < before))
        return int(result.rowcount or 0)

    async def count(self) -> int:
        """How many distinct pictures are stored (for ``/status``-style figures and tests)."""
        async with self.db.begin() as conn:
            return int((await conn.execute(select(func.count()).select_from(media))).scalar() or 0)
