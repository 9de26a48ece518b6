"""One check for every feature's Alembic branch: it builds exactly the tables the code declares
(no drift between ``storage/<feature>/tables.py`` and the migration), and downgrades cleanly."""

from __future__ import annotations

from collections.abc import Set
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from storage.database import MIGRATIONS_DIR, Database
from storage.schema import metadata


def _table_of(diff: Any) -> str | None:
    """The table one of Alembic's diff entries is about (``modify_*`` entries come in lists)."""
    if isinstance(diff, list):
        diff = diff[0]
    target = diff[1]
    if hasattr(target, "table") and hasattr(target.table, "name"):  # an index or a constraint
        return str(target.table.name)
    if hasattr(target, "name") and hasattr(target, "columns"):  # a table
        return str(target.name)
    return str(diff[2]) if len(diff) > 2 else None  # (kind, schema, table, ...)


def _diffs(conn: Any, tables: Set[str]) -> list[str]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return [str(d) for d in compare_metadata(context, metadata) if _table_of(d) in tables]


def _tables(conn: Any) -> set[str]:
    return set(inspect(conn).get_table_names())


def _downgrade(conn: Any, branch: str, steps: int) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = conn
    command.downgrade(cfg, f"{branch}@-{steps}")


async def check_branch(database: Database, branch: str, tables: Set[str], steps: int = 1) -> None:
    """``branch``'s migrations (``steps`` of them) match ``tables``' definitions, downgrade, and
    upgrade again.

    The caller imports the feature's storage module first, so its tables are on the metadata.
    """
    async with database.engine.connect() as conn:
        assert await conn.run_sync(_diffs, tables) == []
        assert tables <= await conn.run_sync(_tables)
        await conn.run_sync(_downgrade, branch, steps)
        await conn.commit()
        left = await conn.run_sync(_tables)
    assert not (tables & left) and "members" in left
    await database.migrate()
    async with database.engine.connect() as conn:
        assert tables <= await conn.run_sync(_tables)
