"""The antispam migration creates exactly the tables the code declares, and downgrades."""

from __future__ import annotations

from storage.antispam.tables import antispam_probation  # noqa: F401  (registers the tables)
from storage.database import Database
from tests.migration_check import check_branch

MINE = {"antispam_probation", "antispam_samples", "antispam_raids", "antispam_raid_joiners"}


async def test_migration_matches_the_table_definitions_and_downgrades(database: Database) -> None:
    await check_branch(database, "antispam", MINE, steps=2)  # antispam_0001 and antispam_0002
