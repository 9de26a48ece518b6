"""The dashboard migration creates exactly the tables the code declares, and downgrades."""

from __future__ import annotations

from storage.dashboard.tables import dashboard_links  # noqa: F401  (registers the tables)
from storage.database import Database
from tests.migration_check import check_branch

MINE = {"dashboard_links", "dashboard_sessions", "dashboard_changes", "dashboard_login_failures"}


async def test_migration_matches_the_table_definitions_and_downgrades(database: Database) -> None:
    await check_branch(database, "dashboard", MINE, steps=2)
