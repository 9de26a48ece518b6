"""The scheduler: rows as truth, rebuild at start, never twice, grace window, time order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.context import Context
from bot.feature import Feature
from bot.messages import OutgoingMessage
from bot.params import Int, Word
from bot.router import Router
from bot.scheduler import At, Cron, Every, next_fire
from bot.services import Services
from handlers import FEATURES
from storage.models import Job
from tests.harness import Harness, texts


def test_weekday_names_and_dst() -> None:
    # 2026-03-02 is a Monday; "fri" must mean Friday (APScheduler counts Monday as 0).
    after = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
    nxt = next_fire(Cron(tz="Asia/Shanghai", minute="0", hour="20", day_of_week="fri"), after)
    assert nxt == datetime(2026, 3, 6, 12, 0, tzinfo=UTC)
    # Europe/Berlin springs forward on 2026-03-29: 09:00 local is 08:00 UTC before, 07:00 after.
    daily = Cron(tz="Europe/Berlin", minute="0", hour="9")
    before = next_fire(daily, datetime(2026, 3, 28, 0, 0, tzinfo=UTC))
    after_dst = next_fire(daily, datetime(2026, 3, 29, 0, 0, tzinfo=UTC))
    assert before == datetime(2026, 3, 28, 8, 0, tzinfo=UTC)
    assert after_dst == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert next_fire(At(after), after) is None
    every = Every(seconds=60, start=after)
    assert next_fire(every, after, previous=after) == after + timedelta(seconds=60)


def _feature(calls: list[tuple[str, datetime]]) -> Feature:
    router = Router("ticker")

    @router.command("plan", where="group", args=[Int("minutes"), Word("name")])
    async def plan(ctx: Context, minutes: int, name: str) -> None:
        assert ctx.group is not None
        when = ctx.now + timedelta(minutes=minutes)
        await ctx.services.scheduler.schedule(
            f"tick:{name}", "tick", At(when), {"name": name}, group_id=ctx.group.id
        )
        await ctx.reply("planned")

    @router.command("daily", where="group")
    async def daily(ctx: Context) -> None:
        assert ctx.group is not None
        await ctx.services.scheduler.schedule(
            "tick:daily",
            "tick",
            Cron(tz=ctx.tz, minute="0", hour="10"),
            {"name": "daily"},
            group_id=ctx.group.id,
        )
        await ctx.reply("planned")

    async def tick(services: Services, job: Job, fire_time: datetime) -> None:
        calls.append((job.payload["name"], fire_time))
        group = await services.directory.group_by_id(job.group_id or 0)
        assert group is not None
        await services.send(
            services.directory.chat_for(group), OutgoingMessage.of(f"tick {job.payload['name']}")
        )

    async def startup(services: Services) -> None:
        services.scheduler.register("tick", tick)

    return Feature(name="ticker", router=router, startup=startup)


async def test_jobs_fire_in_time_order_once(tmp_path: Path) -> None:
    calls: list[tuple[str, datetime]] = []
    async with Harness(tmp_path, features=[*FEATURES, _feature(calls)]) as h:
        await h.say("demo", "alice", "/plan 30 b")
        await h.say("demo", "alice", "/plan 10 a")
        await h.say("demo", "alice", "/plan 30 c")
        out = await h.advance(3600)
        assert texts(out) == ["tick a", "tick b", "tick c"]
        assert [r["at"] for r in out] == [
            "2026-03-02T09:10:00+08:00",
            "2026-03-02T09:30:00+08:00",
            "2026-03-02T09:30:00+08:00",
        ]
        assert texts(await h.advance(86400)) == []
        assert len(calls) == 3


async def test_restart_rebuilds_jobs_and_keeps_state(tmp_path: Path) -> None:
    calls: list[tuple[str, datetime]] = []
    async with Harness(tmp_path, features=[*FEATURES, _feature(calls)]) as h:
        await h.say("demo", "olga", "/set language en", role="owner")
        await h.say("demo", "alice", "/daily")
        await h.say("demo", "alice", "/plan 120 later")
        await h.restart()
        assert texts(await h.say("demo", "alice", "/ping")) == ["pong 🏓 I'm here."]
        out = await h.advance(3 * 3600)
        assert texts(out) == ["tick daily", "tick later"]
        await h.restart()
        assert texts(await h.advance(86400)) == ["tick daily"]
        assert [name for name, _ in calls] == ["daily", "later", "daily"]


async def test_missed_run_within_grace_is_sent_late_beyond_is_skipped(tmp_path: Path) -> None:
    calls: list[tuple[str, datetime]] = []
    async with Harness(tmp_path, features=[*FEATURES, _feature(calls)]) as h:
        await h.say("demo", "alice", "/plan 10 soon")
        await h.say("demo", "alice", "/plan 60 far")
        # the bot is down from 09:00 to 09:15: "soon" (09:10) is 5 minutes late, within grace
        await h.app.stop()
        h.session.clock.set(h.now + timedelta(minutes=15))
        h.session.app = h.session._new_app()
        await h.session.app.start()
        assert texts(h.adapter.take()) == ["tick soon"]
        # down again from 09:15 to 10:30: "far" (10:00) is 30 minutes late, beyond grace
        await h.app.stop()
        h.session.clock.set(h.now + timedelta(minutes=75))
        h.session.app = h.session._new_app()
        await h.session.app.start()
        assert texts(h.adapter.take()) == []
        assert h.services.scheduler.skipped == 1
        assert [name for name, _ in calls] == ["soon"]
        job = await h.services.jobs.get("tick:far")
        assert job is not None and job.next_run_at is None


async def test_cancel_and_pause(tmp_path: Path) -> None:
    calls: list[tuple[str, datetime]] = []
    async with Harness(tmp_path, features=[*FEATURES, _feature(calls)]) as h:
        await h.say("demo", "alice", "/daily")
        scheduler = h.services.scheduler
        assert await scheduler.pause("tick:daily")
        assert texts(await h.advance(86400)) == []
        await scheduler.resume("tick:daily")
        assert texts(await h.advance(86400)) == ["tick daily"]
        assert await scheduler.cancel("tick:daily")
        assert texts(await h.advance(86400 * 2)) == []
        assert [j.id for j in await scheduler.list("tick:")] == []
