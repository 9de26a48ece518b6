"""The scheduler's rows: ``scheduled_jobs``, the source of truth the scheduler rebuilds from."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Row

from storage.database import Database
from storage.models import Job
from storage.schema import (
    scheduled_jobs,
)
from storage.sql import upsert


def _job(row: Row[Any]) -> Job:
    return Job(
        id=row.id,
        kind=row.kind,
        group_id=row.group_id,
        trigger=json.loads(row.trigger),
        payload=json.loads(row.payload),
        next_run_at=row.next_run_at,
        last_run_at=row.last_run_at,
        paused=bool(row.paused),
    )


#: The columns a job write replaces when the job exists (its run history stays).
JOB_UPDATE = ("kind", "group_id", "trigger", "payload", "next_run_at", "paused")


def job_row(
    job_id: str,
    kind: str,
    group_id: int | None,
    trigger: dict[str, Any],
    payload: dict[str, Any],
    next_run_at: datetime | None,
    now: datetime,
) -> dict[str, Any]:
    """One ``scheduled_jobs`` row as ``JobRepo.put`` writes it; shared with writes that must
    commit a feature's row and its jobs together."""
    return {
        "id": job_id,
        "kind": kind,
        "group_id": group_id,
        "trigger": json.dumps(trigger, sort_keys=True),
        "payload": json.dumps(payload, sort_keys=True, ensure_ascii=False),
        "next_run_at": next_run_at,
        "last_run_at": None,
        "paused": False,
        "created_at": now,
    }


class JobRepo:
    """Scheduled jobs: the scheduler's source of truth."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def put(
        self,
        *,
        job_id: str,
        kind: str,
        group_id: int | None,
        trigger: dict[str, Any],
        payload: dict[str, Any],
        next_run_at: datetime | None,
        now: datetime,
    ) -> None:
        """Create or replace a job."""
        async with self.db.begin() as conn:
            await upsert(
                conn,
                scheduled_jobs,
                job_row(job_id, kind, group_id, trigger, payload, next_run_at, now),
                keys=("id",),
                update=JOB_UPDATE,
            )

    async def get(self, job_id: str) -> Job | None:
        """One job."""
        async with self.db.begin() as conn:
            row = (await conn.execute(select(scheduled_jobs).where(scheduled_jobs.c.id == job_id))).first()
        return _job(row) if row else None

    async def delete(self, job_id: str) -> bool:
        """Remove a job; True when it existed."""
        async with self.db.begin() as conn:
            result = await conn.execute(delete(scheduled_jobs).where(scheduled_jobs.c.id == job_id))
        return bool(result.rowcount)

    async def pending_index(self) -> list[tuple[str, datetime]]:
        """``(id, next_run_at)`` of every job that will fire: what a start needs, without decoding
        each row's trigger and payload (100,000 rows load in a fraction of the time)."""
        stmt = select(scheduled_jobs.c.id, scheduled_jobs.c.next_run_at).where(
            scheduled_jobs.c.paused.is_(False), scheduled_jobs.c.next_run_at.is_not(None)
        )
        async with self.db.begin() as conn:
            rows = (await conn.execute(stmt)).all()
        return [(r.id, r.next_run_at) for r in rows]

    async def due_index(self, until: datetime) -> list[tuple[str, datetime]]:
        """``(id, next_run_at)`` of the jobs due at or before ``until``: what a worker sharing the
        database reads to learn of jobs other workers planned or moved (index on ``next_run_at``)."""
        stmt = select(scheduled_jobs.c.id, scheduled_jobs.c.next_run_at).where(
            scheduled_jobs.c.paused.is_(False), scheduled_jobs.c.next_run_at <= until
        )
        async with self.db.begin() as conn:
            rows = (await conn.execute(stmt)).all()
        return [(r.id, r.next_run_at) for r in rows]

    async def list(self, prefix: str = "") -> list[Job]:
        """Jobs whose id starts with ``prefix``, by id."""
        stmt = select(scheduled_jobs).order_by(scheduled_jobs.c.id)
        if prefix:
            stmt = stmt.where(scheduled_jobs.c.id.startswith(prefix, autoescape=True))
        async with self.db.begin() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_job(r) for r in rows]

    async def count(self) -> int:
        """How many jobs exist."""
        async with self.db.begin() as conn:
            return int((await conn.execute(select(func.count()).select_from(scheduled_jobs))).scalar_one())

    async def set_next(self, job_id: str, next_run_at: datetime | None) -> None:
        """Set the next run (after a skip)."""
        async with self.db.begin() as conn:
            await conn.execute(
                update(scheduled_jobs).where(scheduled_jobs.c.id == job_id).values(next_run_at=next_run_at)
            )

    async def set_paused(self, job_id: str, paused: bool, next_run_at: datetime | None) -> bool:
        """Pause or resume a job."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                update(scheduled_jobs)
                .where(scheduled_jobs.c.id == job_id)
                .values(paused=paused, next_run_at=next_run_at)
            )
        return bool(result.rowcount)
