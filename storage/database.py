"""The database engine: SQLite through aiosqlite by default, PostgreSQL through asyncpg."""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from storage import template
from storage.schema_heads import declared_heads
from storage.writer import SQLITE_PRAGMAS, SqliteWriter

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

P = ParamSpec("P")
T = TypeVar("T")

log = logging.getLogger(__name__)

#: SQLSTATEs of a write PostgreSQL refused because a concurrent transaction got there first:
#: a unique key another transaction just committed (23505), a serialization failure (40001),
#: a deadlock (40P01). Re-running the whole transaction reads the winner's row and answers as
#: the losing request deserves ("already made up", "already checked in").
CONFLICT_SQLSTATES = frozenset({"23505", "40001", "40P01"})

#: Attempts of one ``transact`` call on PostgreSQL before a conflict reaches the caller. A
#: re-run after a conflict sees the committed winner, so one retry almost always settles it;
#: the rest cover pile-ups of many requests for one row.
CONFLICT_ATTEMPTS = 8

#: Upper bound, in seconds, of the random wait before the n-th retry (the first is immediate):
#: jitter spreads the losers of one pile-up so they do not collide again in lockstep.
CONFLICT_BACKOFF = (0.0, 0.002, 0.004, 0.008, 0.016, 0.032, 0.05)

#: Seeded, so a test run waits the same way every time (no wall-clock randomness).
_jitter = random.Random(0x51)


def is_transient(exc: BaseException) -> bool:
    """True when a failed write may succeed as it is later (the database locked, away or
    restarting); False when the data itself was refused (a character the driver cannot encode,
    a broken constraint), which no number of retries can fix."""
    if isinstance(exc, OperationalError | InterfaceError | sqlite3.OperationalError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OSError | TimeoutError)


def is_conflict(exc: BaseException) -> bool:
    """True when PostgreSQL refused a write only because a concurrent transaction conflicted
    with it (see ``CONFLICT_SQLSTATES``): running the same transaction again is correct."""
    if not isinstance(exc, DBAPIError):
        return False
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return code in CONFLICT_SQLSTATES


def _tune_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, and a write lock taken at BEGIN, on every connection of ``engine``."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us emit BEGIN ourselves (below) instead of pysqlite's deferred begin.
        dbapi_connection.isolation_level = None
        for pragma in (*SQLITE_PRAGMAS, "PRAGMA busy_timeout=10000"):
            dbapi_connection.execute(pragma)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front: two writers queue on busy_timeout
        # instead of one failing with "database is locked" when it upgrades a read lock.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """One engine and the transactions on it. Repositories are built from this."""

    def __init__(self, url: str, *, connect_args: dict[str, Any] | None = None) -> None:
        self.url = url
        parsed = make_url(url)
        self.backend = parsed.get_backend_name()
        self.sqlite_path: Path | None = None
        kwargs: dict[str, Any] = {}
        if self.backend == "sqlite":
            database = parsed.database or ""
            if database and database != ":memory:":
                self.sqlite_path = Path(database)
                self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30, **(connect_args or {})}
            # Every use is ``engine.begin()``, which commits or rolls back itself; the pool's
            # extra ROLLBACK on return would be one more thread round trip per transaction.
            kwargs["pool_reset_on_return"] = None
        elif connect_args:
            kwargs["connect_args"] = connect_args
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        self._writer: SqliteWriter | None = None
        if self.backend == "sqlite":
            _tune_sqlite(self.engine.sync_engine)
            if self.sqlite_path is not None:
                self._writer = SqliteWriter(parsed, self.sqlite_path, kwargs["connect_args"])

    @property
    def is_sqlite(self) -> bool:
        """True on the embedded SQLite backend."""
        return self.backend == "sqlite"

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """One transaction: committed on success, rolled back on error."""
        async with self.engine.begin() as conn:
            yield conn

    async def transact(
        self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn(conn, *args, **kwargs)`` as one transaction: committed when it returns,
        rolled back when it raises (the exception reaches the caller).

        For operations of several statements on a hot path. On a SQLite file ``fn`` runs on a
        plain pysqlite connection (``storage.writer``): no thread round trip at all while the
        write lock is free, where ``begin()`` through aiosqlite costs two or three per statement.
        Elsewhere (PostgreSQL, in-memory SQLite) ``fn`` runs on the async engine through
        ``run_sync``. ``fn`` must not await anything, and must have no effect outside the
        transaction: on PostgreSQL a transaction that lost a race to a concurrent one
        (``is_conflict``) is rolled back and ``fn`` runs again, up to ``CONFLICT_ATTEMPTS``
        times with a jittered wait. On SQLite every writer queues at ``BEGIN IMMEDIATE``, so
        writes never conflict there and a refused write is the data's fault, raised at once.
        """
        if self._writer is not None:
            return await self._writer.run(functools.partial(fn, **kwargs), *args)
        retry = self.backend == "postgresql"
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                async with self.engine.begin() as conn:
                    return await conn.run_sync(fn, *args, **kwargs)
            except DBAPIError as exc:  # IntegrityError, OperationalError, ...
                if not retry or not is_conflict(exc) or attempt == CONFLICT_ATTEMPTS - 1:
                    raise
                log.debug("transaction conflicted (%s); attempt %d", type(exc.orig).__name__, attempt + 2)
            bound = CONFLICT_BACKOFF[min(attempt, len(CONFLICT_BACKOFF) - 1)]
            await asyncio.sleep(_jitter.uniform(0, bound) if bound else 0)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def migrate(self) -> None:
        """Apply every Alembic migration not yet applied (all branches: ``heads``).

        Alembic is loaded only when something is to be done: a database already at the heads
        the migration files declare (``storage.schema_heads``) starts without it.
        """
        path = self.sqlite_path
        fresh = path is not None and (not path.exists() or path.stat().st_size == 0)
        if fresh and path is not None:
            # A new SQLite file starts as a copy of this user's migrated empty schema, when
            # one exists for the current migration files (storage.template).
            await asyncio.to_thread(template.restore, path, MIGRATIONS_DIR)
        heads = declared_heads(MIGRATIONS_DIR / "versions")
        if heads is not None and await self._applied_revisions() == heads:
            return
        from alembic import command
        from alembic.config import Config

        def _upgrade(sync_conn: Any) -> None:
            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
            cfg.attributes["connection"] = sync_conn
            command.upgrade(cfg, "heads")

        async with self.engine.connect() as conn:
            await conn.run_sync(_upgrade)
            await conn.commit()
        if fresh and path is not None:
            await asyncio.to_thread(template.save, path, MIGRATIONS_DIR)

    async def _applied_revisions(self) -> frozenset[str] | None:
        """The revisions recorded in ``alembic_version`` (None: no such table yet)."""
        async with self.engine.connect() as conn:
            exists = await conn.run_sync(lambda sync: inspect(sync).has_table("alembic_version"))
            if not exists:
                return None
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
            return frozenset(str(r[0]) for r in rows)

    def backup(self, target: Path) -> None:
        """Copy a live SQLite database with SQLite's online backup API."""
        if self.sqlite_path is None:
            raise RuntimeError("backup works on a SQLite file; for PostgreSQL use pg_dump")
        target.parent.mkdir(parents=True, exist_ok=True)
        template.copy_database(self.sqlite_path, target)

    async def close(self) -> None:
        """Release every connection."""
        if self._writer is not None:
            await self._writer.close()
            self._writer = None
        await self.engine.dispose()
