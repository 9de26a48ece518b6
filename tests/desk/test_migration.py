"""The desk migration creates exactly the tables the code declares, and downgrades."""

from __future__ import annotations

from storage.database import Database
from storage.desk.tables import desk_faq  # noqa: F401  (registers the tables)
from tests.migration_check import check_branch

MINE = {
    "desk_faq",
    "desk_faq_answers",
    "desk_faq_votes",
    "desk_replies",
    "desk_complaints",
    "desk_responses",
    "desk_unanswered",
    "desk_mood_hourly",
    "desk_mood_negative",
    "desk_watch_reports",
    "desk_incidents",
    "desk_incident_notices",
}


async def test_migration_matches_the_table_definitions_and_downgrades(database: Database) -> None:
    await check_branch(database, "desk", MINE, steps=3)
