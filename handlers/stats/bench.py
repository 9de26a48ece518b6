"""``python -m bot bench stats``: ``/stats`` on a large group with a long history.

Builds a fresh SQLite file with one group of ``--members`` members and ``--days`` days of
per-member activity (``--dau`` members active a day), then drives ``/stats 7d``, ``/stats 30d``
and ``/lifecycle`` through the real core and the console adapter, timing each command from the
message going in to the reply coming out.

Two states are measured: *cold* (nothing rolled up yet, as right after an upgrade on an old
database) and *steady* (the nightly job has rolled up every complete day, as in production).
The target is steady-state ``/stats`` ≤ 200 ms for 100,000 members and a year of history.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from adapters.console.script import ScriptSession
from bot.clock import local_day
from bot.config import parse_settings
from storage.schema import activity_daily, members
from storage.stats import StatsRepo, stats_hourly, stats_member

START = "2026-03-02T09:00:00+08:00"
CHUNK = 20_000


async def _seed(session: ScriptSession, n_members: int, days: int, dau: int, seed: int) -> tuple[int, float]:
    """Insert members and history straight into the tables; returns (rows, seconds)."""
    assert session.app.services is not None
    services = session.app.services
    db = services.db
    group = await services.directory.group_for(session.adapter.group_chat("demo"))
    rng = random.Random(seed)
    now = session.clock.now()
    today = local_day(now, group.timezone)
    t0 = time.perf_counter()
    first_seen = now - timedelta(days=days + 1)
    async with db.begin() as conn:
        for lo in range(0, n_members, CHUNK):
            await conn.execute(
                insert(members),
                [
                    {
                        "group_id": group.id,
                        "user_id": f"u{i}",
                        "display_name": f"member {i}",
                        "username": None,
                        "is_bot": False,
                        "first_seen": first_seen,
                        "last_seen": first_seen,
                        "joined_at": None,
                        "left_at": None,
                        "forgotten": False,
                    }
                    for i in range(lo, min(n_members, lo + CHUNK))
                ],
            )
    async with db.begin() as conn:
        ids = [r[0] for r in (await conn.execute(members.select().with_only_columns(members.c.id))).all()]
    # A skewed population: a core of regulars and a long tail, like real groups.
    weights = [1.0 / (1 + i) ** 0.6 for i in range(len(ids))]
    rows = 0
    last_post: dict[int, datetime] = {}
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        active = set(rng.choices(ids, weights=weights, k=dau * 2))
        picked = list(active)[:dau]
        async with db.begin() as conn:
            await conn.execute(
                insert(activity_daily),
                [
                    {
                        "group_id": group.id,
                        "member_id": m,
                        "day": day,
                        "messages": 1 + (m % 7),
                        "replies": m % 3,
                        "commands": 0,
                    }
                    for m in picked
                ],
            )
            await conn.execute(
                insert(stats_hourly),
                [
                    {"group_id": group.id, "day": day, "hour": h, "messages": rng.randint(0, dau // 4)}
                    for h in range(24)
                ],
            )
        stamp = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
        for m in picked:
            last_post[m] = stamp
        rows += len(picked) + 24
    async with db.begin() as conn:
        items = list(last_post.items())
        for lo in range(0, len(items), CHUNK):
            await conn.execute(
                insert(stats_member),
                [
                    {"member_id": m, "group_id": group.id, "last_post_at": at, "nudge_off": False}
                    for m, at in items[lo : lo + CHUNK]
                ],
            )
    return rows, time.perf_counter() - t0


async def _time_command(session: ScriptSession, text: str, repeat: int) -> list[float]:
    """Milliseconds from the command going in to its reply, ``repeat`` times."""
    assert session.app.dispatcher is not None
    out: list[float] = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        task = session.adapter.message("demo", "boss", text, role="moderator")
        if task is not None:
            await task
        await session.app.dispatcher.drain()
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def run(argv: list[str]) -> dict[str, float]:
    """Run the benchmark; prints a table and returns the figures (milliseconds unless named)."""
    parser = argparse.ArgumentParser(prog="python -m bot bench stats")
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--dau", type=int, default=5_000, help="members active per day")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="qunyou-bench-stats-") as tmp:
        settings = parse_settings({"storage": {"url": f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"}})
        session = ScriptSession(settings, start=datetime.fromisoformat(START), write=lambda _r: None)
        await session.start()
        try:
            rows, seed_s = await _seed(session, args.members, args.days, args.dau, args.seed)
            figures["seed_rows"] = float(rows)
            figures["seed_s"] = seed_s
            # Cold: the first /stats after an upgrade rolls up the days it needs itself.
            figures["stats_7d_cold_ms"] = (await _time_command(session, "/stats 7d", 1))[0]
            figures["stats_30d_cold_ms"] = (await _time_command(session, "/stats 30d", 1))[0]
            # Steady state: the nightly job has rolled up every complete day.
            assert session.app.services is not None
            repo = StatsRepo(session.app.services.db)
            group_id = 1
            today = local_day(session.clock.now(), "Asia/Shanghai")
            t0 = time.perf_counter()
            await repo.ensure_rollups(
                group_id, today - timedelta(days=1), today - timedelta(days=1), force=True
            )
            await repo.distinct_active(group_id, today - timedelta(days=1), 7)
            await repo.distinct_active(group_id, today - timedelta(days=1), 30)
            figures["nightly_rollup_ms"] = (time.perf_counter() - t0) * 1000
            for label, text in (
                ("stats_7d", "/stats 7d"),
                ("stats_30d", "/stats 30d"),
                ("lifecycle", "/lifecycle"),
            ):
                samples = await _time_command(session, text, args.repeat)
                figures[f"{label}_p50_ms"] = statistics.median(samples)
                figures[f"{label}_max_ms"] = max(samples)
        finally:
            await session.stop()
    _print(figures, args)
    return figures


def _print(figures: dict[str, float], args: argparse.Namespace) -> None:
    print(f"stats bench: {args.members:,} members, {args.days} days, {args.dau:,} active a day")
    for key, value in figures.items():
        unit = "" if key.endswith(("_rows", "_s")) else " ms"
        print(f"  {key:<24} {value:>12,.1f}{unit}")
    ok = figures.get("stats_30d_p50_ms", 1e9) <= 200 and figures.get("stats_7d_p50_ms", 1e9) <= 200
    print(f"  target /stats ≤ 200 ms (steady state): {'met' if ok else 'MISSED'}")


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m handlers.stats.bench`` until the bench command wires this section in."""
    import asyncio
    import sys

    asyncio.run(run(list(sys.argv[1:] if argv is None else argv)))


if __name__ == "__main__":
    main()
