"""The engagement migration creates exactly the tables the code declares, and downgrades."""

from __future__ import annotations

from storage.database import Database
from storage.engage.tables import engage_giveaways  # noqa: F401  (registers the tables)
from tests.migration_check import check_branch

MINE = {
    "engage_giveaways",
    "engage_giveaway_entries",
    "engage_polls",
    "engage_poll_votes",
    "engage_poll_answers",
}


async def test_migration_matches_the_table_definitions_and_downgrades(database: Database) -> None:
    await check_branch(database, "engage", MINE, steps=2)
