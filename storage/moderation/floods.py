"""A burst of flooders written at once: their alerts, mutes and audit lines in one transaction.

One flooder used to cost six writes (alert, sanction, lift job, two audit lines, the alert's
steps) and one moderator post; fifty flooders within a few seconds, three hundred writes. The
burst (``handlers.moderation.floods``) mutes each at once and hands the rest here when it closes.

Until then each muted flooder is one row of ``mod_flood_held`` (``hold``: one insert, no index
but the key), so a crash inside the burst loses nothing: the next start hands what is left to
``record`` (``held``). ``record`` deletes the held rows it writes in its own transaction and
writes only the ones it could delete, so two writers of one row (a restarted worker and the
burst's own, on a shared database) write it once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from storage.database import Database
from storage.moderation.tables import mod_alerts, mod_flood_held, mod_log, mod_sanctions


@dataclass(frozen=True, slots=True)
class FloodRecord:
    """One flooder of a burst: what was done to them, as the single path would have written it."""

    member_id: int
    user_id: str
    at: datetime
    #: ``moderation.flood.<kind>`` text for the alert (rate or repetition).
    excerpt: str
    #: The flood's audit detail: ``<kind> <steps>``.
    flood_detail: str
    #: The alert's steps (``Step.as_dict`` each).
    steps: Sequence[dict[str, Any]]
    #: The mute held: a sanction row is written (and the earlier open mute closed).
    muted: bool
    until: datetime | None
    #: The mute's own audit detail (``until=… reason=flood``).
    mute_detail: str

    def to_json(self) -> str:
        """The record as ``mod_flood_held`` keeps it."""
        return json.dumps(
            {
                "user_id": self.user_id,
                "excerpt": self.excerpt,
                "flood_detail": self.flood_detail,
                "steps": list(self.steps),
                "muted": self.muted,
                "until": self.until.isoformat() if self.until is not None else None,
                "mute_detail": self.mute_detail,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, member_id: int, at: datetime, text: str) -> FloodRecord:
        """A record ``to_json`` wrote."""
        data = json.loads(text)
        until = data.get("until")
        return cls(
            member_id=member_id,
            user_id=str(data["user_id"]),
            at=at,
            excerpt=str(data["excerpt"]),
            flood_detail=str(data["flood_detail"]),
            steps=list(data.get("steps") or []),
            muted=bool(data["muted"]),
            until=datetime.fromisoformat(until) if until else None,
            mute_detail=str(data["mute_detail"]),
        )


@dataclass(frozen=True, slots=True)
class HeldRow:
    """A flooder held in ``mod_flood_held``: its row id, group and record."""

    id: int
    group_id: int
    record: FloodRecord


@dataclass(frozen=True, slots=True)
class FloodWritten:
    """Ids given to one record: its alert and, when the mute held, its sanction."""

    alert_id: int
    sanction_id: int | None


class FloodRepo:
    """Writes a burst of floods."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def hold(self, group_id: int, record: FloodRecord) -> int:
        """Keep one muted flooder until the burst is written (one insert); returns its row id."""

        def write(conn: Connection) -> int:
            statement = mod_flood_held.insert().values(
                group_id=group_id, member_id=record.member_id, at=record.at, record=record.to_json()
            )
            return _insert_id(conn, statement)

        return await self.db.transact(write)

    async def held(self, *, before: datetime | None = None) -> list[HeldRow]:
        """The flooders held (those held before ``before``), oldest first."""
        query = select(mod_flood_held).order_by(mod_flood_held.c.id)
        if before is not None:
            query = query.where(mod_flood_held.c.at < before)
        async with self.db.begin() as conn:
            rows = (await conn.execute(query)).all()
        return [HeldRow(r.id, r.group_id, FloodRecord.from_json(r.member_id, r.at, r.record)) for r in rows]

    async def record(
        self,
        group_id: int,
        records: Sequence[FloodRecord],
        actor: str,
        held: Sequence[int | None] = (),
    ) -> list[FloodWritten | None]:
        """Every record's alert (open, flood, yellow), sanction and two audit lines, in one
        transaction; ids in the order of ``records``.

        ``held`` gives each record's ``mod_flood_held`` row (None: not held). Those rows are
        deleted in the same transaction, and a record whose row is gone already (another writer
        took it) is not written again: its place in the result is None."""
        held_ids = [h for h in held if h is not None]

        def write(conn: Connection) -> list[FloodWritten | None]:
            taken: set[int] = set()
            if held_ids:
                result = conn.execute(
                    delete(mod_flood_held)
                    .where(mod_flood_held.c.id.in_(held_ids))
                    .returning(mod_flood_held.c.id)
                )
                taken = {int(row[0]) for row in result}
            out: list[FloodWritten | None] = []
            for i, r in enumerate(records):
                row_id = held[i] if i < len(held) else None
                if row_id is not None and row_id not in taken:
                    out.append(None)
                    continue
                alert_id = _insert_id(
                    conn,
                    mod_alerts.insert().values(
                        group_id=group_id,
                        kind="flood",
                        level="yellow",
                        category="flood",
                        member_id=r.member_id,
                        user_id=r.user_id,
                        excerpt=r.excerpt,
                        status="open",
                        created_at=r.at,
                        steps=json.dumps(list(r.steps), ensure_ascii=False),
                        refs="[]",
                        reporters=0,
                        credit_delta=0,
                        sanction="mute",
                    ),
                )
                sanction_id = None
                if r.muted:
                    conn.execute(
                        update(mod_sanctions)
                        .where(
                            mod_sanctions.c.member_id == r.member_id,
                            mod_sanctions.c.kind == "mute",
                            mod_sanctions.c.lifted_at.is_(None),
                        )
                        .values(lifted_at=r.at)
                    )
                    sanction_id = _insert_id(
                        conn,
                        mod_sanctions.insert().values(
                            group_id=group_id,
                            member_id=r.member_id,
                            user_id=r.user_id,
                            kind="mute",
                            until=r.until,
                            created_at=r.at,
                            reason="flood",
                        ),
                    )
                conn.execute(
                    mod_log.insert(),
                    [
                        _log(group_id, r, actor, "mute" if r.muted else "mute_failed", alert_id),
                        _log(group_id, r, actor, "flood", alert_id),
                    ],
                )
                out.append(FloodWritten(alert_id, sanction_id))
            return out

        return await self.db.transact(write)


def _insert_id(conn: Connection, statement: Any) -> int:
    inserted = conn.execute(statement).inserted_primary_key
    assert inserted is not None
    return int(inserted[0])


def _log(group_id: int, r: FloodRecord, actor: str, action: str, alert_id: int) -> dict[str, Any]:
    detail = r.flood_detail if action == "flood" else r.mute_detail
    return {
        "group_id": group_id,
        "at": r.at,
        "actor": actor,
        "member_id": r.member_id,
        "action": action,
        "detail": detail,
        "alert_id": alert_id,
    }
