"""The scale-out migration creates exactly the table the code declares, and downgrades."""

from __future__ import annotations

from storage.cooldowns import shared_cooldowns  # noqa: F401  (registers the table)
from storage.database import Database
from tests.migration_check import check_branch


async def test_migration_matches_the_table_definitions_and_downgrades(database: Database) -> None:
    await check_branch(database, "scaleout", {"shared_cooldowns", "shared_counts"})
