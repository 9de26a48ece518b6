"""The checkin_0001 migration builds exactly the tables storage/checkin/tables.py declares, and undoes them."""

from __future__ import annotations

from storage.checkin.tables import points_balances  # noqa: F401  (registers the tables on the metadata)
from storage.database import Database
from tests.migration_check import check_branch

MINE = {
    "points_balances",
    "points_ledger",
    "checkins",
    "member_counters",
    "member_badges",
    "shop_items",
    "shop_redemptions",
    "referrals",
}


async def test_migration_matches_the_table_definitions_and_downgrades(database: Database) -> None:
    await check_branch(database, "checkin", MINE)
