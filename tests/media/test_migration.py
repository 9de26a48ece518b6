"""The media migration creates exactly the tables the code declares, and downgrades."""

from __future__ import annotations

from storage.database import Database
from storage.media.tables import media  # noqa: F401  (registers the tables)
from tests.migration_check import check_branch

MINE = {"media", "media_links"}


async def test_migration_matches_the_table_definitions_and_downgrades(database: Database) -> None:
    await check_branch(database, "media", MINE)
