"""An activity is stored together with its reminders, or not at all; dates years away are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from storage import Database, GroupRepo
from storage.activities import ActivitiesRepo, PlannedJob, activities
from storage.schema import scheduled_jobs
from tests.harness import Harness, texts

MOD = {"role": "moderator"}
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


async def _count(db: Database, table: object) -> int:
    async with db.begin() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())  # type: ignore[arg-type]


async def test_far_future_activity_is_refused_and_nothing_is_stored(h: Harness) -> None:
    for start in ("9999-12-30 20:00", "9999-12-31 23:00", "2200-01-01 20:00", "2031-03-10 20:00"):
        reply = texts(await h.say("demo", "mod", f"/event add Party | {start}", **MOD))
        assert len(reply) == 1 and "太远了，最多只能提前 5 年安排" in reply[0], start
    # West of UTC, 9999-12-31 23:00 local is already past ``datetime.max`` in UTC.
    await h.say("demo", "mod", "/set timezone America/New_York", **MOD)
    await h.say("demo", "mod", "/set language en", **MOD)
    reply = texts(await h.say("demo", "mod", "/event add Party | 9999-12-31 23:00", **MOD))
    assert reply[0].startswith("9999-12-31 is too far ahead: plan at most 5 years ahead.")
    assert texts(await h.say("demo", "mod", "/schedule add once 9999-12-31 23:59 hi", **MOD))[0].startswith(
        "9999-12-31 is too far ahead"
    )
    assert await _count(h.services.db, activities) == 0
    assert await h.services.scheduler.list("ev:") == []
    assert texts(await h.say("demo", "mod", "/events")) == ["No upcoming activities."]


async def test_activity_within_the_horizon_gets_its_whole_timeline(h: Harness) -> None:
    reply = texts(await h.say("demo", "mod", "/event add Party | 2030-03-01 20:00", **MOD))
    assert "Party" in reply[0]
    jobs = await h.services.scheduler.list("ev:1:")
    assert sorted(j.payload["phase"] for j in jobs) == ["feedback", "start", "summary", "t1d", "t1h", "t3d"]
    assert all(j.next_run_at is not None for j in jobs)


async def test_reminder_rows_and_activity_commit_together(database: Database) -> None:
    group = await GroupRepo(database).get_or_create(
        platform="console",
        adapter="console",
        scope_id="demo",
        title="demo",
        timezone="Asia/Shanghai",
        language="zh-CN",
        now=NOW,
    )
    repo = ActivitiesRepo(database)
    fields = {
        "group_id": group.id,
        "channel_id": None,
        "thread_id": None,
        "title": "t",
        "description": "",
        "start_at": NOW + timedelta(days=10),
        "duration_s": 3600,
        "capacity": None,
        "created_by": None,
        "now": NOW,
    }

    def broken(activity_id: int) -> list[PlannedJob]:
        raise OverflowError("date value out of range")  # what year 9999 used to do after the insert

    with pytest.raises(OverflowError):
        await repo.add(**fields, jobs=broken)  # type: ignore[arg-type]
    assert await _count(database, activities) == 0

    def good(activity_id: int) -> list[PlannedJob]:
        at = NOW + timedelta(days=9)
        return [
            PlannedJob(f"ev:{activity_id}:t1d", "events-phase", {"type": "at", "at": at.isoformat()}, {}, at)
        ]

    act = await repo.add(**fields, jobs=good)  # type: ignore[arg-type]
    assert await _count(database, activities) == 1
    async with database.begin() as conn:
        ids = (await conn.execute(select(scheduled_jobs.c.id))).scalars().all()
    assert ids == [f"ev:{act.id}:t1d"]
