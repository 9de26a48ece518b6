"""``python -m bot bench`` (or ``core``): the message pipeline, measured in-process on a real SQLite file.

Plain group messages and command round trips go through the console adapter, the dispatcher
(dedupe, bands, counters) and a real database under a virtual clock.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from adapters.console.adapter import ConsoleAdapter
from bench.clock import BenchClock
from bench.figures import percentile, positive_int
from bot.app import App
from bot.config import Settings


def _table(title: str, rows: list[tuple[str, str, str]]) -> None:
    print(f"\n{title}")
    width = max(len(r[0]) for r in rows)
    for name, value, target in rows:
        print(f"  {name.ljust(width)}  {value:>14}  {target}")


async def run(argv: list[str]) -> dict[str, float]:
    """Plain messages per second with p50/p99 latency, command round trips, start-up time."""
    parser = argparse.ArgumentParser(
        prog="python -m bot bench core", description="Plain messages and command round trips (SQLite)."
    )
    parser.add_argument(
        "messages",
        nargs="?",
        type=positive_int,
        default=20_000,
        help="plain messages to send (default 20000)",
    )
    messages = parser.parse_args(argv).messages
    members = 500
    with tempfile.TemporaryDirectory(prefix="qunyou-bench-") as tmp:
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
        t0 = time.perf_counter()
        app = App(settings, clock=clock, adapters=[adapter])
        await app.start()
        ready = time.perf_counter() - t0
        # warm up: every member seen once (first sight writes a row; steady state does not)
        for i in range(members):
            task = adapter.message("bench", f"user{i}", f"hello {i}")
            await task
        adapter.take()
        latencies: list[float] = []
        start = time.perf_counter()
        for i in range(messages):
            if i % 100 == 0:
                clock.advance(timedelta(seconds=1))
            t = time.perf_counter()
            task = adapter.message("bench", f"user{i % members}", f"plain message number {i} about things")
            await task
            latencies.append(time.perf_counter() - t)
            if i % 1000 == 0:
                adapter.take()
        elapsed = time.perf_counter() - start
        adapter.take()
        commands = max(500, messages // 20)
        c_start = time.perf_counter()
        for i in range(commands):
            task = adapter.message("bench", f"user{i % members}", "/ping")
            await task
        c_elapsed = time.perf_counter() - c_start
        adapter.take()
        t_stop = time.perf_counter()
        await app.stop()
        stop_time = time.perf_counter() - t_stop
    figures = {
        "messages": float(messages),
        "messages_per_s": messages / elapsed,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
        "commands_per_s": commands / c_elapsed,
        "start_to_ready_s": ready,
        "stop_s": stop_time,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    _table(
        "core: plain group messages through the whole pipeline (SQLite, virtual clock)",
        [
            ("messages/s", f"{figures['messages_per_s']:,.0f}", "target ≥ 10,000"),
            ("p50 latency", f"{figures['p50_ms']:.3f} ms", ""),
            ("p99 latency", f"{figures['p99_ms']:.3f} ms", "target ≤ 5 ms"),
            ("command round trips/s", f"{figures['commands_per_s']:,.0f}", ""),
            ("start to ready", f"{figures['start_to_ready_s']:.3f} s", "target ≤ 2 s"),
            ("max RSS", f"{figures['max_rss_mb']:.0f} MB", ""),
        ],
    )
    return figures
