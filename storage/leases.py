"""Job leases: the scheduler's claim on one run of a job, held until the run completes.

A run is claimed by moving the job's ``next_run_at`` past the fire time (a compare-and-set, so two
claimers cannot both win) and, in the same transaction, inserting a lease row. The row is deleted
when the run completes. A row still there at start is a run a crash cut short: the scheduler runs it
again, and the ``message_id`` recorded after the send tells the re-run whether its message already
went out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.engine import Connection

from storage.database import Database
from storage.models import Lease
from storage.schema import job_leases, scheduled_jobs


class _Taken(Exception):
    """The lease row for this run already exists: roll the claim back."""


def _lease(row: Mapping[Any, Any]) -> Lease:
    return Lease(
        job_id=row["job_id"],
        fire_at=row["fire_at"],
        owner=row["owner"],
        lease_until=row["lease_until"],
        attempts=int(row["attempts"]),
        message_id=row["message_id"],
    )


def _claim(
    conn: Connection,
    job_id: str,
    expected: datetime,
    next_run_at: datetime | None,
    owner: str,
    now: datetime,
    lease_until: datetime,
) -> Lease | None:
    # Another worker claiming this very run holds the row's lock: skip it at once rather than wait
    # for its commit only to find the row moved (PostgreSQL's SKIP LOCKED; SQLite has one writer
    # per file and ignores the clause). Should that claim roll back, the row is still due and
    # the next look at the due rows (``Scheduler._sync``) picks it up again.
    free = conn.execute(
        select(scheduled_jobs.c.id)
        .where(and_(scheduled_jobs.c.id == job_id, scheduled_jobs.c.next_run_at == expected))
        .with_for_update(skip_locked=True)
    ).first()
    if free is None:
        return None
    moved = conn.execute(
        update(scheduled_jobs)
        .where(and_(scheduled_jobs.c.id == job_id, scheduled_jobs.c.next_run_at == expected))
        .values(next_run_at=next_run_at, last_run_at=now)
    )
    if not moved.rowcount:
        return None
    row = {
        "job_id": job_id,
        "fire_at": expected,
        "owner": owner,
        "lease_until": lease_until,
        "claimed_at": now,
        "attempts": 1,
        "message_id": None,
    }
    # A lease for this very run can only exist if the job was re-planned onto a fire time still
    # held by an unfinished run; that run is the one to finish, so this claim rolls back.
    if conn.execute(select(job_leases.c.owner).where(_key(job_id, expected))).first() is not None:
        raise _Taken
    conn.execute(insert(job_leases).values(**row))
    return _lease(row)


def _key(job_id: str, fire_at: datetime) -> Any:
    return and_(job_leases.c.job_id == job_id, job_leases.c.fire_at == fire_at)


def _record_sent(conn: Connection, job_id: str, fire_at: datetime, owner: str, message_id: str) -> bool:
    result = conn.execute(
        update(job_leases)
        .where(_key(job_id, fire_at), job_leases.c.owner == owner)
        .values(message_id=message_id)
    )
    return bool(result.rowcount)


def _complete(conn: Connection, job_id: str, fire_at: datetime, owner: str | None) -> bool:
    stmt = delete(job_leases).where(_key(job_id, fire_at))
    if owner is not None:
        stmt = stmt.where(job_leases.c.owner == owner)
    return bool(conn.execute(stmt).rowcount)


class LeaseRepo:
    """Claims, progress and completion of job runs (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim(
        self,
        job_id: str,
        expected: datetime,
        next_run_at: datetime | None,
        *,
        owner: str,
        now: datetime,
        lease_until: datetime,
    ) -> Lease | None:
        """Move the job from ``expected`` to ``next_run_at`` and lease that run to ``owner``, in one
        transaction; None when the job had moved already (another claim won, or it was re-planned)."""
        try:
            return await self.db.transact(_claim, job_id, expected, next_run_at, owner, now, lease_until)
        except _Taken:
            return None

    async def record_sent(self, job_id: str, fire_at: datetime, owner: str, message_id: str) -> bool:
        """Remember the platform id of the message the run sent; False when the lease is gone.

        Through ``transact``: on SQLite one direct UPDATE and commit on the loop thread, which keeps
        the window between the platform accepting a message and this record as short as it can be.
        """
        return await self.db.transact(_record_sent, job_id, fire_at, owner, message_id)

    async def complete(self, job_id: str, fire_at: datetime, owner: str | None = None) -> bool:
        """The run is over (or given up): drop its lease. ``owner`` None drops anyone's."""
        return await self.db.transact(_complete, job_id, fire_at, owner)

    async def renew(self, job_id: str, fire_at: datetime, owner: str, lease_until: datetime) -> bool:
        """Extend a run still in hand; False when it is no longer ``owner``'s (taken over)."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                update(job_leases)
                .where(_key(job_id, fire_at), job_leases.c.owner == owner)
                .values(lease_until=lease_until)
            )
        return bool(result.rowcount)

    async def open(self) -> list[Lease]:
        """Every run claimed and not completed, oldest fire time first."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(select(job_leases).order_by(job_leases.c.fire_at, job_leases.c.job_id))
            ).all()
        return [_lease(r._mapping) for r in rows]

    async def take_over(self, lease: Lease, *, owner: str, lease_until: datetime) -> Lease | None:
        """Hold ``lease`` as ``owner`` for another attempt; None when someone changed it meanwhile.

        The compare on the previous owner and attempt count lets only one taker win.
        """
        async with self.db.begin() as conn:
            result = await conn.execute(
                update(job_leases)
                .where(
                    _key(lease.job_id, lease.fire_at),
                    job_leases.c.owner == lease.owner,
                    job_leases.c.attempts == lease.attempts,
                )
                .values(owner=owner, lease_until=lease_until, attempts=lease.attempts + 1)
            )
        if not result.rowcount:
            return None
        return Lease(
            job_id=lease.job_id,
            fire_at=lease.fire_at,
            owner=owner,
            lease_until=lease_until,
            attempts=lease.attempts + 1,
            message_id=lease.message_id,
        )
