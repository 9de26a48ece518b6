"""Fixtures for the check-in/points storage tests.

``world`` builds on the core's ``database`` fixture (both backends). The property test needs a
fresh database per hypothesis example, which a function fixture cannot give, so it opens its
own with ``open_db``: on PostgreSQL a throwaway schema, cheaper than a database per example.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.checkin import CheckinRepos
from storage.core import GroupRepo, MemberRepo
from storage.database import Database
from storage.models import Group, Member

PG_URL = os.environ.get("QUNYOU_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", *(["postgresql"] if PG_URL else [])]
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


async def open_db(kind: str, tmp_path: Path) -> tuple[Database, str | None]:
    """A migrated database of ``kind``; for PostgreSQL also the schema to drop afterwards."""
    if kind == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'points.db'}")
        await db.migrate()
        return db, None
    assert PG_URL is not None
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = Database(PG_URL)
    async with admin.engine.begin() as conn:
        await conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    await admin.close()
    db = Database(PG_URL, connect_args={"server_settings": {"search_path": schema}})
    await db.migrate()
    return db, schema


async def close_db(db: Database, schema: str | None) -> None:
    await db.close()
    if schema is not None:
        assert PG_URL is not None
        admin = Database(PG_URL)
        async with admin.engine.begin() as conn:
            await conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()


class World:
    """A group with members, and the repository under test."""

    def __init__(self, db: Database, group: Group, members: dict[str, Member]) -> None:
        self.db = db
        self.group = group
        self.members = members
        self.repo = CheckinRepos(db)

    def id(self, name: str) -> int:
        return self.members[name].id


async def make_world(db: Database, names: list[str], tz: str = "Asia/Shanghai") -> World:
    group = await GroupRepo(db).get_or_create(
        platform="console",
        adapter="console",
        scope_id="demo",
        title="demo",
        timezone=tz,
        language="zh-CN",
        now=T0,
    )
    repo = MemberRepo(db)
    members = {
        n: await repo.upsert(
            group_id=group.id, user_id=n, display_name=n, username=None, is_bot=False, now=T0
        )
        for n in names
    }
    return World(db, group, members)


@pytest.fixture
async def world(database: Database) -> World:
    """A group with three members on each backend (the core's ``database`` fixture)."""
    return await make_world(database, ["alice", "bob", "carol"])
