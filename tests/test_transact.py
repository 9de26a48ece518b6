"""``Database.transact``: one synchronous transaction, on both backends, and on SQLite without
ever blocking the event loop behind another connection's write lock."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

import storage.writer as writer
from storage import EventLogRepo
from storage.database import Database
from storage.schema import adapter_state, processed_events

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _put(conn: Connection, key: str, value: str) -> int:
    conn.execute(adapter_state.insert(), {"adapter": "t", "key": key, "value": value})
    return int(conn.execute(select(func.count()).select_from(adapter_state)).scalar_one())


def _put_then_fail(conn: Connection, key: str) -> None:
    _put(conn, key, "x")
    raise RuntimeError("changed my mind")


async def _keys(db: Database) -> list[str]:
    async with db.begin() as conn:
        return sorted((await conn.execute(select(adapter_state.c.key))).scalars())


async def test_commits_on_return_and_rolls_back_on_raise(database: Database) -> None:
    assert await database.transact(_put, "a", "1") == 1
    with pytest.raises(RuntimeError, match="changed my mind"):
        await database.transact(_put_then_fail, "b")
    with pytest.raises(IntegrityError):
        await database.transact(_put, "a", "again")  # the primary key holds
    assert await _keys(database) == ["a"]
    # The connection is usable after both failures.
    assert await database.transact(_put, "c", "3") == 2


async def _sqlite(tmp_path: Path) -> Database:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    await db.migrate()
    return db


async def test_waits_for_a_foreign_lock_without_blocking_the_loop(tmp_path: Path) -> None:
    db = await _sqlite(tmp_path)
    holder = sqlite3.connect(tmp_path / "w.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.001)
            ticks += 1

    beat = asyncio.create_task(ticker())
    first = asyncio.create_task(db.transact(_put, "first", "1"))
    second = asyncio.create_task(db.transact(_put, "second", "2"))
    await asyncio.sleep(0.1)
    assert not first.done() and not second.done()
    assert ticks >= 20, "the loop stalled while the write lock was held elsewhere"
    holder.execute("COMMIT")
    # Queued in arrival order: the first sees one row, the second two.
    assert await first == 1
    assert await second == 2
    beat.cancel()
    holder.close()
    await db.close()


async def test_gives_up_with_the_lock_error_after_the_busy_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer, "BUSY_TIMEOUT", 0.05)
    db = await _sqlite(tmp_path)
    holder = sqlite3.connect(tmp_path / "w.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        await db.transact(_put, "late", "1")
    holder.execute("ROLLBACK")
    assert await db.transact(_put, "late", "1") == 1
    holder.close()
    await db.close()


def _rows_in_main_file(tmp_path: Path) -> int:
    """Rows of adapter_state in the database file alone, as if the log did not exist."""
    copy = tmp_path / "main-only.db"
    copy.write_bytes((tmp_path / "w.db").read_bytes())
    probe = sqlite3.connect(copy)
    try:
        return int(probe.execute("SELECT count(*) FROM adapter_state").fetchone()[0])
    finally:
        probe.close()


async def test_checkpoints_the_log_off_the_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer, "CHECKPOINT_EVERY", 5)
    db = await _sqlite(tmp_path)
    # The schema into the main file first, so the file alone is a readable database.
    setup = sqlite3.connect(tmp_path / "w.db")
    setup.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    setup.close()
    for i in range(4):
        await db.transact(_put, f"k{i}", "v")
    await asyncio.sleep(0.05)
    assert _rows_in_main_file(tmp_path) == 0, "four commits are still only in the log"
    await db.transact(_put, "k4", "v")
    # The fifth commit starts a checkpoint on a worker thread.
    for _ in range(200):
        if _rows_in_main_file(tmp_path) == 5:
            break
        await asyncio.sleep(0.01)
    assert _rows_in_main_file(tmp_path) == 5
    await db.close()


async def test_a_burst_of_writes_lands_whole(database: Database) -> None:
    events = EventLogRepo(database)
    await asyncio.gather(
        *(
            events.record([("t", f"e{i}-{j}", T0) for j in range(20)], T0 - timedelta(days=1))
            for i in range(50)
        )
    )
    async with database.begin() as conn:
        count = (await conn.execute(select(func.count()).select_from(processed_events))).scalar_one()
    assert count == 1_000


def _claim_once(conn: Connection, key: str) -> str:
    """Read-then-insert: the shape of every claim (check-in, make-up, referral)."""
    if conn.execute(select(adapter_state.c.value).where(adapter_state.c.key == key)).first() is not None:
        return "already"
    conn.execute(adapter_state.insert(), {"adapter": "t", "key": key, "value": "x"})
    return "won"


async def test_racing_claims_lose_gracefully_instead_of_raising(database: Database) -> None:
    # On PostgreSQL the losers' inserts hit the unique key; transact re-runs them, and the re-run
    # reads the winner's row. On SQLite writers queue, so there is nothing to retry.
    outcomes = await asyncio.gather(*(database.transact(_claim_once, "k") for _ in range(40)))
    assert sorted(outcomes) == ["already"] * 39 + ["won"]
