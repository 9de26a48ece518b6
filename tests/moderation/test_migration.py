"""The moderation migrations create exactly the tables the code declares, and downgrade."""

from __future__ import annotations

from storage.database import Database
from storage.moderation.tables import mod_flood_held  # noqa: F401  (registers the tables)
from tests.migration_check import check_branch


async def test_flood_held_migration_matches_its_table_and_downgrades(database: Database) -> None:
    await check_branch(database, "moderation", {"mod_flood_held"}, steps=1)  # moderation_0002
