"""One synchronous SQLite connection for short multi-statement write transactions.

Through aiosqlite every statement is two or three thread round trips; a check-in of five
statements spent most of its time in those hops. Here a whole transaction runs as plain pysqlite
calls on the event loop's own thread, which is safe because nothing in it can wait:

- taking the write lock never blocks: ``busy_timeout`` is 0 on this connection, so when another
  connection holds the lock, ``BEGIN IMMEDIATE`` fails at once and the transaction retries after
  a short ``asyncio.sleep`` (the loop goes on meanwhile), in arrival order;
- the transaction itself is a few hundred microseconds of work on a local file: with
  ``synchronous=NORMAL`` in WAL mode a commit appends to the log and does not sync the disk;
- checkpoints, the one step that syncs the disk, are off on this connection
  (``wal_autocheckpoint=0``) and run every ``CHECKPOINT_EVERY`` commits on a worker thread
  through a connection of their own. A PASSIVE checkpoint takes no write lock.

A thread per transaction was measured first: at 1,000 check-ins a second the worker and the loop
fought over the GIL and p99 latency reached 100 ms; inline it stays near one millisecond.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection

T = TypeVar("T")

log = logging.getLogger(__name__)

#: Commits between two checkpoints (a check-in writes a few pages; SQLite's own default
#: checkpoints at 1,000 pages).
CHECKPOINT_EVERY = 300

#: Waits, in seconds, between attempts to take a write lock another connection holds; the last
#: one repeats until ``BUSY_TIMEOUT`` seconds have been spent, then the lock error is raised.
BACKOFF = (0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02)
BUSY_TIMEOUT = 10.0


class SqliteWriter:
    """Runs ``fn(conn, *args)`` transactions on one pysqlite connection to a SQLite file."""

    def __init__(self, url: URL, path: Path, connect_args: dict[str, Any]) -> None:
        self._path = path
        self._connect_args = connect_args
        self._engine = create_engine(
            url.set(drivername="sqlite+pysqlite"), connect_args=connect_args, pool_reset_on_return=None
        )
        event.listen(self._engine, "connect", _configure)
        self._conn: Connection | None = None
        # FIFO: a transaction waiting out another connection's lock keeps its place in line.
        self._turn = asyncio.Lock()
        self._commits = 0
        self._checkpoint: asyncio.Task[None] | None = None
        #: Transactions that had to wait for another connection's write lock (for the bench).
        self.waited = 0

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(conn, *args)`` in one transaction: committed on return, rolled back on raise."""
        # Every transaction is a turn of the loop: a flush written in many transactions lets
        # the check-ins that arrived meanwhile go between them.
        await asyncio.sleep(0)
        async with self._turn:
            conn = self._connection()
            await self._begin(conn)
            with conn.begin():  # the driver commits (or rolls back) what _begin opened
                result = fn(conn, *args)
        self._commits += 1
        if self._commits % CHECKPOINT_EVERY == 0 and self._checkpoint is None:
            self._checkpoint = asyncio.get_running_loop().create_task(self._checkpoint_later())
        return result

    async def _begin(self, conn: Connection) -> None:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        waited = 0.0
        for attempt in range(1_000_000):
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or waited >= BUSY_TIMEOUT:
                    raise
            if attempt == 0:
                self.waited += 1
            delay = BACKOFF[min(attempt, len(BACKOFF) - 1)]
            await asyncio.sleep(delay)
            waited += delay

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = self._engine.connect()
        return self._conn

    async def _checkpoint_later(self) -> None:
        try:
            await asyncio.to_thread(_checkpoint, self._path, self._connect_args)
        except sqlite3.Error:
            # The log only grows until the next try; nothing is lost.
            log.warning("WAL checkpoint of %s failed", self._path, exc_info=True)
        finally:
            self._checkpoint = None

    async def close(self) -> None:
        """Finish a running checkpoint, then close the connection."""
        if self._checkpoint is not None:
            await asyncio.gather(self._checkpoint, return_exceptions=True)
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._engine.dispose()


#: Every connection to the file, this one and the async engine's: write-ahead log, foreign keys,
#: and commits that append to the log without syncing the disk.
SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA foreign_keys=ON", "PRAGMA synchronous=NORMAL")


def _configure(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # transactions are begun by hand, in ``_begin``
    for pragma in (*SQLITE_PRAGMAS, "PRAGMA busy_timeout=0", "PRAGMA wal_autocheckpoint=0"):
        dbapi_connection.execute(pragma)


def _checkpoint(path: Path, connect_args: dict[str, Any]) -> None:
    conn = sqlite3.connect(path, timeout=float(connect_args.get("timeout", 30)))
    try:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        conn.close()


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "database is locked" in str(exc)
