"""Workers started together migrate one at a time: the others wait on the advisory lock."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from storage import Database
from storage.workers import migrate_exclusively


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_four_workers_migrating_at_once_all_succeed(db_url: str) -> None:
    dbs = [Database(db_url) for _ in range(4)]
    try:
        await asyncio.gather(*(migrate_exclusively(db) for db in dbs))
        async with dbs[0].engine.connect() as conn:
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    finally:
        for db in dbs:
            await db.close()
    assert len(versions) >= 1  # at the heads, once; no worker failed on a half-made schema
