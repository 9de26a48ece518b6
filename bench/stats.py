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

from bench.clock import BenchClock
from bot.adapter import Adapter, Capability, EventSink
from bot.app import App
from bot.clock import local_day
from bot.config import parse_settings
from bot.events import ChatRef, MessageEvent, SentMessage, UserRef
from bot.messages import OutgoingMessage
from bot.roles import Role
from handlers.stats.facts import checkin_counter
from storage.stats import BulkLoader, StatsRepo

START = "2026-03-02T09:00:00+08:00"
CHUNK = 20_000
CHAT = ChatRef(platform="bench", adapter="bench", scope_id="demo", channel_id="demo", title="demo")
BOSS = UserRef(platform="bench", user_id="boss", display_name="boss")


class BenchAdapter(Adapter):
    """A platform faked at its transport boundary: it keeps what the bot sends, nothing more.

    (Written when this bench lived in the feature, which may not import ``adapters``; kept, as it
    is all the bench needs of a platform and keeps the figures comparable.)
    """

    platform = "bench"
    capabilities = frozenset({Capability.SEND, Capability.REPLY, Capability.ROLE_LOOKUP, Capability.INBOUND})

    def __init__(self) -> None:
        super().__init__("bench")
        self.me = UserRef("bench", "qunyou", "Qunyou", is_bot=True)
        self.sent: list[OutgoingMessage] = []
        self.sink: EventSink | None = None

    async def start(self, sink: EventSink) -> None:
        """Remember where events go."""
        self.sink = sink

    async def stop(self) -> None:
        """Nothing to close."""

    async def send(self, chat: ChatRef, message: OutgoingMessage) -> SentMessage:
        """Keep the message."""
        self.sent.append(message)
        return SentMessage(chat, f"b{len(self.sent)}")

    async def get_role(self, chat: ChatRef, user_id: str) -> Role:
        """The one moderator is ``boss``."""
        return Role.MODERATOR if user_id == "boss" else Role.MEMBER


async def _seed(app: App, n_members: int, days: int, dau: int, seed: int) -> tuple[int, float]:
    """Load members and history in bulk; returns (rows, seconds)."""
    assert app.services is not None
    services = app.services
    loader = BulkLoader(services.db)
    group = await services.directory.group_for(CHAT)
    rng = random.Random(seed)
    now = services.clock.now()
    today = local_day(now, group.timezone)
    t0 = time.perf_counter()
    ids: list[int] = []
    for lo in range(0, n_members, CHUNK):
        uids = [f"u{i}" for i in range(lo, min(n_members, lo + CHUNK))]
        ids += await loader.members(group.id, uids, now - timedelta(days=days + 1))
    # A skewed population: a core of regulars and a long tail, like real groups.
    weights = [1.0 / (1 + i) ** 0.6 for i in range(len(ids))]
    rows = 0
    last_post: dict[int, datetime] = {}
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        picked = list(dict.fromkeys(rng.choices(ids, weights=weights, k=dau * 2)))[:dau]
        hourly = [rng.randint(0, max(1, dau // 4)) for _ in range(24)]
        await loader.day(group.id, day, [(m, 1 + m % 7, m % 3) for m in picked], hourly)
        stamp = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
        for m in picked:
            last_post[m] = stamp
        rows += len(picked) + 24
    items = list(last_post.items())
    for lo in range(0, len(items), CHUNK):
        await loader.last_posts(group.id, items[lo : lo + CHUNK])
    return rows, time.perf_counter() - t0


async def _time_command(app: App, text: str, repeat: int) -> list[float]:
    """Milliseconds from the command going in to its reply, ``repeat`` times."""
    assert app.dispatcher is not None and app.services is not None
    out: list[float] = []
    for n in range(repeat):
        event = MessageEvent(
            event_id=f"bench:{text}:{n}:{time.perf_counter_ns()}",
            at=app.services.clock.now(),
            chat=CHAT,
            sender=BOSS,
            message_id=f"m{time.perf_counter_ns()}",
            text=text,
        )
        t0 = time.perf_counter()
        task = app.dispatcher.submit(event)
        if task is not None:
            await task
        await app.dispatcher.drain()
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
        clock = BenchClock(datetime.fromisoformat(START))
        adapter = BenchAdapter()
        app = App(settings, clock=clock, adapters=[adapter])
        await app.start()
        try:
            rows, seed_s = await _seed(app, args.members, args.days, args.dau, args.seed)
            figures["seed_rows"] = float(rows)
            figures["seed_s"] = seed_s
            # Cold: the first /stats after an upgrade rolls up the days it needs itself.
            figures["stats_7d_cold_ms"] = (await _time_command(app, "/stats 7d", 1))[0]
            figures["stats_30d_cold_ms"] = (await _time_command(app, "/stats 30d", 1))[0]
            # Steady state: the nightly job has rolled up every complete day.
            assert app.services is not None
            repo = StatsRepo(app.services.db, checkins=checkin_counter(app.services))
            group = await app.services.directory.group_for(CHAT)
            yesterday = local_day(clock.now(), group.timezone) - timedelta(days=1)
            t0 = time.perf_counter()
            await repo.ensure_rollups(group.id, yesterday, yesterday, force=True)
            for days in (7, 30):
                await repo.distinct_active(group.id, yesterday, days)
                await repo.cached_top(group.id, yesterday - timedelta(days=days - 1), yesterday)
            figures["nightly_rollup_ms"] = (time.perf_counter() - t0) * 1000
            for label, text in (
                ("stats_7d", "/stats 7d"),
                ("stats_30d", "/stats 30d"),
                ("lifecycle", "/lifecycle"),
            ):
                samples = await _time_command(app, text, args.repeat)
                figures[f"{label}_p50_ms"] = statistics.median(samples)
                figures[f"{label}_max_ms"] = max(samples)
            assert adapter.sent, "the bot never answered"
        finally:
            await app.stop()
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
    """``python -m bench.stats [OPTIONS]``: this section alone (``python -m bot bench stats`` is the same)."""
    import asyncio
    import sys

    asyncio.run(run(list(sys.argv[1:] if argv is None else argv)))


if __name__ == "__main__":
    main()
