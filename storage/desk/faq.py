"""FAQ entries, their automatic answers and the votes on them (``desk_faq*``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection

from storage.database import Database
from storage.desk.tables import desk_faq as faq
from storage.desk.tables import desk_faq_answers as answers
from storage.desk.tables import desk_faq_votes as votes


@dataclass(frozen=True, slots=True)
class FaqRow:
    """One stored FAQ entry."""

    id: int
    group_id: int
    mode: str
    triggers: tuple[str, ...]
    answer: str
    lang: str | None
    cooldown: int
    #: Who it answers: ``all``, ``members`` (not moderators), ``newcomers``.
    audience: str = "all"


@dataclass(frozen=True, slots=True)
class FaqStat:
    """An entry's figures: automatic answers, and the votes under them."""

    entry_id: int
    hits: int
    helpful: int
    unhelpful: int


def _row(r: object) -> FaqRow:
    return FaqRow(
        r.id,  # type: ignore[attr-defined]
        r.group_id,  # type: ignore[attr-defined]
        r.mode,  # type: ignore[attr-defined]
        tuple(t for t in r.triggers.split("\n") if t),  # type: ignore[attr-defined]
        r.answer,  # type: ignore[attr-defined]
        r.lang,  # type: ignore[attr-defined]
        int(r.cooldown),  # type: ignore[attr-defined]
        r.audience,  # type: ignore[attr-defined]
    )


class FaqRepo:
    """A group's FAQ: entries, answers given, votes."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        group_id: int,
        mode: str,
        triggers: Sequence[str],
        answer: str,
        *,
        lang: str | None,
        cooldown: int,
        by: str,
        at: datetime,
    ) -> int:
        """Store a new entry; returns its id."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                insert(faq).values(
                    group_id=group_id,
                    mode=mode,
                    triggers="\n".join(triggers),
                    answer=answer,
                    lang=lang,
                    cooldown=cooldown,
                    created_by=by,
                    created_at=at,
                    updated_at=at,
                )
            )
            key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    async def add_many(
        self,
        group_id: int,
        rows: Sequence[tuple[str, Sequence[str], str, str | None, int]],
        *,
        by: str,
        at: datetime,
    ) -> int:
        """Store several entries (mode, triggers, answer, lang, cooldown) in one transaction."""
        if not rows:
            return 0
        values = [
            {
                "group_id": group_id,
                "mode": mode,
                "triggers": "\n".join(triggers),
                "answer": answer,
                "lang": lang,
                "cooldown": cooldown,
                "created_by": by,
                "created_at": at,
                "updated_at": at,
            }
            for mode, triggers, answer, lang, cooldown in rows
        ]
        async with self.db.begin() as conn:
            await conn.execute(insert(faq), values)
        return len(values)

    async def update(
        self,
        group_id: int,
        entry_id: int,
        at: datetime,
        *,
        mode: str | None = None,
        triggers: Sequence[str] | None = None,
        answer: str | None = None,
        lang: str | None = None,
        clear_lang: bool = False,
        cooldown: int | None = None,
        audience: str | None = None,
    ) -> bool:
        """Change the given fields of an entry of ``group_id``; False when there is none."""
        values: dict[str, object] = {"updated_at": at}
        if mode is not None:
            values["mode"] = mode
        if triggers is not None:
            values["triggers"] = "\n".join(triggers)
        if answer is not None:
            values["answer"] = answer
        if lang is not None or clear_lang:
            values["lang"] = lang
        if cooldown is not None:
            values["cooldown"] = cooldown
        if audience is not None:
            values["audience"] = audience
        async with self.db.begin() as conn:
            result = await conn.execute(
                update(faq).where(faq.c.id == entry_id, faq.c.group_id == group_id).values(**values)
            )
        return bool(result.rowcount)

    async def remove(self, group_id: int, entry_id: int) -> bool:
        """Delete an entry (its answers and votes go with it); False when there is none."""
        async with self.db.begin() as conn:
            await conn.execute(
                delete(answers).where(answers.c.entry_id == entry_id, answers.c.group_id == group_id)
            )
            result = await conn.execute(delete(faq).where(faq.c.id == entry_id, faq.c.group_id == group_id))
        return bool(result.rowcount)

    async def entries(self, group_id: int) -> list[FaqRow]:
        """The group's entries, oldest first."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(select(faq).where(faq.c.group_id == group_id).order_by(faq.c.id))
            ).all()
        return [_row(r) for r in rows]

    async def get(self, group_id: int, entry_id: int) -> FaqRow | None:
        """One entry of the group, or None."""
        async with self.db.begin() as conn:
            r = (
                await conn.execute(select(faq).where(faq.c.id == entry_id, faq.c.group_id == group_id))
            ).first()
        return None if r is None else _row(r)

    async def count(self, group_id: int) -> int:
        """How many entries the group has."""
        async with self.db.begin() as conn:
            found = await conn.execute(
                select(func.count()).select_from(faq).where(faq.c.group_id == group_id)
            )
            return int(found.scalar_one())

    # -- answers and votes ------------------------------------------------------------------------
    async def record_answer(
        self, group_id: int, entry_id: int, channel_id: str, member_id: int | None, at: datetime
    ) -> int:
        """Log one automatic answer (its cooldown and its hit); returns the answer's id."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                insert(answers).values(
                    group_id=group_id, entry_id=entry_id, channel_id=channel_id, member_id=member_id, at=at
                )
            )
            key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    async def last_answer(self, entry_id: int, channel_id: str) -> datetime | None:
        """When the entry last answered in the chat (None: never)."""
        async with self.db.begin() as conn:
            found = await conn.execute(
                select(func.max(answers.c.at)).where(
                    answers.c.entry_id == entry_id, answers.c.channel_id == channel_id
                )
            )
            value: datetime | None = found.scalar_one()
        return value

    async def answer_group(self, answer_id: int) -> int | None:
        """The group an answer was given in, or None for an unknown answer."""
        async with self.db.begin() as conn:
            found = await conn.execute(select(answers.c.group_id).where(answers.c.id == answer_id))
            value = found.scalar_one_or_none()
        return None if value is None else int(value)

    async def vote(self, answer_id: int, member_id: int, helpful: bool, at: datetime) -> bool:
        """Record a member's vote on an answer; False when they had voted on it already."""
        return await self.db.transact(_vote, answer_id, member_id, helpful, at)

    async def stats(self, group_id: int) -> dict[int, FaqStat]:
        """Hits and votes of every entry of the group that has any (absent: never fired)."""
        async with self.db.begin() as conn:
            hits = (
                await conn.execute(
                    select(answers.c.entry_id, func.count())
                    .where(answers.c.group_id == group_id)
                    .group_by(answers.c.entry_id)
                )
            ).all()
            voted = (
                await conn.execute(
                    select(answers.c.entry_id, votes.c.helpful, func.count())
                    .select_from(votes.join(answers, votes.c.answer_id == answers.c.id))
                    .where(answers.c.group_id == group_id)
                    .group_by(answers.c.entry_id, votes.c.helpful)
                )
            ).all()
        out = {int(e): FaqStat(int(e), int(n), 0, 0) for e, n in hits}
        for entry_id, helpful, n in voted:
            old = out.get(int(entry_id), FaqStat(int(entry_id), 0, 0, 0))
            if helpful:
                out[int(entry_id)] = FaqStat(old.entry_id, old.hits, old.helpful + int(n), old.unhelpful)
            else:
                out[int(entry_id)] = FaqStat(old.entry_id, old.hits, old.helpful, old.unhelpful + int(n))
        return out


def _vote(conn: Connection, answer_id: int, member_id: int, helpful: bool, at: datetime) -> bool:
    seen = conn.execute(
        select(votes.c.helpful).where(votes.c.answer_id == answer_id, votes.c.member_id == member_id)
    ).first()
    if seen is not None:
        return False
    conn.execute(insert(votes).values(answer_id=answer_id, member_id=member_id, helpful=helpful, at=at))
    return True
