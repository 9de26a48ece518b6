"""The moderation branch (its tables, the held flood rows that survive a crash, then ``shared``
on ``mod_terms`` for a community's shared lexicon) builds exactly the tables the code declares,
and downgrades."""

from __future__ import annotations

from storage.database import Database
from storage.moderation.tables import mod_flood_held, mod_terms  # noqa: F401  (registers the tables)
from tests.migration_check import check_branch

MINE = {
    "mod_terms",
    "mod_allow",
    "mod_term_stats",
    "mod_alerts",
    "mod_report_votes",
    "mod_warnings",
    "mod_credit",
    "mod_sanctions",
    "mod_log",
    "mod_flood_held",
}


async def test_migration_matches_the_table_definitions_and_downgrades(database: Database) -> None:
    await check_branch(database, "moderation", MINE, steps=3)  # moderation_0001 … 0003
