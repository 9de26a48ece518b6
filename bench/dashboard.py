"""``python -m bot bench dashboard``: the dashboard's pages on a large group with a long history.

Builds the ``stats`` bench's group (``--members`` members, ``--days`` days of activity, ``--dau``
active a day), rolls up the complete days as the nightly job does, opens a moderator's session,
and times every page through the real ASGI app (httpx's in-process transport: the app's own
time, not a network's). The issue's goal: p95 ≤ 200 ms per page with 100,000 members and a year
of history on SQLite.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from bench.clock import BenchClock
from bench.stats import CHAT, START, BenchAdapter, _seed
from bot.app import App
from bot.clock import local_day
from bot.config import parse_settings
from handlers.stats.facts import checkin_counter
from storage.dashboard import Account
from storage.stats import StatsRepo
from web import create_app
from web.app import dashboard_routes
from web.auth import COOKIE, Auth


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def run(argv: list[str]) -> dict[str, float]:
    """Run the benchmark; prints a table and returns the figures (milliseconds)."""
    parser = argparse.ArgumentParser(prog="python -m bot bench dashboard")
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--dau", type=int, default=5_000, help="members active per day")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="qunyou-bench-dashboard-") as tmp:
        settings = parse_settings({"storage": {"url": f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"}})
        clock = BenchClock(datetime.fromisoformat(START))
        app = App(settings, clock=clock, adapters=[BenchAdapter()])
        await app.start()
        try:
            assert app.services is not None
            services = app.services
            _rows, figures["seed_s"] = await _seed(app, args.members, args.days, args.dau, args.seed)
            group = await services.directory.group_for(CHAT)
            repo = StatsRepo(services.db, checkins=checkin_counter(services))
            yesterday = local_day(clock.now(), group.timezone) - timedelta(days=1)
            # Steady state: the nightly job has rolled up every complete day.
            await repo.ensure_rollups(group.id, yesterday - timedelta(days=args.days), yesterday)
            member = await services.members.find(group.id, "u42")
            assert member is not None
            session_id, _csrf = await Auth(services).open_session(Account("bench", "boss"))
            asgi = create_app(app, extra_routes=dashboard_routes(services))
            transport = httpx.ASGITransport(app=asgi)
            pages = {
                "overview_7d": f"/g/{group.id}?days=7",
                "overview_30d": f"/g/{group.id}?days=30",
                "charts_30d": f"/g/{group.id}/charts?days=30",
                "charts_90d": f"/g/{group.id}/charts?days=90",
                "desk": f"/g/{group.id}/desk",
                "lexicon": f"/g/{group.id}/lexicon",
                "members": f"/g/{group.id}/members",
                "members_search": f"/g/{group.id}/members?q=u4242",
                # Every member matches: the search stops at its cap; a deep page of it.
                "members_search_broad": f"/g/{group.id}/members?q=member&page=300",
                "members_page_2000": f"/g/{group.id}/members?page=2000",
                "member": f"/g/{group.id}/members/{member.id}",
                "settings": f"/g/{group.id}/settings",
                "content": f"/g/{group.id}/content",
            }
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                client.cookies.set(COOKIE, session_id)
                for name, path in pages.items():
                    first = await client.get(path)  # warms caches, as any page seen before
                    assert first.status_code == 200, (path, first.status_code)
                    samples = []
                    for _ in range(args.repeat):
                        t0 = time.perf_counter()
                        answer = await client.get(path)
                        samples.append((time.perf_counter() - t0) * 1000)
                        assert answer.status_code == 200
                    figures[f"{name}_p50_ms"] = statistics.median(samples)
                    figures[f"{name}_p95_ms"] = _p95(samples)
        finally:
            await app.stop()
    print(f"dashboard bench: {args.members:,} members, {args.days} days, {args.dau:,} active a day")
    for key, value in figures.items():
        print(f"  {key:<26} {value:>10,.1f}{'' if key.endswith('_s') else ' ms'}")
    worst = max(v for k, v in figures.items() if k.endswith("_p95_ms"))
    print(f"  target p95 ≤ 200 ms per page: {'met' if worst <= 200 else 'MISSED'} (worst {worst:,.1f} ms)")
    return figures
