"""The circles migration creates exactly the tables the code declares, and downgrades."""

from __future__ import annotations

from storage.circles.tables import circles  # noqa: F401  (registers the tables)
from storage.database import Database
from tests.migration_check import check_branch

MINE = {"circles", "circle_members", "circle_pings"}


async def test_migration_matches_the_table_definitions_and_downgrades(database: Database) -> None:
    await check_branch(database, "circles", MINE)
