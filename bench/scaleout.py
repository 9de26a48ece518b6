"""``python -m bot bench scaleout [--pg URL] [--jobs N] [--messages N]``: workers sharing PostgreSQL.

Real worker processes (``multiprocessing``, spawned), each a whole app with a console adapter and
a virtual clock, on one throwaway PostgreSQL database (created on the server ``--pg`` names, or
``QUNYOU_TEST_POSTGRES_URL``, and dropped afterwards):

* scheduler: ``--jobs`` one-shot jobs due at the same instant, fired by one worker and then by two
  at once (released together by a barrier): jobs/s claimed in all, and the wall time of one claim
  per job for one worker (the claim's transaction plus the run's lease completion);
* pipeline: ``--messages`` plain group messages per worker, each worker its own chats, with one
  worker and with two at once: messages/s per worker and in all (on PostgreSQL every message is
  also claimed in ``processed_events``, so two workers handle a redelivered update once), and
  the SQL statements per message, and the share of messages whose flood window went to the
  database (a member's third message in the window on one worker, and on: fifty members posting
  two lines a second each, the default ``--rate 100``, are all flooding, so that is the flood
  path's cost; ``--rate 10`` is ordinary chat, two lines in ten seconds each);
* cooldowns (``bot.cooldowns``): the wall time of one claim that goes to the database, and of one
  this worker already knows is running (answered from memory).

The figures depend on the machine: run it where the workers will run.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event

START = datetime.fromisoformat("2026-03-02T09:00:00+08:00")
DUE = START + timedelta(seconds=30)


async def _admin(base: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(base.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _seed_jobs(url: str, count: int) -> None:
    import json

    from storage import Database
    from storage.schedules import seed_bench

    db = Database(url)
    try:
        await db.migrate()
        await db.engine.dispose()
        at = {"type": "at", "at": DUE.astimezone(UTC).isoformat()}
        jobs = [
            {
                "id": f"bench:{uuid.uuid4().hex}",
                "kind": "bench.noop",
                "group_id": None,
                "trigger": json.dumps(at),
                "payload": "{}",
                "next_run_at": DUE,
                "last_run_at": None,
                "paused": False,
                "created_at": START,
            }
            for _ in range(count)
        ]
        await seed_bench(db, [], jobs)
    finally:
        await db.close()


async def _worker(
    url: str, role: str, wid: int, messages: int, barrier: Any, rate: int = 100
) -> dict[str, float]:
    from adapters.console.adapter import ConsoleAdapter
    from bench.clock import BenchClock
    from bot.app import App
    from bot.config import Settings

    settings = Settings()
    settings = settings.model_copy(update={"storage": settings.storage.model_copy(update={"url": url})})
    clock = BenchClock(START)
    adapter = ConsoleAdapter("console", clock=clock)
    app = App(settings, clock=clock, adapters=[adapter])
    await app.start()
    assert app.services is not None
    services = app.services

    async def noop(_services: Any, _job: Any, _fire: datetime) -> None:
        return None

    services.scheduler.register("bench.noop", noop)
    try:
        if role == "jobs":
            await asyncio.to_thread(barrier.wait)
            t = time.perf_counter()
            await services.scheduler.run_due(DUE + timedelta(seconds=1))
            return {"elapsed": time.perf_counter() - t, "claimed": float(services.scheduler.claimed)}
        for i in range(50):  # warm up: the group and members exist
            await adapter.message(f"w{wid}", f"user{i}", "hello")
        adapter.take()
        statements = [0]

        def count(*_args: Any) -> None:
            statements[0] += 1

        assert app.db is not None
        event.listen(app.db.engine.sync_engine, "before_cursor_execute", count)
        await asyncio.to_thread(barrier.wait)
        t = time.perf_counter()
        for i in range(messages):
            if i % rate == 0:
                clock.advance(timedelta(seconds=1))
            await adapter.message(f"w{wid}", f"user{i % 50}", f"plain message number {i}")
            if i % 1000 == 0:
                adapter.take()
        from handlers.moderation.service import get_state

        shared_flood = get_state(services).shared_flood
        figures = {
            "elapsed": time.perf_counter() - t,
            "handled": float(messages),
            "statements": float(statements[0]),
            "flood_asked": float(shared_flood.asked if shared_flood is not None else 0),
        }
        event.remove(app.db.engine.sync_engine, "before_cursor_execute", count)
        if wid == 0:
            figures.update(await _cooldowns(services))
        return figures
    finally:
        await app.stop()


async def _cooldowns(services: Any, claims: int = 300) -> dict[str, float]:
    now, span = services.clock.now(), timedelta(minutes=1)
    t = time.perf_counter()
    for i in range(claims):  # each a new cooldown: one statement each
        await services.cooldowns.claim("bench", f"key{i}", now, span)
    fresh = time.perf_counter() - t
    t = time.perf_counter()
    for i in range(claims):  # each one this worker holds: memory only
        await services.cooldowns.claim("bench", f"key{i}", now, span)
    known = time.perf_counter() - t
    return {"cooldown_claim_ms": fresh / claims * 1000, "cooldown_known_us": known / claims * 1e6}


def _child(url: str, role: str, wid: int, messages: int, barrier: Any, out: Any, rate: int) -> None:
    out.put(asyncio.run(_worker(url, role, wid, messages, barrier, rate)))


def _run_workers(url: str, role: str, workers: int, messages: int, rate: int = 100) -> list[dict[str, float]]:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(workers)
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_child, args=(url, role, wid, messages, barrier, out, rate))
        for wid in range(workers)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    return results


async def _fresh_database(base: str) -> tuple[str, str]:
    name = f"qunyou_bench_{uuid.uuid4().hex[:10]}"
    await _admin(base, f'CREATE DATABASE "{name}"')
    prefix, _, _ = base.rpartition("/")
    return f"{prefix}/{name}", name


async def run(argv: list[str]) -> dict[str, float]:
    """Scheduler claims and pipeline throughput with one and two workers on PostgreSQL."""
    parser = argparse.ArgumentParser(prog="python -m bot bench scaleout")
    parser.add_argument("--pg", default=os.environ.get("QUNYOU_TEST_POSTGRES_URL"), help="a PostgreSQL URL")
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument(
        "--rate",
        type=int,
        default=100,
        help="messages per virtual second among 50 members (100: each floods; 10: two lines in 10 s each)",
    )
    args = parser.parse_args(argv)
    if not args.pg:
        print("bench scaleout needs PostgreSQL: --pg postgresql+asyncpg://USER@HOST/DB")
        return {}
    figures: dict[str, float] = {}
    for workers in (1, 2):
        url, name = await _fresh_database(args.pg)
        try:
            await _seed_jobs(url, args.jobs)
            jobs = await asyncio.to_thread(_run_workers, url, "jobs", workers, 0)
            claimed = sum(r["claimed"] for r in jobs)
            assert claimed == args.jobs, f"{claimed} claims for {args.jobs} jobs"
            wall = max(r["elapsed"] for r in jobs)
            figures[f"jobs_per_s_{workers}w"] = args.jobs / wall
            if workers == 1:
                figures["claim_ms_per_job"] = wall / args.jobs * 1000
            msgs = await asyncio.to_thread(_run_workers, url, "messages", workers, args.messages, args.rate)
            figures[f"messages_per_s_{workers}w"] = sum(r["handled"] / r["elapsed"] for r in msgs)
            statements = sum(r["statements"] for r in msgs) / sum(r["handled"] for r in msgs)
            figures[f"statements_per_message_{workers}w"] = statements
            asked = sum(r["flood_asked"] for r in msgs) / sum(r["handled"] for r in msgs)
            figures[f"flood_asked_per_message_{workers}w"] = asked
            for r in msgs:
                figures.update({k: v for k, v in r.items() if k.startswith("cooldown_")})
        finally:
            await _admin(args.pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print("\nscaleout: workers sharing one PostgreSQL database (this machine)")
    rows = [
        ("scheduler jobs/s, 1 worker", f"{figures['jobs_per_s_1w']:,.0f}"),
        ("scheduler jobs/s, 2 workers", f"{figures['jobs_per_s_2w']:,.0f}"),
        ("claim + completion per job, 1 worker", f"{figures['claim_ms_per_job']:.2f} ms"),
        ("pipeline messages/s, 1 worker", f"{figures['messages_per_s_1w']:,.0f}"),
        ("pipeline messages/s, 2 workers", f"{figures['messages_per_s_2w']:,.0f}"),
        ("SQL statements per message, 1 worker", f"{figures['statements_per_message_1w']:.2f}"),
        ("SQL statements per message, 2 workers", f"{figures['statements_per_message_2w']:.2f}"),
        ("flood window asked the database, 1 worker", f"{figures['flood_asked_per_message_1w']:.1%}"),
        ("flood window asked the database, 2 workers", f"{figures['flood_asked_per_message_2w']:.1%}"),
        ("cooldown claim, to the database", f"{figures['cooldown_claim_ms']:.2f} ms"),
        ("cooldown claim, known running", f"{figures['cooldown_known_us']:.1f} µs"),
    ]
    width = max(len(r[0]) for r in rows)
    for label, value in rows:
        print(f"  {label.ljust(width)}  {value:>12}")
    return figures
