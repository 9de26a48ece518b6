"""Raids in progress (``antispam_raids``) and their newcomers (``antispam_raid_joiners``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, delete, func, select

from storage.antispam.tables import antispam_raid_joiners as joiners
from storage.antispam.tables import antispam_raids as raids
from storage.database import Database
from storage.schema import members
from storage.sql import dialect_insert, upsert


@dataclass(frozen=True, slots=True)
class RaidJoinerRow:
    """One newcomer of a raid."""

    member_id: int
    user_id: str
    name: str
    banned: bool
    released: bool
    wrong: int


@dataclass(frozen=True, slots=True)
class RaidRow:
    """A raid in progress, with the newcomers written so far (``joiners``: only changed ones
    when saving)."""

    group_id: int
    number: int
    started_at: datetime
    reason: str
    last_surge: datetime
    until: datetime | None
    removed: int
    notice: str | None
    alerts: str
    joiners: tuple[RaidJoinerRow, ...] = field(default=())


_RAID_COLUMNS = ("number", "started_at", "reason", "last_surge", "until", "removed", "notice", "alerts")
_JOINER_COLUMNS = ("user_id", "name", "banned", "released", "wrong")


class RaidRepo:
    """Raid rows: written by the batcher while a raid runs, read once at start."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def save(self, ended: Sequence[int], rows: Sequence[RaidRow]) -> None:
        """In one transaction: forget the raids that ended, then write the ones running."""
        async with self.db.begin() as conn:
            if ended:
                await conn.execute(delete(joiners).where(joiners.c.group_id.in_(list(ended))))
                await conn.execute(delete(raids).where(raids.c.group_id.in_(list(ended))))
            for row in rows:
                stmt = dialect_insert(conn, raids)
                kept = {c: stmt.excluded[c] for c in _RAID_COLUMNS}
                # The notice and alerts are posted once, by the worker whose claim won; another
                # worker that joined the raid before it read them back must not blank them.
                kept["notice"] = func.coalesce(stmt.excluded.notice, raids.c.notice)
                kept["alerts"] = case(
                    (stmt.excluded.alerts == "[]", raids.c.alerts), else_=stmt.excluded.alerts
                )
                await conn.execute(
                    stmt.on_conflict_do_update(index_elements=["group_id"], set_=kept),
                    {"group_id": row.group_id, **{c: getattr(row, c) for c in _RAID_COLUMNS}},
                )
                values = [
                    {
                        "group_id": row.group_id,
                        "member_id": j.member_id,
                        "user_id": j.user_id,
                        "name": j.name[:256],
                        "banned": int(j.banned),
                        "released": int(j.released),
                        "wrong": j.wrong,
                    }
                    for j in row.joiners
                ]
                if values:
                    await upsert(
                        conn, joiners, values, keys=("group_id", "member_id"), update=_JOINER_COLUMNS
                    )

    async def claim(self, row: RaidRow) -> bool:
        """Write a new raid's row unless the group has one: True when this one is the raid.

        Workers sharing PostgreSQL that detect the same surge at once both try; the primary key
        (one raid per group) lets exactly one insert win, so exactly one posts the notice."""
        async with self.db.begin() as conn:
            stmt = dialect_insert(conn, raids).values(
                group_id=row.group_id, **{c: getattr(row, c) for c in _RAID_COLUMNS}
            )
            won = await conn.execute(
                stmt.on_conflict_do_nothing(index_elements=["group_id"]).returning(raids.c.group_id)
            )
            return won.first() is not None

    async def load(self) -> list[RaidRow]:
        """Every raid in progress with all its newcomers."""
        async with self.db.begin() as conn:
            found = (await conn.execute(select(raids))).all()
            people = (await conn.execute(select(joiners))).all()
        by_group: dict[int, list[RaidJoinerRow]] = {}
        for p in people:
            by_group.setdefault(p.group_id, []).append(
                RaidJoinerRow(p.member_id, p.user_id, p.name, bool(p.banned), bool(p.released), p.wrong)
            )
        return [
            RaidRow(
                r.group_id,
                r.number,
                r.started_at,
                r.reason,
                r.last_surge,
                r.until,
                r.removed,
                r.notice,
                r.alerts,
                tuple(by_group.get(r.group_id, ())),
            )
            for r in found
        ]

    async def joined_after(self, group_id: int, since: datetime) -> list[tuple[int, str, str, bool]]:
        """``(member id, user id, name, is a bot)`` of a group's members whose latest join is
        after ``since``, oldest join first (the newcomers a raid read back after a crash may miss)."""
        async with self.db.begin() as conn:
            rows = await conn.execute(
                select(members.c.id, members.c.user_id, members.c.display_name, members.c.is_bot)
                .where(members.c.group_id == group_id, members.c.joined_at > since)
                .order_by(members.c.joined_at, members.c.id)
            )
        return [(int(r[0]), str(r[1]), str(r[2]), bool(r[3])) for r in rows]
