"""The antispam migration creates exactly the tables the code declares, and downgrades."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from storage.antispam.tables import antispam_probation  # noqa: F401  (registers the tables)
from storage.database import MIGRATIONS_DIR, Database
from storage.schema import metadata

MINE = {"antispam_probation", "antispam_samples", "antispam_raids", "antispam_raid_joiners"}


def _diffs(conn: Any) -> list[str]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return [str(d) for d in compare_metadata(context, metadata) if any(name in str(d) for name in MINE)]


def _tables(conn: Any) -> set[str]:
    return set(inspect(conn).get_table_names())


def _downgrade_one(conn: Any) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = conn
    command.downgrade(cfg, "antispam@-2")  # both antispam revisions


async def test_migration_matches_the_table_definitions_and_downgrades(database: Database) -> None:
    async with database.engine.connect() as conn:
        assert await conn.run_sync(_diffs) == []
        assert MINE <= await conn.run_sync(_tables)
        await conn.run_sync(_downgrade_one)
        await conn.commit()
        left = await conn.run_sync(_tables)
    assert not (MINE & left) and "members" in left
    await database.migrate()
    async with database.engine.connect() as conn:
        assert MINE <= await conn.run_sync(_tables)
