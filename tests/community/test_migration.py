"""The community migration creates exactly the tables the code declares, and downgrades."""

from __future__ import annotations

from storage.community.tables import communities  # noqa: F401  (registers the tables)
from storage.database import Database
from tests.migration_check import check_branch

MINE = {
    "communities",
    "community_chats",
    "community_codes",
    "account_links",
    "federations",
    "federation_admins",
    "federation_chats",
    "federation_bans",
}


async def test_migration_matches_the_table_definitions_and_downgrades(database: Database) -> None:
    await check_branch(database, "community", MINE)
