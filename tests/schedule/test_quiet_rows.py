"""Quiet hours leave no trail: deferred runs share a row per night, pruned once they have run."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.schema import scheduled_jobs
from tests.harness import Harness, sends
from tests.schedule.conftest import HarnessFactory

MOD = {"role": "moderator"}


async def job_rows(h: Harness) -> int:
    async with h.services.db.begin() as conn:
        return int((await conn.execute(select(func.count()).select_from(scheduled_jobs))).scalar_one())


async def test_per_minute_schedule_under_quiet_hours_leaves_bounded_rows(h: Harness) -> None:
    # Every minute from 22:00 to 23:59, with quiet hours 22:00-23:30: 90 runs a night fall inside.
    # (A whole day of per-minute runs takes a minute of wall time; these two hours are the same case.)
    await h.say("demo", "mod", "/quiet 22:00-23:30", **MOD)
    await h.say("demo", "mod", "/schedule add * 22-23 * * * tick", **MOD)
    baseline = await job_rows(h)
    posted = await h.advance(2 * 86400)
    at = [r["at"] for r in sends(posted)]
    # Each night: the 23:30 run itself, then every minute to 23:59 — and no burst of 90 at 23:30.
    assert len(at) == 2 * 30
    assert at.count("2026-03-02T23:30:00+08:00") == 1
    assert at[0] == "2026-03-02T23:30:00+08:00" and at[-1] == "2026-03-03T23:59:00+08:00"
    # Before the fix: one finished row per deferred run, 180 after two nights.
    assert await job_rows(h) <= baseline + 1


async def test_deferred_post_is_posted_once_then_pruned(h: Harness) -> None:
    await h.say("demo", "mod", "/quiet 22:00-08:00", **MOD)
    await h.say("demo", "mod", "/schedule add daily 23:00 晚安", **MOD)
    await h.advance(to="2026-03-02T23:05:00+08:00")
    assert [j.id for j in await h.services.scheduler.list("sched:")] == ["sched:1", "sched:1~20260303T0000"]
    await h.restart()
    posted = await h.advance(to="2026-03-03T08:30:00+08:00")
    assert [(r["at"], r["text"]) for r in sends(posted)] == [("2026-03-03T08:00:00+08:00", "晚安")]
    assert [j.id for j in await h.services.scheduler.list("sched:")] == ["sched:1"]
    await h.restart()
    assert sends(await h.advance(60)) == []


async def test_hourly_runs_deferred_to_one_morning_post_once(make_harness: HarnessFactory) -> None:
    async with make_harness() as h:
        await h.say("demo", "mod", "/quiet 22:00-08:30", **MOD)
        await h.say("demo", "mod", "/schedule add 0 * * * * hourly", **MOD)
        posted = await h.advance(to="2026-03-03T09:00:00+08:00")
        night = [r["at"] for r in sends(posted) if "T08:" in r["at"] or "T22:" in r["at"]]
        # Eleven runs (22:00…08:00) fall in the window; the group gets one post when it ends.
        assert night == ["2026-03-03T08:30:00+08:00"]
        assert len(await h.services.scheduler.list("sched:1~")) == 0
