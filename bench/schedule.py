"""``python -m bot bench schedule``: the scheduler under the planning features' load.

* rebuild: 100,000 scheduled posts (rows + jobs) in the database, then a cold start of the whole
  app; the scheduler must have every job indexed within 5 s.
* order: under the virtual clock an hour of those posts falls due; every post must come out in
  time order, at its own minute, exactly once.
* lateness: under the real clock, probe jobs fire while plain messages stream through the
  dispatcher; p99 lateness must stay ≤ 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.console.adapter import ConsoleAdapter
from bench.figures import percentile, positive_float, positive_int
from bot.app import App
from bot.clock import Clock, SystemClock, VirtualClock, zone
from bot.config import Settings
from bot.scheduler import At
from bot.timeparse import localize
from storage.schedules import seed_bench

START = datetime.fromisoformat("2026-03-02T09:00:00+08:00")
TZ = "Asia/Shanghai"


def _settings(db: Path) -> Settings:
    settings = Settings()
    return settings.model_copy(
        update={"storage": settings.storage.model_copy(update={"url": f"sqlite+aiosqlite:///{db}"})}
    )


def _table(title: str, rows: list[tuple[str, str, str]]) -> None:
    print(f"\n{title}")
    width = max(len(r[0]) for r in rows)
    for name, value, target in rows:
        print(f"  {name.ljust(width)}  {value:>14}  {target}")


async def _app(db: Path, clock: Clock) -> tuple[App, ConsoleAdapter]:
    adapter = ConsoleAdapter("console", clock=clock)
    app = App(_settings(db), clock=clock, adapters=[adapter])
    await app.start()
    return app, adapter


async def _seed(app: App, count: int, rng: random.Random) -> None:
    """``count`` daily posts at random minutes, as rows and jobs exactly as the feature writes them."""
    services = app.services
    assert services is not None
    adapter: Any = services.adapters["console"]
    group = await services.directory.group_for(adapter.group_chat("bench"))
    now = services.clock.now()
    tz = zone(TZ)
    today = now.astimezone(tz).date()
    posts: list[dict[str, Any]] = []
    jobs: list[dict[str, Any]] = []
    for i in range(1, count + 1):
        hour, minute = rng.randrange(24), rng.randrange(60)
        spec = {
            "type": "cron",
            "minute": str(minute),
            "hour": str(hour),
            "day": "*",
            "month": "*",
            "day_of_week": "*",
        }
        at = localize(today, datetime.min.time().replace(hour=hour, minute=minute), tz)
        if at <= now:
            at = localize(
                today + timedelta(days=1), datetime.min.time().replace(hour=hour, minute=minute), tz
            )
        posts.append(
            {
                "id": i,
                "group_id": group.id,
                "channel_id": None,
                "thread_id": None,
                "when_text": f"daily {hour:02d}:{minute:02d}",
                "spec": json.dumps(spec, sort_keys=True),
                "text": f"post {i} at {hour:02d}:{minute:02d}",
                "urgent": False,
                "paused": False,
                "done": False,
                "created_by": "bench",
                "created_at": now,
                "last_local": None,
                "posts": 0,
            }
        )
        trigger = {
            "type": "cron",
            "tz": TZ,
            **{k: spec[k] for k in ("minute", "hour", "day", "month", "day_of_week")},
        }
        jobs.append(
            {
                "id": f"sched:{i}",
                "kind": "schedule-post",
                "group_id": group.id,
                "trigger": json.dumps(trigger, sort_keys=True),
                "payload": json.dumps({"post_id": i}),
                "next_run_at": at,
                "last_run_at": None,
                "paused": False,
                "created_at": now,
            }
        )
    await seed_bench(services.db, posts, jobs)


async def _rebuild_and_order(count: int, window_minutes: int) -> dict[str, float]:
    rng = random.Random(5)
    with tempfile.TemporaryDirectory(prefix="qunyou-bench-sched-") as tmp:
        db = Path(tmp) / "b.db"
        clock = VirtualClock(START)
        app, _ = await _app(db, clock)
        t = time.perf_counter()
        await _seed(app, count, rng)
        seed_s = time.perf_counter() - t
        await app.stop()

        t = time.perf_counter()
        app, adapter = await _app(db, clock)
        start_s = time.perf_counter() - t
        assert app.services is not None
        scheduler = app.services.scheduler
        pending = scheduler.pending()

        t = time.perf_counter()
        await scheduler.run_due(clock.now() + timedelta(minutes=window_minutes))
        assert app.dispatcher is not None
        await app.dispatcher.drain()
        fire_s = time.perf_counter() - t
        sent = [r for r in adapter.take() if r["action"] == "send"]
        tz = zone(TZ)
        stamps = [datetime.fromisoformat(r["at"]) for r in sent]
        in_order = all(a <= b for a, b in itertools.pairwise(stamps))
        on_time = all(
            r["text"].endswith(datetime.fromisoformat(r["at"]).astimezone(tz).strftime("%H:%M")) for r in sent
        )
        texts = [r["text"] for r in sent]
        once = len(texts) == len(set(texts))
        due = sum(1 for j in await scheduler.list("sched:") if j.last_run_at is not None)
        await app.stop()
    return {
        "schedules": float(count),
        "seed_s": seed_s,
        "start_to_ready_s": start_s,
        "jobs_indexed": float(pending),
        "window_minutes": float(window_minutes),
        "fired": float(len(sent)),
        "claimed": float(due),
        "fired_per_s": len(sent) / fire_s if fire_s else 0.0,
        "in_time_order": 1.0 if in_order and on_time else 0.0,
        "exactly_once": 1.0 if once and due == len(sent) else 0.0,
    }


async def _lateness(probes: int, spread_s: float, rate: float) -> dict[str, float]:
    """Probe jobs on the real clock while plain messages arrive at ``rate`` per second (0: flat out)."""
    with tempfile.TemporaryDirectory(prefix="qunyou-bench-late-") as tmp:
        clock = SystemClock()
        app, adapter = await _app(Path(tmp) / "b.db", clock)
        services = app.services
        assert services is not None
        late: list[float] = []

        async def probe(_services: Any, _job: Any, fire_time: datetime) -> None:
            late.append((clock.now() - fire_time).total_seconds())

        services.scheduler.register("bench-probe", probe)
        base = clock.now() + timedelta(seconds=1)
        for i in range(probes):
            at = base + timedelta(seconds=spread_s * i / probes)
            await services.scheduler.schedule(f"bench-probe:{i}", "bench-probe", At(at.astimezone(UTC)))
        messages = 0
        began = time.monotonic()
        deadline = began + spread_s + 2.5
        while time.monotonic() < deadline and len(late) < probes:
            task = adapter.message("bench", f"user{messages % 300}", f"plain message {messages}")
            await task
            messages += 1
            # A platform delivers messages from the network, so the loop runs other work between
            # them; pacing models a busy group, 0 models a flood that saturates the bot.
            wait = (began + messages / rate - time.monotonic()) if rate > 0 else 0.0
            await asyncio.sleep(max(0.0, wait))
            if messages % 500 == 0:
                adapter.take()
        await asyncio.sleep(0)
        await app.stop()
    elapsed = time.monotonic() - began
    return {
        "rate_target": rate,
        "rate_achieved": messages / elapsed if elapsed else 0.0,
        "probes": float(probes),
        "probes_fired": float(len(late)),
        "messages_during": float(messages),
        "p50_lateness_ms": percentile(late, 0.5) * 1000,
        "p99_lateness_ms": percentile(late, 0.99) * 1000,
        "max_lateness_ms": max(late, default=0.0) * 1000,
    }


async def run(argv: list[str]) -> dict[str, float]:
    """``[count] [window_minutes] [probes] [rate]``; defaults 100000 60 200 1000."""
    parser = argparse.ArgumentParser(
        prog="python -m bot bench schedule", description="Scheduler rebuild, ordering and lateness."
    )
    parser.add_argument("count", nargs="?", type=positive_int, default=100_000, help="jobs (default 100000)")
    parser.add_argument(
        "window", nargs="?", type=positive_int, default=60, help="window in minutes (default 60)"
    )
    parser.add_argument(
        "probes", nargs="?", type=positive_int, default=200, help="lateness probes (default 200)"
    )
    parser.add_argument(
        "rate", nargs="?", type=positive_float, default=1000.0, help="probes per second (default 1000)"
    )
    args = parser.parse_args(argv)
    count, window, probes, rate = args.count, args.window, args.probes, args.rate
    figures = await _rebuild_and_order(count, window)
    figures.update(await _lateness(probes, spread_s=8.0, rate=rate))
    flood = await _lateness(probes, spread_s=8.0, rate=0.0)
    figures.update({f"flood_{k}": v for k, v in flood.items()})
    figures["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    _table(
        "schedule: planned posts as rows + jobs (SQLite)",
        [
            ("schedules in the database", f"{figures['schedules']:,.0f}", ""),
            ("cold start to ready", f"{figures['start_to_ready_s']:.2f} s", "target ≤ 5 s"),
            ("jobs indexed at start", f"{figures['jobs_indexed']:,.0f}", f"= {count:,}"),
            (
                f"posts due in {window} min (virtual)",
                f"{figures['fired']:,.0f}",
                f"claimed {figures['claimed']:,.0f}",
            ),
            ("posts fired/s", f"{figures['fired_per_s']:,.0f}", ""),
            (
                "fired in time order, on their minute",
                "yes" if figures["in_time_order"] else "NO",
                "must be yes",
            ),
            ("each exactly once", "yes" if figures["exactly_once"] else "NO", "must be yes"),
            ("real clock: plain messages/s", f"{figures['rate_achieved']:,.0f}", f"paced at {rate:,.0f}"),
            ("  probes fired", f"{figures['probes_fired']:,.0f}", f"of {probes}"),
            ("  p50 lateness", f"{figures['p50_lateness_ms']:.1f} ms", ""),
            ("  p99 lateness", f"{figures['p99_lateness_ms']:.1f} ms", "target ≤ 1000 ms"),
            ("flood: plain messages/s", f"{figures['flood_rate_achieved']:,.0f}", "as fast as possible"),
            ("  probes fired in time", f"{figures['flood_probes_fired']:,.0f}", f"of {probes}"),
            ("  p99 lateness of those", f"{figures['flood_p99_lateness_ms']:.1f} ms", "informational"),
            ("max RSS", f"{figures['max_rss_mb']:.0f} MB", ""),
        ],
    )
    return figures


if __name__ == "__main__":
    import sys

    print(json.dumps(asyncio.run(run(sys.argv[1:])), sort_keys=True))
