"""Circles, their members and their pings (``circles``, ``circle_members``, ``circle_pings``).

Writes that can race are one ``Database.transact`` each: a circle's name is unique per group (two
moderators adding ``games`` at once get one circle and one "already exists"), a member's two
presses in the same millisecond meet the membership key (one join, one "already in"), and a
ping claims the group's rate limit under a lock on the group's row, so two moderators pinging
at once send one ping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection, Row

from storage.circles.tables import circle_members as cm
from storage.circles.tables import circle_pings as pings
from storage.circles.tables import circles
from storage.database import Database
from storage.schema import groups, members
from storage.sql import dialect_insert

Joined = Literal["joined", "already", "gone"]
MuteResult = Literal["changed", "same", "not_member"]


@dataclass(frozen=True, slots=True)
class Circle:
    """One circle of a group."""

    id: int
    group_id: int
    name: str
    name_key: str
    description: str | None
    role_id: str | None
    created_by: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Listener:
    """A member a ping reaches: in the circle, not muting it, still in the group."""

    member_id: int
    user_id: str
    display_name: str
    username: str | None


@dataclass(frozen=True, slots=True)
class CircleStat:
    """One circle's figures for ``/stats circles``."""

    circle_id: int
    name: str
    members: int
    muted: int
    joined_since: int
    pings_since: int


def _circle(row: Row[Any]) -> Circle:
    return Circle(
        row.id,
        row.group_id,
        row.name,
        row.name_key,
        row.description,
        row.role_id,
        row.created_by,
        row.created_at,
    )


def _add(
    conn: Connection,
    group_id: int,
    name: str,
    key: str,
    description: str | None,
    by: int | None,
    now: datetime,
) -> Circle | None:
    exists = conn.execute(
        select(circles.c.id).where(circles.c.group_id == group_id, circles.c.name_key == key)
    ).first()
    if exists is not None:
        return None
    result = conn.execute(
        insert(circles).values(
            group_id=group_id,
            name=name,
            name_key=key,
            description=description,
            created_by=by,
            created_at=now,
        )
    )
    pid = result.inserted_primary_key[0] if result.inserted_primary_key else None
    return _circle(conn.execute(select(circles).where(circles.c.id == pid)).one())


def _join(conn: Connection, circle_id: int, member_id: int, now: datetime) -> Joined:
    if conn.execute(select(circles.c.id).where(circles.c.id == circle_id)).first() is None:
        return "gone"  # removed between the press and now
    stmt = (
        dialect_insert(conn, cm)
        .values(circle_id=circle_id, member_id=member_id, joined_at=now, muted=0)
        .on_conflict_do_nothing()
    )
    return "joined" if conn.execute(stmt).rowcount else "already"


def _claim_ping(
    conn: Connection,
    group_id: int,
    circle_id: int,
    by: int | None,
    now: datetime,
    cooldown: timedelta,
    reached: int,
) -> datetime | None:
    # The group's row is the lock (FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already
    # serialises writers), so two pings at once read the latest one in turn.
    conn.execute(select(groups.c.id).where(groups.c.id == group_id).with_for_update())
    last = conn.execute(select(func.max(pings.c.sent_at)).where(pings.c.group_id == group_id)).scalar()
    if last is not None and now - last < cooldown:
        return last
    conn.execute(
        insert(pings).values(circle_id=circle_id, group_id=group_id, sent_by=by, sent_at=now, reached=reached)
    )
    return None


class CircleRepo:
    """Circles of every group."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self, group_id: int, name: str, key: str, description: str | None, by: int | None, now: datetime
    ) -> Circle | None:
        """A new circle; None when the group already has one of that name."""
        return await self.db.transact(_add, group_id, name, key, description, by, now)

    async def count(self, group_id: int) -> int:
        """How many circles the group has."""
        async with self.db.begin() as conn:
            value = await conn.scalar(
                select(func.count()).select_from(circles).where(circles.c.group_id == group_id)
            )
        return int(value or 0)

    async def by_name(self, group_id: int, key: str) -> Circle | None:
        """The group's circle of that (folded) name."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(circles).where(circles.c.group_id == group_id, circles.c.name_key == key)
                )
            ).first()
        return None if row is None else _circle(row)

    async def by_id(self, circle_id: int) -> Circle | None:
        """A circle by id alone (callers check its group)."""
        async with self.db.begin() as conn:
            row = (await conn.execute(select(circles).where(circles.c.id == circle_id))).first()
        return None if row is None else _circle(row)

    async def listing(self, group_id: int) -> list[tuple[Circle, int]]:
        """The group's circles by name, each with how many members it has."""
        size = select(cm.c.circle_id, func.count().label("n")).group_by(cm.c.circle_id).subquery()
        query = (
            select(circles, func.coalesce(size.c.n, 0).label("size"))
            .select_from(circles.outerjoin(size, size.c.circle_id == circles.c.id))
            .where(circles.c.group_id == group_id)
            .order_by(circles.c.name_key)
        )
        async with self.db.begin() as conn:
            rows = (await conn.execute(query)).all()
        return [(_circle(r), int(r.size)) for r in rows]

    async def remove(self, circle_id: int) -> bool:
        """Delete a circle with its memberships and pings; False when it was already gone."""
        async with self.db.begin() as conn:
            # Memberships and pings first: SQLite enforces the cascade only with foreign keys on.
            await conn.execute(delete(cm).where(cm.c.circle_id == circle_id))
            await conn.execute(delete(pings).where(pings.c.circle_id == circle_id))
            result = await conn.execute(delete(circles).where(circles.c.id == circle_id))
        return bool(result.rowcount)

    async def set_role(self, circle_id: int, role_id: str | None) -> None:
        """Bind the circle to a platform role (None: unbind)."""
        async with self.db.begin() as conn:
            await conn.execute(update(circles).where(circles.c.id == circle_id).values(role_id=role_id))

    async def join(self, circle_id: int, member_id: int, now: datetime) -> Joined:
        """Put the member in the circle: ``joined``, ``already`` in, or the circle is ``gone``."""
        return await self.db.transact(_join, circle_id, member_id, now)

    async def leave(self, circle_id: int, member_id: int) -> bool:
        """Take the member out; False when they were not in it."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                delete(cm).where(cm.c.circle_id == circle_id, cm.c.member_id == member_id)
            )
        return bool(result.rowcount)

    async def is_member(self, circle_id: int, member_id: int) -> bool:
        """Whether the member is in the circle."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(cm.c.muted).where(cm.c.circle_id == circle_id, cm.c.member_id == member_id)
                )
            ).first()
        return row is not None

    async def set_muted(self, circle_id: int, member_id: int, muted: bool) -> MuteResult:
        """Mute or unmute the circle's pings for one of its members."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(cm.c.muted).where(cm.c.circle_id == circle_id, cm.c.member_id == member_id)
                )
            ).first()
            if row is None:
                return "not_member"
            if bool(row.muted) == muted:
                return "same"
            await conn.execute(
                update(cm)
                .where(cm.c.circle_id == circle_id, cm.c.member_id == member_id)
                .values(muted=int(muted))
            )
        return "changed"

    async def listeners(self, circle_id: int) -> list[Listener]:
        """Who a ping of the circle reaches, in joining order: members who have not muted it,
        are still in the group and have not asked to be forgotten."""
        query = (
            select(members.c.id, members.c.user_id, members.c.display_name, members.c.username)
            .select_from(cm.join(members, members.c.id == cm.c.member_id))
            .where(
                cm.c.circle_id == circle_id,
                cm.c.muted == 0,
                members.c.left_at.is_(None),
                members.c.forgotten.is_(False),
                members.c.is_bot.is_(False),
            )
            .order_by(cm.c.joined_at, members.c.id)
        )
        async with self.db.begin() as conn:
            rows = (await conn.execute(query)).all()
        return [Listener(r.id, r.user_id, r.display_name, r.username) for r in rows]

    async def claim_ping(
        self, group_id: int, circle_id: int, by: int | None, now: datetime, cooldown: timedelta, reached: int
    ) -> datetime | None:
        """Record a ping unless the group pinged less than ``cooldown`` ago; returns the time of
        that earlier ping when refused, None when this one may go out."""
        return await self.db.transact(_claim_ping, group_id, circle_id, by, now, cooldown, reached)

    async def of_member(self, group_id: int, member_id: int) -> list[tuple[Circle, bool]]:
        """The member's circles in the group, with whether they muted each."""
        query = (
            select(circles, cm.c.muted)
            .select_from(circles.join(cm, cm.c.circle_id == circles.c.id))
            .where(circles.c.group_id == group_id, cm.c.member_id == member_id)
            .order_by(circles.c.name_key)
        )
        async with self.db.begin() as conn:
            rows = (await conn.execute(query)).all()
        return [(_circle(r), bool(r.muted)) for r in rows]

    async def stats(self, group_id: int, since: datetime) -> list[CircleStat]:
        """Each circle's size, muted members, joins since ``since`` and pings since ``since``."""
        out: list[CircleStat] = []
        async with self.db.begin() as conn:
            listed = (
                await conn.execute(
                    select(circles).where(circles.c.group_id == group_id).order_by(circles.c.name_key)
                )
            ).all()
            for row in listed:
                counts = (
                    await conn.execute(
                        select(
                            func.count(),
                            func.coalesce(func.sum(cm.c.muted), 0),
                            func.count().filter(cm.c.joined_at >= since),
                        ).where(cm.c.circle_id == row.id)
                    )
                ).one()
                sent = await conn.scalar(
                    select(func.count()).where(pings.c.circle_id == row.id, pings.c.sent_at >= since)
                )
                out.append(
                    CircleStat(
                        row.id, row.name, int(counts[0]), int(counts[1]), int(counts[2]), int(sent or 0)
                    )
                )
        return out

    async def member_ids(self, circle_ids: Sequence[int]) -> dict[int, list[int]]:
        """The members of each circle (muted or not), by circle id."""
        out: dict[int, list[int]] = {cid: [] for cid in circle_ids}
        if not circle_ids:
            return out
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(cm.c.circle_id, cm.c.member_id).where(cm.c.circle_id.in_(circle_ids))
                )
            ).all()
        for r in rows:
            out[r.circle_id].append(r.member_id)
        return out
