"""The sign-up lists migration (``schedule_0002``) adds exactly the columns the code declares,
keeps existing activities as planned ones, and downgrades and upgrades again."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, inspect, select

from storage.activities import activities, activity_rsvps
from storage.database import Database
from storage.schema import groups
from tests.migration_check import _diffs, _downgrade

MINE = {"activities", "activity_rsvps"}
NEW = {"activities": {"kind", "closes_at", "closed_at"}, "activity_rsvps": {"note"}}


def _columns(conn: object, table: str) -> set[str]:
    return {c["name"] for c in inspect(conn).get_columns(table)}  # type: ignore[arg-type]


async def test_columns_match_the_code_and_downgrade(database: Database) -> None:
    async with database.engine.connect() as conn:
        assert await conn.run_sync(_diffs, MINE) == []
        for table, cols in NEW.items():
            assert cols <= await conn.run_sync(_columns, table)
        await conn.run_sync(_downgrade, "schedule", 1)
        await conn.commit()
        for table, cols in NEW.items():
            assert not cols & await conn.run_sync(_columns, table)
        # An activity made before the upgrade…
        now = datetime(2026, 3, 2, tzinfo=UTC)
        gid = (
            await conn.execute(
                insert(groups).values(
                    platform="console",
                    adapter="console",
                    scope_id="old",
                    title="old",
                    timezone="Asia/Shanghai",
                    language="zh-CN",
                    created_at=now,
                )
            )
        ).inserted_primary_key
        assert gid is not None
        # Only the columns the old schema has (the new ones have no Python-side default).
        await conn.execute(
            insert(activities).values(
                group_id=gid[0],
                title="old",
                description="",
                start_at=now,
                duration_s=60,
                status="open",
                created_at=now,
            )
        )
        await conn.commit()
    await database.migrate()
    async with database.engine.connect() as conn:
        assert await conn.run_sync(_diffs, MINE) == []
        # …is a planned activity after it.
        kinds = (await conn.execute(select(activities.c.kind))).scalars().all()
        assert kinds == ["event"]
        assert "note" in await conn.run_sync(_columns, activity_rsvps.name)
