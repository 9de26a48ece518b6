"""The stats migrations create exactly the tables the code declares, and downgrade."""

from __future__ import annotations

from storage.database import Database
from storage.stats.tables import stats_stage_daily  # noqa: F401  (registers the tables)
from tests.migration_check import check_branch

MINE = {
    "stats_group_daily",
    "stats_hourly",
    "stats_member",
    "stats_member_daily",
    "stats_text",
    "stats_recall",
    "stats_feedback",
    "stats_nps_poll",
    "stats_nps_answer",
    "stats_top",
    "stats_stage_daily",
    "stats_marker",
}


async def test_migration_matches_the_table_definitions_and_downgrades(database: Database) -> None:
    await check_branch(database, "stats", MINE, steps=2)
