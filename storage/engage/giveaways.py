"""Giveaways and their entries (``engage_giveaways``, ``engage_giveaway_entries``).

Every write that can race is one ``Database.transact``: two presses of one member in the same
millisecond meet the entries' primary key (the second is "already in"), an entry racing the draw
either lands before it (and takes part) or sees the giveaway closed, and the draw and a cancel are
one compare-and-set on ``status``, so a giveaway is drawn or refunded exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, Row

from storage.database import Database
from storage.engage.tables import engage_giveaway_entries as entries
from storage.engage.tables import engage_giveaways as giveaways
from storage.schema import members
from storage.sql import dialect_insert

Status = Literal["open", "drawn", "cancelled"]


@dataclass(frozen=True, slots=True)
class Giveaway:
    """One giveaway."""

    id: int
    group_id: int
    channel_id: str | None
    thread_id: str | None
    message_id: str | None
    prize: str
    winners: int
    ends_at: datetime
    status: str
    seed: str
    seed_hash: str
    price: int
    min_points: int
    min_days: int
    min_checkins: int
    created_by: int | None
    created_at: datetime
    drawn_at: datetime | None


@dataclass(frozen=True, slots=True)
class Entrant:
    """A member's entry, with what the draw and the announcement need of them."""

    member_id: int
    user_id: str
    name: str
    won: int

    @property
    def key(self) -> str:
        """The entrant in the draw: the member number, the same on every platform (a platform's
        account ids differ, and the draw must not depend on which platform the group is on)."""
        return str(self.member_id)


@dataclass(frozen=True, slots=True)
class EntryResult:
    """What an entry attempt did: ``entered``, ``already`` (one per member) or ``closed``."""

    outcome: Literal["entered", "already", "closed"]


@dataclass(frozen=True, slots=True)
class DrawResult:
    """The winners a draw (or reroll) picked, in the order picked, and the round it was."""

    giveaway: Giveaway
    winners: tuple[Entrant, ...]
    entrants: tuple[Entrant, ...]
    round: int


#: Picks winners: (entrants, how many, keys that won before) → the winning keys, in order.
Picker = Callable[[Sequence[Entrant], int, set[str]], list[str]]


def _giveaway(row: Row[Any]) -> Giveaway:
    return Giveaway(
        row.id,
        row.group_id,
        row.channel_id,
        row.thread_id,
        row.message_id,
        row.prize,
        row.winners,
        row.ends_at,
        row.status,
        row.seed,
        row.seed_hash,
        row.price,
        row.min_points,
        row.min_days,
        row.min_checkins,
        row.created_by,
        row.created_at,
        row.drawn_at,
    )


def _entrants(conn: Connection, giveaway_id: int) -> list[Entrant]:
    rows = conn.execute(
        select(entries.c.member_id, members.c.user_id, members.c.display_name, entries.c.won)
        .join(members, members.c.id == entries.c.member_id)
        .where(entries.c.giveaway_id == giveaway_id)
        .order_by(entries.c.member_id)
    ).all()
    return [Entrant(r.member_id, r.user_id, r.display_name, r.won) for r in rows]


def _lock(conn: Connection, giveaway_id: int, *, share: bool = False) -> Row[Any] | None:
    # PostgreSQL: entries take the row FOR SHARE (they never wait for each other), the draw and a
    # cancel FOR UPDATE (they wait for entries in flight, and entries after them see it closed).
    # SQLite's BEGIN IMMEDIATE already serialises every writer.
    stmt = select(giveaways).where(giveaways.c.id == giveaway_id).with_for_update(read=share)
    return conn.execute(stmt).first()


def _enter(conn: Connection, giveaway_id: int, member_id: int, now: datetime, paid: int) -> EntryResult:
    row = _lock(conn, giveaway_id, share=True)
    if row is None or row.status != "open" or row.ends_at <= now:
        return EntryResult("closed")
    stmt = (
        dialect_insert(conn, entries)
        .values(giveaway_id=giveaway_id, member_id=member_id, entered_at=now, paid=paid, won=0)
        .on_conflict_do_nothing()
    )
    inserted = conn.execute(stmt).rowcount == 1
    return EntryResult("entered" if inserted else "already")


def _draw(
    conn: Connection, giveaway_id: int, now: datetime, pick: Picker, reroll: int | None
) -> DrawResult | None:
    row = _lock(conn, giveaway_id)
    if row is None or row.status != ("drawn" if reroll is not None else "open"):
        return None
    everyone = _entrants(conn, giveaway_id)
    before = {e.key for e in everyone if e.won}
    rnd = max((e.won for e in everyone), default=0) + 1 if reroll is not None else 1
    chosen = pick(everyone, reroll if reroll is not None else row.winners, before)
    by_key = {e.key: e for e in everyone}
    winners = tuple(by_key[k] for k in chosen)
    for entrant in winners:
        conn.execute(
            update(entries)
            .where(entries.c.giveaway_id == giveaway_id, entries.c.member_id == entrant.member_id)
            .values(won=rnd)
        )
    if reroll is None:
        conn.execute(
            update(giveaways).where(giveaways.c.id == giveaway_id).values(status="drawn", drawn_at=now)
        )
    fresh = conn.execute(select(giveaways).where(giveaways.c.id == giveaway_id)).one()
    return DrawResult(
        _giveaway(fresh),
        tuple(Entrant(w.member_id, w.user_id, w.name, rnd) for w in winners),
        tuple(everyone),
        rnd,
    )


def _cancel(conn: Connection, giveaway_id: int) -> list[tuple[int, int]] | None:
    row = _lock(conn, giveaway_id)
    if row is None or row.status != "open":
        return None
    paid = conn.execute(
        select(entries.c.member_id, entries.c.paid).where(
            entries.c.giveaway_id == giveaway_id, entries.c.paid > 0
        )
    ).all()
    # The refunds are owed from here on: ``paid`` goes to 0 in the same transaction, so a second
    # cancel (or a crash and a retry) cannot refund twice.
    conn.execute(update(entries).where(entries.c.giveaway_id == giveaway_id).values(paid=0))
    conn.execute(update(giveaways).where(giveaways.c.id == giveaway_id).values(status="cancelled"))
    return [(r.member_id, r.paid) for r in paid]


class GiveawayRepo:
    """Giveaways of every group."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, **values: Any) -> Giveaway:
        """Store a new open giveaway; ``values`` are its columns but ``id`` and ``status``."""
        async with self.db.begin() as conn:
            result = await conn.execute(insert(giveaways).values(status="open", **values))
            gid = result.inserted_primary_key[0] if result.inserted_primary_key else None
            row = (await conn.execute(select(giveaways).where(giveaways.c.id == gid))).one()
        return _giveaway(row)

    async def set_message(self, giveaway_id: int, message_id: str) -> None:
        """Remember the post, so it can be edited in place."""
        async with self.db.begin() as conn:
            await conn.execute(
                update(giveaways).where(giveaways.c.id == giveaway_id).values(message_id=message_id)
            )

    async def get(self, group_id: int, giveaway_id: int) -> Giveaway | None:
        """A giveaway of the group (None: none with that id there)."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(giveaways).where(giveaways.c.id == giveaway_id, giveaways.c.group_id == group_id)
                )
            ).first()
        return _giveaway(row) if row else None

    async def by_id(self, giveaway_id: int) -> Giveaway | None:
        """A giveaway by id alone (for its scheduled draw)."""
        async with self.db.begin() as conn:
            row = (await conn.execute(select(giveaways).where(giveaways.c.id == giveaway_id))).first()
        return _giveaway(row) if row else None

    async def recent(self, group_id: int, limit: int = 10) -> list[Giveaway]:
        """The group's open giveaways, then the latest finished ones, newest first."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(giveaways)
                    .where(giveaways.c.group_id == group_id)
                    .order_by((giveaways.c.status == "open").desc(), giveaways.c.id.desc())
                    .limit(limit)
                )
            ).all()
        return [_giveaway(r) for r in rows]

    async def open_before(self, when: datetime) -> list[Giveaway]:
        """Open giveaways due before ``when`` (a draw the bot was down for)."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(giveaways).where(giveaways.c.status == "open", giveaways.c.ends_at <= when)
                )
            ).all()
        return [_giveaway(r) for r in rows]

    async def open_ids(self) -> list[int]:
        """Every open giveaway's id."""
        async with self.db.begin() as conn:
            rows = (await conn.execute(select(giveaways.c.id).where(giveaways.c.status == "open"))).all()
        return [r.id for r in rows]

    async def entry(self, giveaway_id: int, member_id: int) -> bool:
        """True when the member has entered."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(entries.c.member_id).where(
                        entries.c.giveaway_id == giveaway_id, entries.c.member_id == member_id
                    )
                )
            ).first()
        return row is not None

    async def count(self, giveaway_id: int) -> int:
        """How many have entered."""
        async with self.db.begin() as conn:
            value = (
                await conn.execute(select(func.count()).where(entries.c.giveaway_id == giveaway_id))
            ).scalar_one()
        return int(value)

    async def entrants(self, giveaway_id: int) -> list[Entrant]:
        """Everyone who entered, by member number (the order of the published list)."""
        async with self.db.begin() as conn:
            return await conn.run_sync(_entrants, giveaway_id)

    async def enter(self, giveaway_id: int, member_id: int, now: datetime, paid: int = 0) -> EntryResult:
        """Enter a member once; ``closed`` once it is drawn, cancelled or past its end."""
        return await self.db.transact(_enter, giveaway_id, member_id, now, paid)

    async def draw(self, giveaway_id: int, now: datetime, pick: Picker) -> DrawResult | None:
        """Draw an open giveaway (None: it was drawn or cancelled already)."""
        return await self.db.transact(_draw, giveaway_id, now, pick, None)

    async def reroll(self, giveaway_id: int, count: int, now: datetime, pick: Picker) -> DrawResult | None:
        """Pick ``count`` more winners among those who have not won (None: not drawn yet)."""
        return await self.db.transact(_draw, giveaway_id, now, pick, count)

    async def cancel(self, giveaway_id: int) -> list[tuple[int, int]] | None:
        """Cancel an open giveaway; returns the (member, points) to refund, None when not open."""
        return await self.db.transact(_cancel, giveaway_id)
