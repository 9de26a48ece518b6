"""Level 3's shared state: the workers' reports of their adapters, the incidents, and which
adapter told the superusers (``desk_watch_reports``, ``desk_incidents``, ``desk_incident_notices``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from storage.database import Database
from storage.desk.tables import desk_incident_notices as notices
from storage.desk.tables import desk_incidents as incidents
from storage.desk.tables import desk_watch_reports as reports
from storage.sql import upsert_statement


@dataclass(frozen=True, slots=True)
class WatchReport:
    """What one worker saw of one adapter (``adapter = ''``: the worker's own error count)."""

    worker: str
    adapter: str
    connected: bool
    offline_since: datetime | None
    backlog: int
    errors: int
    seen_at: datetime


@dataclass(frozen=True, slots=True)
class IncidentRow:
    """An incident, open while ``cleared_at`` is None."""

    key: str
    what: str
    adapter: str | None
    values: dict[str, Any]
    since: datetime
    cleared_at: datetime | None


class WatchRepo:
    """The watchdog's rows."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def report(self, worker: str, rows: Sequence[WatchReport]) -> None:
        """Replace this worker's reports with ``rows`` (one transaction)."""
        async with self.db.begin() as conn:
            await conn.execute(delete(reports).where(reports.c.worker == worker))
            if rows:
                await conn.execute(
                    insert(reports),
                    [
                        {
                            "worker": r.worker,
                            "adapter": r.adapter,
                            "connected": r.connected,
                            "offline_since": r.offline_since,
                            "backlog": r.backlog,
                            "errors": r.errors,
                            "seen_at": r.seen_at,
                        }
                        for r in rows
                    ],
                )

    async def forget_worker(self, worker: str) -> None:
        """A worker stopping cleanly: its adapters are no longer its to report."""
        async with self.db.begin() as conn:
            await conn.execute(delete(reports).where(reports.c.worker == worker))

    async def reports(self, since: datetime | None = None) -> list[WatchReport]:
        """Every worker's reports (seen at or after ``since``, when given)."""
        stmt = select(reports)
        if since is not None:
            stmt = stmt.where(reports.c.seen_at >= since)
        async with self.db.begin() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [WatchReport(**dict(r)) for r in rows]

    async def drop_reports_before(self, before: datetime) -> None:
        """Reports of workers gone for long (killed, never restarted) are dropped."""
        async with self.db.begin() as conn:
            await conn.execute(delete(reports).where(reports.c.seen_at < before))

    async def incidents(self) -> list[IncidentRow]:
        """Every incident, open or cleared and not yet dropped."""
        async with self.db.begin() as conn:
            rows = (await conn.execute(select(incidents).order_by(incidents.c.key))).mappings().all()
        return [
            IncidentRow(
                r["key"], r["what"], r["adapter"], json.loads(r["values"]), r["since"], r["cleared_at"]
            )
            for r in rows
        ]

    async def open(
        self, key: str, what: str, adapter: str | None, values: dict[str, Any], since: datetime
    ) -> None:
        """Open the incident ``key`` (an open one keeps its start; a cleared one starts again,
        its notices dropped)."""
        async with self.db.begin() as conn:
            found = (await conn.execute(select(incidents.c.cleared_at).where(incidents.c.key == key))).first()
            if found is not None and found[0] is None:
                return
            await conn.execute(delete(notices).where(notices.c.key == key))
            row = {
                "key": key,
                "what": what,
                "adapter": adapter,
                "values": json.dumps(values),
                "since": since,
                "cleared_at": None,
            }
            await conn.execute(upsert_statement(conn, incidents, ["key"], list(row)), row)

    async def clear(self, key: str, at: datetime) -> None:
        """The incident's signal is gone."""
        async with self.db.begin() as conn:
            await conn.execute(
                update(incidents)
                .where(incidents.c.key == key, incidents.c.cleared_at.is_(None))
                .values(cleared_at=at)
            )

    async def drop(self, key: str) -> None:
        """Forget an incident and its notices."""
        async with self.db.begin() as conn:
            await conn.execute(delete(notices).where(notices.c.key == key))
            await conn.execute(delete(incidents).where(incidents.c.key == key))

    async def claim_notice(self, key: str, since: datetime, phase: str, adapter: str, at: datetime) -> bool:
        """Claim telling ``phase`` of the incident on ``adapter``; False when it is claimed already."""
        row = {"key": key, "since": since, "phase": phase, "adapter": adapter, "at": at}
        async with self.db.begin() as conn:
            stmt = upsert_statement(conn, notices, ["key", "since", "phase", "adapter"]).returning(
                notices.c.key
            )
            return (await conn.execute(stmt, row)).first() is not None

    async def unclaim_notice(self, key: str, since: datetime, phase: str, adapter: str) -> None:
        """Nobody could be told on ``adapter`` after all: let a later attempt claim it again."""
        async with self.db.begin() as conn:
            await conn.execute(
                delete(notices).where(
                    notices.c.key == key,
                    notices.c.since == since,
                    notices.c.phase == phase,
                    notices.c.adapter == adapter,
                )
            )

    async def told(self, key: str, since: datetime, phase: str) -> set[str]:
        """The adapters that told ``phase`` of the incident."""
        async with self.db.begin() as conn:
            rows = await conn.execute(
                select(notices.c.adapter).where(
                    notices.c.key == key, notices.c.since == since, notices.c.phase == phase
                )
            )
            return {r[0] for r in rows}
