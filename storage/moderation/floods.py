"""A burst of flooders written at once: their alerts, mutes and audit lines in one transaction.

One flooder used to cost six writes (alert, sanction, lift job, two audit lines, the alert's
steps) and one moderator post; fifty flooders within a few seconds, three hundred writes. The
burst (``handlers.moderation.floods``) mutes each at once and hands the rest here when it closes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Connection

from storage.database import Database
from storage.moderation.tables import mod_alerts, mod_log, mod_sanctions


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


@dataclass(frozen=True, slots=True)
class FloodWritten:
    """Ids given to one record: its alert and, when the mute held, its sanction."""

    alert_id: int
    sanction_id: int | None


class FloodRepo:
    """Writes a burst of floods."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, group_id: int, records: Sequence[FloodRecord], actor: str) -> list[FloodWritten]:
        """Every record's alert (open, flood, yellow), sanction and two audit lines, in one
        transaction; ids in the order of ``records``."""

        def write(conn: Connection) -> list[FloodWritten]:
            out: list[FloodWritten] = []
            for r in records:
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
