"""Two real worker processes on one PostgreSQL database: every post once, a dead worker taken over.

Console workers (``python -m bot console --script - --config C``, the config naming the database)
are the cheapest real workers: the whole core, the scheduler's claims and the database, with a
virtual clock each and a fake platform that writes JSON lines. The test:

1. plans 1,000 posts due every minute (10 groups × 100) with one process;
2. starts workers A and B together at the same instant and advances both by a minute, so the
   1,000 posts fall due in both at once;
3. freezes A (SIGSTOP) at a moment it holds a run (a lease row of its own in the database),
   then SIGKILLs it: A dies in the middle of a run;
4. advances B by 45 more seconds, in steps: B sees A's advisory lock gone and takes the run over;
5. counts: each of the 1,000 fires posted exactly once between A and B. The one allowed exception
   is the documented window (``docs/scale-out.md``): A wrote its post and died before committing
   its message id, so the re-run cannot know it went out; that shows as A's last post twice.
6. feeds 200 check-ins, each to both of two fresh workers (in alternating order): each is
   handled, and credited, once.

The takeover is measured in wall time (from the SIGKILL until A's lease row is gone, taken over
and completed by B) and in B's virtual time (a re-sent post's time minus its fire time); both must
be within the 30 s lease. It is this quick because liveness is PostgreSQL's: A's session ends when
its process dies and its advisory lock goes with it; the 30 s lease bounds only a hung worker.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.schedule.test_kill9 import Bot

START = "2026-03-02T09:00:00+08:00"
GROUPS = 10
PER_GROUP = 100
CHECKINS = 200


def _raw(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _query(url: str, sql: str, *args: Any) -> list[Any]:
    import asyncpg  # the test inspects the database directly, as an operator would with psql

    conn = await asyncpg.connect(_raw(url))
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


def _leases_of(url: str, pid: int) -> list[Any]:
    return asyncio.run(
        _query(url, "SELECT job_id, fire_at FROM job_leases WHERE owner LIKE $1", f"%:{pid}:%")
    )


def _posts(bot: Bot) -> list[tuple[str, str, str]]:
    return [
        (r["chat"], r["text"], r["at"])
        for r in bot.records
        if r["action"] == "send" and r["text"].startswith("post-")
    ]


def _pump(*bots: Bot) -> None:
    """Read what the workers wrote so far, without waiting: a full pipe would stall a worker."""
    for bot in bots:
        bot._read(0)


def _kill_while_holding(bot: Bot, url: str, other: Bot) -> list[Any]:
    """Freeze ``bot`` until a moment it holds a run, then SIGKILL it there; its held leases."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        bot.proc.send_signal(signal.SIGSTOP)
        held = _leases_of(url, bot.proc.pid)
        if held:
            bot.kill()  # SIGKILL works on a stopped process
            return held
        bot.proc.send_signal(signal.SIGCONT)
        bot.wait_seconds(0.003)
        _pump(other)
    raise AssertionError("worker A never held a run")


_CLONE_POSTS = """
INSERT INTO scheduled_posts (id, group_id, channel_id, thread_id, when_text, spec, text, urgent, paused,
                             done, created_by, created_at, last_local, posts)
SELECT 10000 + p.id * 1000 + n, p.group_id, p.channel_id, p.thread_id, p.when_text, p.spec,
       replace(p.text, '-000', '-' || lpad(n::text, 3, '0')), p.urgent, p.paused, p.done, p.created_by,
       p.created_at, p.last_local, p.posts
FROM scheduled_posts p CROSS JOIN generate_series(1, $1 - 1) AS n
"""
_CLONE_JOBS = """
INSERT INTO scheduled_jobs (id, kind, group_id, trigger, payload, next_run_at, last_run_at, paused, created_at)
SELECT 'sched:' || c.id, j.kind, j.group_id, j.trigger, '{"post_id": ' || c.id || '}', j.next_run_at,
       j.last_run_at, j.paused, j.created_at
FROM scheduled_posts c JOIN scheduled_jobs j ON j.id = 'sched:' || ((c.id - 10000) / 1000)
WHERE c.id >= 10000
"""


def _seed(url: str, config: Path) -> None:
    """One post per group through the feature (groups, post rows, job rows made by the bot), then
    copies of those rows in SQL: planning 1,000 posts one command at a time would dominate the test."""
    setup = Bot(["--config", str(config)], START)
    for g in range(GROUPS):
        setup.feed(
            type="message",
            chat=f"g{g}",
            user="mod",
            role="moderator",
            text=f"/schedule add * * * * * post-{g}-000",
        )
    setup.finish()
    asyncio.run(_query(url, _CLONE_POSTS, PER_GROUP))
    asyncio.run(_query(url, _CLONE_JOBS))
    jobs = asyncio.run(_query(url, "SELECT count(*) AS n FROM scheduled_jobs WHERE kind = 'schedule-post'"))
    assert jobs[0]["n"] == GROUPS * PER_GROUP


def run_two_workers(url: str, config: Path) -> dict[str, Any]:
    args = ["--config", str(config)]
    _seed(url, config)

    a, b = Bot(args, START), Bot(args, START)
    a.feed(type="advance", seconds=60)
    b.feed(type="advance", seconds=60)
    deadline = time.monotonic() + 120
    while len(_posts(a)) < 50:  # A is in the middle of the burst
        assert time.monotonic() < deadline, "worker A sent too little"
        a._read(0.01)
        _pump(b)
    held = _kill_while_holding(a, url, b)
    killed_at = time.monotonic()
    for _ in range(9):
        b.feed(type="advance", seconds=5)
    takeover = None
    while time.monotonic() - killed_at < 60:
        if not _leases_of(url, a.proc.pid):
            takeover = time.monotonic() - killed_at
            break
        b.wait_seconds(0.02)
    b.finish()
    left = asyncio.run(_query(url, "SELECT count(*) AS n FROM job_leases"))[0]["n"]
    return {"a": a, "b": b, "held": held, "takeover": takeover, "leases_left": left}


def run_checkins(config: Path) -> tuple[Bot, Bot]:
    args = ["--config", str(config)]
    c, d = Bot(args, START), Bot(args, START)
    for i in range(CHECKINS):
        line = {
            "type": "message",
            "chat": f"g{i % GROUPS}",
            "user": f"u{i}",
            "text": "/checkin",
            "id": f"ci{i}",
            "update": f"ci{i}",  # one platform update, delivered to both workers
        }
        first, second = (c, d) if i % 2 == 0 else (d, c)
        first.feed(**line)
        second.feed(**line)
        _pump(c, d)
    c.finish()
    d.finish()
    return c, d


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_two_workers_send_each_post_once_and_take_over_a_killed_one(
    tmp_path: Path, db_url: str
) -> None:
    config = tmp_path / "pg.toml"
    config.write_text(f'[storage]\nurl = "{db_url}"\n', encoding="utf-8")
    result = await asyncio.to_thread(run_two_workers, db_url, config)
    a, b = result["a"], result["b"]
    from_a, from_b = _posts(a), _posts(b)
    fire = datetime.fromisoformat(START) + timedelta(minutes=1)
    counts = Counter((chat, text) for chat, text, _at in from_a + from_b)
    expected = {(f"g{g}", f"post-{g}-{n:03d}") for g in range(GROUPS) for n in range(PER_GROUP)}
    duplicated = {key for key, n in counts.items() if n > 1}
    print(
        f"\nA sent {len(from_a)}, B sent {len(from_b)}; A died holding {len(result['held'])} run(s); "
        f"takeover {result['takeover']:.2f}s wall; duplicates {sorted(duplicated)}"
    )
    assert set(counts) == expected  # nothing lost, nothing else posted
    assert from_a and from_b  # both workers did part of the work
    # The documented window only: A's last post, written just before it died, posted again.
    assert duplicated <= {from_a[-1][:2]}
    assert all(counts[key] == 2 for key in duplicated)
    # Every post at its fire time, except a re-run by B, at most one lease (30 s) later.
    for chat, text, at in from_a + from_b:
        delay = datetime.fromisoformat(at) - fire
        assert timedelta(0) <= delay <= timedelta(seconds=30), (chat, text, at)
    assert result["takeover"] is not None and result["takeover"] <= 30.0
    assert result["leases_left"] == 0

    c, d = await asyncio.to_thread(run_checkins, config)
    replies = Counter(
        r["reply_to"] for bot in (c, d) for r in bot.records if r["action"] == "send" and r.get("reply_to")
    )
    assert set(replies) == {f"ci{i}" for i in range(CHECKINS)}
    assert set(replies.values()) == {1}  # handled once, whichever worker got it first
    credited = await _query(db_url, "SELECT count(*) AS n FROM checkins")
    assert credited[0]["n"] == CHECKINS
