"""Which scheduler workers are alive, from PostgreSQL's own session advisory locks.

Each worker on PostgreSQL holds one session-level advisory lock, keyed on its name, on a
connection it keeps open for its whole life. PostgreSQL releases that lock the moment the
session ends: the process exited, was killed (the kernel closes its socket), or its connection
dropped. So "is the holder of this lease alive?" is "is its lock still held?", answered by the
database itself, with no heartbeat table of our own. A lease whose holder is alive but has not
renewed it in time (a hung event loop) is still taken over when it expires (``lease_until``).

On SQLite there is one worker per file (``SingleWorkerLock``, an OS file lock) and no presence.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import IO

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.database import Database


def lock_key(owner: str) -> int:
    """The signed 64-bit advisory-lock key of worker ``owner`` (stable across processes)."""
    digest = hashlib.blake2b(owner.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class WorkerPresence:
    """This worker's advisory lock, and the question whether another worker still holds its own."""

    def __init__(self, db: Database, owner: str) -> None:
        self.db = db
        self.owner = owner
        self._conn: AsyncConnection | None = None

    async def start(self) -> None:
        """Take this worker's lock on a connection kept open until ``stop``."""
        conn = await self.db.engine.connect()
        await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": lock_key(self.owner)})
        await conn.commit()
        self._conn = conn

    async def alive(self, owners: set[str]) -> set[str]:
        """Those of ``owners`` whose lock is held now (this worker counts as alive).

        ``pg_try_advisory_lock`` on a dead worker's key succeeds, and is released at once; on a live
        one it fails without waiting.
        """
        found = {self.owner} & owners
        others = sorted(owners - found)
        if not others:
            return found
        async with self.db.engine.connect() as conn:
            for owner in others:
                key = lock_key(owner)
                got = (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})).scalar_one()
                if got:
                    await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                else:
                    found.add(owner)
            await conn.commit()
        return found

    async def stop(self) -> None:
        """Release the lock (closing the session does it; the explicit unlock says so)."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key(self.owner)})
            await conn.commit()
        finally:
            await conn.close()


class WorkerRefused(Exception):
    """Another worker already uses this SQLite file."""


class SingleWorkerLock:
    """An exclusive OS lock on ``<database>.lock`` for as long as a worker runs on a SQLite file.

    SQLite serves one writer process well, and the scheduler's claims on SQLite assume that every
    lease not of this process belongs to a dead predecessor. A second worker on the same file
    therefore refuses to start. The kernel drops the lock when the process dies, however it dies,
    so a crashed worker never blocks its own restart. POSIX record locks (``lockf``) belong to the
    process: a restart inside one process (the console's ``restart``, tests) takes it again.
    """

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".lock")
        self._fh: IO[bytes] | None = None

    def acquire(self) -> None:
        """Take the lock, or raise ``WorkerRefused`` naming the file."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: SQLite's own locking only
            return
        fh = self.path.open("a+b")
        try:
            fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            raise WorkerRefused(
                f"another worker is running on the SQLite database {self.path.with_suffix('')}; "
                "SQLite takes one worker per file: stop the other one, or use PostgreSQL "
                "([storage] url = postgresql+asyncpg://…) to run several"
            ) from None
        self._fh = fh

    def release(self) -> None:
        """Drop the lock (the process exiting drops it too)."""
        fh, self._fh = self._fh, None
        if fh is not None:
            fh.close()


#: The advisory-lock key under which one worker at a time applies migrations ("qunyou:migrate").
MIGRATION_LOCK = lock_key("qunyou:migrate")


async def migrate_exclusively(db: Database) -> None:
    """Apply pending migrations; on PostgreSQL one worker at a time, under an advisory lock.

    Workers started together (a rolling upgrade, ``compose up --scale``) all call this: the first
    migrates, the others wait on the lock and then find nothing left to do. On SQLite one worker
    runs per file anyway (``SingleWorkerLock``).
    """
    if db.is_sqlite:
        await db.migrate()
        return
    async with db.engine.connect() as conn:
        await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
        await conn.commit()
        try:
            await db.migrate()
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
            await conn.commit()
