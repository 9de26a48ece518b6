"""``python -m bot bench checkin``: check-ins and activity points through the whole pipeline.

Check-ins are measured end to end (console adapter → dispatcher → command → one SQLite
transaction → reply), one distinct member per claim so every one is a real credit. The plain
message section runs with activity points on, to show they keep the hot path off the database.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.console.adapter import ConsoleAdapter
from bench.clock import BenchClock
from bench.figures import percentile, positive_int
from bot.app import App
from bot.config import Settings
from storage.checkin import LedgerRepo

#: The start of the zh-CN "check-in done" reply (the bench group speaks the default language).
_DONE = "✅ 签到成功"


def _credited(records: list[dict[str, Any]]) -> int:
    """How many of ``records`` are a successful check-in's reply."""
    return sum(1 for r in records if r.get("action") == "send" and str(r.get("text", "")).startswith(_DONE))


async def _paced(app: Any, adapter: Any, count: int, rate: int) -> tuple[list[float], float]:
    """Check-ins by ``count`` members arriving at ``rate`` per second; each one's latency from
    when it was due to when its reply was sent, and the seconds the whole run took."""
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    tasks: list[asyncio.Task[None]] = []

    async def one(i: int, due: float) -> None:
        task = adapter.message("bench", f"u{i}", "签到")
        if task is not None:
            await task
        latencies.append(loop.time() - due)

    start = loop.time()
    sent = 0
    while sent < count:
        now = loop.time()
        due_by_now = min(count, int((now - start) * rate) + 1)
        while sent < due_by_now:
            tasks.append(asyncio.create_task(one(sent, start + sent / rate)))
            sent += 1
        await asyncio.sleep(0.0005)
    await asyncio.gather(*tasks)
    return latencies, loop.time() - start


async def run(argv: list[str]) -> dict[str, float]:
    """Check-ins per second with p50/p99, duplicate claims, and plain messages with activity on."""
    parser = argparse.ArgumentParser(
        prog="python -m bot bench checkin",
        description="Check-ins (back to back and arriving on schedule) and plain messages with activity on.",
    )
    parser.add_argument(
        "checkins", nargs="?", type=positive_int, default=3_000, help="members checking in (default 3000)"
    )
    parser.add_argument(
        "messages",
        nargs="?",
        type=positive_int,
        default=20_000,
        help="plain messages afterwards (default 20000)",
    )
    parser.add_argument(
        "rate", nargs="?", type=positive_int, default=1_000, help="arrivals per second (default 1000)"
    )
    args = parser.parse_args(argv)
    checkins, messages, rate = args.checkins, args.messages, args.rate
    members = 500
    with tempfile.TemporaryDirectory(prefix="qunyou-bench-checkin-") as tmp:
        settings = Settings()
        settings = settings.model_copy(
            update={
                "storage": settings.storage.model_copy(
                    update={"url": f"sqlite+aiosqlite:///{Path(tmp) / 'b.db'}"}
                )
            }
        )
        clock = BenchClock(datetime.fromisoformat("2026-03-02T09:00:00+08:00"))
        adapter = ConsoleAdapter("console", clock=clock)
        app = App(settings, clock=clock, adapters=[adapter])
        await app.start()
        # The floor on this machine: one empty write transaction (begin, a trivial query,
        # commit) on the path a check-in's transaction takes.
        assert app.services is not None
        floor: list[float] = []
        repo = LedgerRepo(app.services.db)
        for _ in range(300):
            t = time.perf_counter()
            await repo.round_trip()
            floor.append(time.perf_counter() - t)
        # Warm-up: members seen once, so first-sight upserts are not counted as check-in cost.
        for i in range(checkins):
            await adapter.message("bench", f"u{i}", "hi")
        # ...and their first-message badges written and announced now, not during the timing.
        await app.services.batcher.flush()
        adapter.take()
        latencies: list[float] = []
        done = 0
        start = time.perf_counter()
        for i in range(checkins):
            t = time.perf_counter()
            await adapter.message("bench", f"u{i}", "签到")
            latencies.append(time.perf_counter() - t)
            if i % 500 == 0:
                done += _credited(adapter.take())
        elapsed = time.perf_counter() - start
        done += _credited(adapter.take())
        # The next day, the same members arrive on their own at a steady rate (open loop):
        # latency counts from when each was due, so a backlog shows up in it.
        clock.advance(timedelta(days=1))
        paced_lat, paced_s = await _paced(app, adapter, checkins, rate)
        done += _credited(adapter.take())
        if done != 2 * checkins:
            raise RuntimeError(f"only {done} of {2 * checkins} check-ins were credited")
        dup_lat: list[float] = []
        for i in range(min(checkins, 2_000)):
            t = time.perf_counter()
            await adapter.message("bench", f"u{i}", "签到")
            dup_lat.append(time.perf_counter() - t)
        adapter.take()
        # Plain messages with activity points: the hot path the core bench also measures.
        msg_lat: list[float] = []
        m_start = time.perf_counter()
        for i in range(messages):
            if i % 100 == 0:
                clock.advance(timedelta(seconds=7))
            t = time.perf_counter()
            await adapter.message("bench", f"u{i % members}", f"plain message number {i} about things")
            msg_lat.append(time.perf_counter() - t)
            if i % 1000 == 0:
                adapter.take()
        m_elapsed = time.perf_counter() - m_start
        f_start = time.perf_counter()
        await app.services.batcher.flush()
        flush_s = time.perf_counter() - f_start
        adapter.take()
        await app.stop()
    figures = {
        "checkins": float(checkins),
        "empty_txn_p50_ms": percentile(floor, 0.50) * 1000,
        "checkins_per_s": checkins / elapsed,
        "checkin_p50_ms": percentile(latencies, 0.50) * 1000,
        "checkin_p99_ms": percentile(latencies, 0.99) * 1000,
        "checkin_mean_ms": statistics.fmean(latencies) * 1000,
        "paced_rate_per_s": float(rate),
        "paced_achieved_per_s": checkins / paced_s,
        "paced_p50_ms": percentile(paced_lat, 0.50) * 1000,
        "paced_p99_ms": percentile(paced_lat, 0.99) * 1000,
        "duplicate_p99_ms": percentile(dup_lat, 0.99) * 1000,
        "messages_with_activity_per_s": messages / m_elapsed,
        "message_p99_ms": percentile(msg_lat, 0.99) * 1000,
        "final_flush_ms": flush_s * 1000,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    rows = [
        ("empty write transaction p50", f"{figures['empty_txn_p50_ms']:.3f} ms", "(this machine's floor)"),
        ("check-ins/s", f"{figures['checkins_per_s']:,.0f}", "target ≥ 1,000"),
        ("check-in p50", f"{figures['checkin_p50_ms']:.3f} ms", ""),
        ("check-in p99", f"{figures['checkin_p99_ms']:.3f} ms", "target ≤ 20 ms"),
        (f"arriving at {rate:,}/s: achieved", f"{figures['paced_achieved_per_s']:,.0f}/s", ""),
        (f"arriving at {rate:,}/s: p50", f"{figures['paced_p50_ms']:.3f} ms", ""),
        (f"arriving at {rate:,}/s: p99", f"{figures['paced_p99_ms']:.3f} ms", "target ≤ 20 ms"),
        ("already-checked-in p99", f"{figures['duplicate_p99_ms']:.3f} ms", ""),
        (
            "plain messages/s (activity on)",
            f"{figures['messages_with_activity_per_s']:,.0f}",
            "target ≥ 10,000",
        ),
        ("plain message p99", f"{figures['message_p99_ms']:.3f} ms", ""),
        ("final activity flush", f"{figures['final_flush_ms']:.1f} ms", ""),
        ("max RSS", f"{figures['max_rss_mb']:.0f} MB", ""),
    ]
    print("\ncheckin: check-ins and activity points through the whole pipeline (SQLite, virtual clock)")
    width = max(len(r[0]) for r in rows)
    for name, value, target in rows:
        print(f"  {name.ljust(width)}  {value:>14}  {target}")
    return figures
