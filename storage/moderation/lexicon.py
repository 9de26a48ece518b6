"""A group's lexicon: its own terms, its allow-list, and how often each folded key hit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select

from storage.database import Database
from storage.moderation.tables import mod_allow, mod_term_stats, mod_terms
from storage.sql import upsert


@dataclass(frozen=True, slots=True)
class TermRow:
    """A group lexicon entry."""

    id: int
    group_id: int
    term: str
    key: str
    level: str
    category: str
    mode: str
    created_by: str | None
    #: Shared with the group's community (when it shares its lexicon); False: this chat only.
    shared: bool = True


@dataclass(frozen=True, slots=True)
class AllowRow:
    """A group allow-list phrase."""

    id: int
    group_id: int
    term: str
    key: str


@dataclass(frozen=True, slots=True)
class TermStats:
    """Hits and undone hits of one folded key in one group."""

    key: str
    hits: int
    false_positives: int


def _term(r: Any) -> TermRow:
    return TermRow(r.id, r.group_id, r.term, r.key, r.level, r.category, r.mode, r.created_by, bool(r.shared))


class LexiconRepo:
    """Group terms, the allow-list and term hit statistics; one transaction per method."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def terms(self, group_id: int) -> list[TermRow]:
        """The group's lexicon entries, oldest first."""
        async with self.db.begin() as conn:
            rows = await conn.execute(
                select(mod_terms).where(mod_terms.c.group_id == group_id).order_by(mod_terms.c.id)
            )
            return [_term(r) for r in rows]

    async def shared_terms(self, group_ids: Sequence[int]) -> list[TermRow]:
        """The terms these groups share with their community, by group then age."""
        if not group_ids:
            return []
        async with self.db.begin() as conn:
            rows = await conn.execute(
                select(mod_terms)
                .where(mod_terms.c.group_id.in_(list(group_ids)), mod_terms.c.shared.is_(True))
                .order_by(mod_terms.c.group_id, mod_terms.c.id)
            )
            return [_term(r) for r in rows]

    async def delete_shared_term(self, group_ids: Sequence[int], key: str) -> list[int]:
        """Remove a shared term (by folded key, or this exact regex) from these groups; returns
        the group of each row removed."""
        if not group_ids:
            return []
        where = (
            mod_terms.c.group_id.in_(list(group_ids)),
            mod_terms.c.shared.is_(True),
            or_(mod_terms.c.key == key, mod_terms.c.term == key),
        )
        async with self.db.begin() as conn:
            found = [int(r.group_id) for r in await conn.execute(select(mod_terms.c.group_id).where(*where))]
            if found:
                await conn.execute(delete(mod_terms).where(*where))
            return found

    async def add_terms(
        self,
        group_id: int,
        entries: Sequence[tuple[str, str, str, str, str]],
        by: str,
        now: datetime,
        *,
        shared: bool = True,
    ) -> int:
        """Insert ``(term, key, level, category, mode)`` rows, updating existing keys; returns how
        many. ``shared=False``: the terms stay in this chat, not its community."""
        if not entries:
            return 0
        async with self.db.begin() as conn:
            await upsert(
                conn,
                mod_terms,
                [
                    {
                        "group_id": group_id,
                        "term": term,
                        "key": key,
                        "level": level,
                        "category": category,
                        "mode": mode,
                        "created_by": by,
                        "created_at": now,
                        "shared": shared,
                    }
                    for term, key, level, category, mode in entries
                ],
                keys=["group_id", "key", "mode"],
                update=["term", "level", "category", "created_by", "created_at", "shared"],
            )
        return len(entries)

    async def delete_term(self, group_id: int, key: str) -> int:
        """Remove every entry with this folded key (or this exact regex); returns how many."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                delete(mod_terms).where(
                    mod_terms.c.group_id == group_id, or_(mod_terms.c.key == key, mod_terms.c.term == key)
                )
            )
            return int(result.rowcount or 0)

    async def allow_terms(self, group_id: int) -> list[AllowRow]:
        """The group's allow-list."""
        async with self.db.begin() as conn:
            rows = await conn.execute(
                select(mod_allow).where(mod_allow.c.group_id == group_id).order_by(mod_allow.c.id)
            )
            return [AllowRow(r.id, r.group_id, r.term, r.key) for r in rows]

    async def add_allow(self, group_id: int, term: str, key: str, by: str, now: datetime) -> bool:
        """Add an allow-list phrase; False when its key is already there."""
        async with self.db.begin() as conn:
            found = await conn.execute(
                select(mod_allow.c.id).where(mod_allow.c.group_id == group_id, mod_allow.c.key == key)
            )
            if found.first() is not None:
                return False
            await conn.execute(
                mod_allow.insert().values(
                    group_id=group_id, term=term, key=key, created_by=by, created_at=now
                )
            )
            return True

    async def delete_allow(self, group_id: int, key: str) -> bool:
        """Remove an allow-list phrase."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                delete(mod_allow).where(mod_allow.c.group_id == group_id, mod_allow.c.key == key)
            )
            return bool(result.rowcount)

    async def count_hit(self, group_id: int, key: str, *, false_positive: bool = False) -> None:
        """Count a hit (or an undone one) of a folded key."""
        async with self.db.begin() as conn:
            await upsert(
                conn,
                mod_term_stats,
                {
                    "group_id": group_id,
                    "key": key,
                    "hits": 0 if false_positive else 1,
                    "false_positives": int(false_positive),
                },
                keys=["group_id", "key"],
                update={
                    "hits": mod_term_stats.c.hits + (0 if false_positive else 1),
                    "false_positives": mod_term_stats.c.false_positives + int(false_positive),
                },
            )

    async def term_stats(self, group_id: int) -> dict[str, TermStats]:
        """Hit counts by folded key."""
        async with self.db.begin() as conn:
            rows = await conn.execute(select(mod_term_stats).where(mod_term_stats.c.group_id == group_id))
            return {r.key: TermStats(r.key, r.hits, r.false_positives) for r in rows}
