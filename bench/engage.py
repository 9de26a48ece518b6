"""``python -m bot bench engage``: a giveaway with many entrants, then a poll, through the pipeline.

A moderator starts a giveaway; ``--entrants`` distinct members (default 100,000) press its Join
button one after another, spread over ``--seconds`` virtual seconds, through the console adapter,
the dispatcher and every feature on a SQLite file; then ``/giveaway end`` draws it. Then
``--votes`` of them (default 5,000) vote in a poll over one virtual minute, and its final count is
compared with the votes cast. Then ``--signups`` of them (default 5,000) press +1 on a sign-up list
(接龙) whose limit is half of them, over one virtual minute, and the closed list's places and
waiting list are compared with the presses. Each press is timed from submission until the dispatcher is idle
again. The members are in the database before (written in bulk, as members of a group that
chats), not in the bot's memory; with ``--new`` they are strangers and the core's first sight of
each (a member row) is timed too. Figures are printed beside the issue's goals (issue 23).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from adapters.console.adapter import ConsoleAdapter
from adapters.console.script import ScriptSession
from bench.figures import print_figures
from bot.app import App
from bot.config import parse_settings
from storage.schema import members
from storage.sql import chunked

Record = dict[str, Any]

GOALS = {
    "presses_per_s": (">=", 2000.0),
    "press_p99_ms": ("<=", 20.0),
    "draw_ms": ("<=", 200.0),
    "extra_edits": ("<=", 0.0),
    "entrants_counted_minus_pressed": ("<=", 0.0),
    "vote_p99_ms": ("<=", 20.0),
    "poll_voters_minus_votes": ("<=", 0.0),
    "signup_p99_ms": ("<=", 20.0),
    "signup_extra_edits": ("<=", 0.0),
    "signup_listed_minus_pressed": ("<=", 0.0),
}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def _seed_members(conn: Connection, group_id: int, count: int, at: datetime) -> None:
    rows = [
        {
            "group_id": group_id,
            "user_id": f"u{i}",
            "display_name": f"u{i}",
            "is_bot": False,
            "first_seen": at - timedelta(days=30),
            "last_seen": at,
            "forgotten": False,
        }
        for i in range(count)
    ]
    for chunk in chunked(rows, 5000):
        conn.execute(insert(members), list(chunk))


async def _scenario(
    folder: Path, entrants: int, seconds: int, new: bool, poll_votes: int, signups: int = 5000
) -> dict[str, float]:
    settings = parse_settings({"storage": {"url": f"sqlite+aiosqlite:///{folder / 'bench.db'}"}})
    start = datetime.fromisoformat("2026-03-02T09:00:00+08:00")
    session = ScriptSession(settings, start=start, write=lambda _r: None, make_app=App)
    adapter: ConsoleAdapter = session.adapter
    await session.start()
    try:
        dispatcher = session.app.dispatcher
        assert dispatcher is not None

        async def finish(task: Any) -> list[Record]:
            if task is not None:
                await task
            await dispatcher.drain()
            return adapter.take()

        await finish(adapter.message("demo", "max", "hi", role="moderator"))
        out = await finish(adapter.message("demo", "max", "/giveaway start 1d 3 bench prize"))
        post = next(r for r in out if r["action"] == "send" and r.get("buttons"))
        services = session.app.services
        assert services is not None
        if not new:
            group = await services.groups.find("console", "demo")
            assert group is not None
            await services.db.transact(_seed_members, group.id, entrants, start)
        step = max(1, entrants // max(1, seconds))
        press_ms: list[float] = []
        edits = 0
        began = time.perf_counter()
        for i in range(entrants):
            t0 = time.perf_counter()
            records = await finish(adapter.button("demo", f"u{i}", post["id"], "gw:join:1"))
            press_ms.append(1000 * (time.perf_counter() - t0))
            edits += sum(1 for r in records if r["action"] == "edit")
            if (i + 1) % step == 0:
                await session.advance(session.clock.now() + timedelta(seconds=1))
                edits += sum(1 for r in adapter.take() if r["action"] == "edit")
        elapsed = time.perf_counter() - began
        t0 = time.perf_counter()
        out = await finish(adapter.message("demo", "max", "/giveaway end 1"))
        draw_ms = 1000 * (time.perf_counter() - t0)
        drawn = [r["text"] for r in out if r["action"] == "send" and r.get("chat") == "demo"]
        counted = next((int(t.split("共 ")[1].split(" 人")[0]) for t in drawn if "开奖啦" in t), -1)
        virtual = (session.clock.now() - start).total_seconds()
        # A poll: ``votes`` members vote over one virtual minute; the final count must match.
        votes = min(poll_votes, entrants)
        out = await finish(adapter.message("demo", "max", "/poll for 2m 哪个 | A | B | C"))
        poll_post = next(r for r in out if r["action"] == "send" and r.get("buttons"))
        vote_ms: list[float] = []
        vote_step = max(1, votes // 60)
        poll_began = time.perf_counter()
        for i in range(votes):
            t0 = time.perf_counter()
            await finish(adapter.button("demo", f"u{i}", poll_post["id"], f"pl:v:1:{1 + i % 3}"))
            vote_ms.append(1000 * (time.perf_counter() - t0))
            if (i + 1) % vote_step == 0:
                await session.advance(session.clock.now() + timedelta(seconds=1))
                adapter.take()
        poll_elapsed = time.perf_counter() - poll_began
        out = await finish(adapter.message("demo", "max", "/poll results 1"))
        result = next(r["text"] for r in out if r["action"] == "send")
        cast = int(result.split("👥 ")[1].split(" ")[0])
        # The post may be edited once per interval (5 s by default) of virtual time, plus the
        # closing edit at the draw.
        allowed = int(virtual // 5) + 1
        # A sign-up list (接龙) with a limit of half the presses: the rest wait.
        joins = min(signups, entrants)
        out = await finish(adapter.message("demo", "max", f"/signup bench limit {max(1, joins // 2)}"))
        list_post = next(r for r in out if r["action"] == "send" and r.get("buttons"))
        list_id = list_post["buttons"][0][0]["data"].rsplit(":", 1)[1]
        signup_ms: list[float] = []
        signup_edits = 0
        signup_step = max(1, joins // 60)
        signup_start = session.clock.now()
        signup_began = time.perf_counter()
        for i in range(joins):
            t0 = time.perf_counter()
            records = await finish(adapter.button("demo", f"u{i}", list_post["id"], f"sg:join:{list_id}"))
            signup_ms.append(1000 * (time.perf_counter() - t0))
            signup_edits += sum(1 for r in records if r["action"] == "edit" and r["id"] == list_post["id"])
            if (i + 1) % signup_step == 0:
                await session.advance(session.clock.now() + timedelta(seconds=1))
                # Only the list's own edits (the poll's post may still be edited meanwhile).
                took = adapter.take()
                signup_edits += sum(1 for r in took if r["action"] == "edit" and r["id"] == list_post["id"])
        signup_elapsed = time.perf_counter() - signup_began
        out = await finish(adapter.message("demo", "max", f"/signup close {list_id}"))
        final = next(r["text"] for r in out if r["action"] == "send" and r.get("chat") == "demo")
        digits = [int(w) for w in final.split("\n")[0].replace("，", " ").split() if w.isdigit()]
        listed = sum(digits)  # "… 共 N 人，另有候补 M 人": N + M
        signup_virtual = (session.clock.now() - signup_start).total_seconds()
        signup_allowed = int(signup_virtual // 5)  # the closing edit is not counted above
    finally:
        await session.stop()
    return {
        "entrants": float(entrants),
        "presses_per_s": entrants / elapsed,
        "press_p50_ms": _percentile(press_ms, 0.50),
        "press_p99_ms": _percentile(press_ms, 0.99),
        "draw_ms": draw_ms,
        "post_edits": float(edits),
        "extra_edits": float(max(0, edits - allowed)),
        "entrants_counted_minus_pressed": float(abs(counted - entrants)),
        "poll_votes": float(votes),
        "votes_per_s": votes / poll_elapsed if votes else 0.0,
        "vote_p50_ms": _percentile(vote_ms, 0.50),
        "vote_p99_ms": _percentile(vote_ms, 0.99),
        "poll_voters_minus_votes": float(abs(cast - votes)),
        "signups": float(joins),
        "signups_per_s": joins / signup_elapsed if joins else 0.0,
        "signup_p50_ms": _percentile(signup_ms, 0.50),
        "signup_p99_ms": _percentile(signup_ms, 0.99),
        "signup_edits": float(signup_edits),
        "signup_extra_edits": float(max(0, signup_edits - signup_allowed)),
        "signup_listed_minus_pressed": float(abs(listed - joins)),
    }


async def run(argv: list[str]) -> dict[str, float]:
    """Run the giveaway and print each figure beside its goal."""
    parser = argparse.ArgumentParser(prog="bot bench engage")
    parser.add_argument("--entrants", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=600, help="virtual seconds the presses span")
    parser.add_argument("--new", action="store_true", help="entrants the bot has never seen")
    parser.add_argument("--votes", type=int, default=5000, help="poll votes over one virtual minute")
    parser.add_argument("--signups", type=int, default=5000, help="sign-up presses over one virtual minute")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        figures = await _scenario(Path(tmp), args.entrants, args.seconds, args.new, args.votes, args.signups)
    print(
        f"\nengage: a giveaway with {args.entrants} {'new' if args.new else 'known'} entrants over "
        f"{args.seconds} virtual seconds (SQLite, sequential presses, wall time)"
    )
    print_figures(figures, GOALS, 32)
    return figures
