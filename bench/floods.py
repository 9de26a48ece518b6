"""``python -m bot bench floods``: many members flood one group at once (issue 15, "the flood
path is batched").

Fifty members each post nine lines within two virtual seconds (the ninth crosses the default
flood limit of eight in ten seconds), while the group's moderators watch ``demo-mods``. Measured:
the bot's time per flooder (the message that tips each one over, plus the burst's closing write
shared among them; wall and CPU), how many transactions inserted moderation rows (alerts,
sanctions, audit lines), how many held-flooder rows were inserted (one per flooder after a
burst's first: what makes a crash lose nothing), moderator alert messages and public posts.
Through the console adapter, the dispatcher and every feature, on a SQLite file under the
virtual clock.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from bench.antispam import _Bot
from bench.figures import print_figures

GOALS = {
    "moderator_alert_messages": ("<=", 2.0),
    "row_transactions": ("<=", 5.0),
}


class _Writes:
    """Transactions that inserted moderation rows, told apart by connection and commit count."""

    def __init__(self) -> None:
        self.commits: Counter[int] = Counter()
        self.writing: set[tuple[int, int]] = set()
        #: Held flooders' rows (``mod_flood_held``, one insert each: what a crash would lose).
        self.held = 0

    def execute(self, conn: Connection, _cursor: Any, statement: str, *_rest: Any) -> None:
        if (
            statement.lstrip()
            .upper()
            .startswith(("INSERT INTO MOD_ALERTS", "INSERT INTO MOD_SANCTIONS", "INSERT INTO MOD_LOG"))
        ):
            raw = id(conn.connection.dbapi_connection)
            self.writing.add((raw, self.commits[raw]))
        elif statement.lstrip().upper().startswith("INSERT INTO MOD_FLOOD_HELD"):
            self.held += 1

    def commit(self, conn: Connection) -> None:
        self.commits[id(conn.connection.dbapi_connection)] += 1


async def _scenario(h: _Bot, flooders: int) -> dict[str, float]:
    await h.say("demo", "mod", "早", role="moderator")
    names = [f"flooder{i}" for i in range(flooders)]
    for name in names:
        await h.say("demo", name, "hi")
    await h.advance(3600)
    h.adapter.take()
    writes = _Writes()
    event.listen(Engine, "before_cursor_execute", writes.execute)
    event.listen(Engine, "commit", writes.commit)
    records: list[dict[str, Any]] = []
    wall = cpu = 0.0
    try:
        for line in range(9):
            for name in names:
                t0, c0 = time.perf_counter(), time.process_time()
                records += await h.say("demo", name, f"{name} says {line}")
                if line == 8:  # the message that makes a flooder of them
                    wall += time.perf_counter() - t0
                    cpu += time.process_time() - c0
            records += await h.advance(0.2)
        t0, c0 = time.perf_counter(), time.process_time()
        records += await h.advance(6)  # the burst closes
        wall += time.perf_counter() - t0
        cpu += time.process_time() - c0
    finally:
        event.remove(Engine, "before_cursor_execute", writes.execute)
        event.remove(Engine, "commit", writes.commit)
    muted = {r["user"] for r in records if r["action"] == "mute"}
    sends = [r for r in records if r["action"] == "send"]
    return {
        "flooders_muted": float(len(muted & set(names))),
        "bot_ms_per_flooder": 1000 * wall / flooders,
        "bot_cpu_ms_per_flooder": 1000 * cpu / flooders,
        "row_transactions": float(len(writes.writing)),
        "held_row_inserts": float(writes.held),
        "moderator_alert_messages": float(sum(1 for r in sends if r.get("chat") == "demo-mods")),
        "public_posts": float(sum(1 for r in sends if r.get("chat") == "demo" and not r.get("reply_to"))),
    }


async def run(argv: list[str]) -> dict[str, float]:
    """Run the flood and print each figure beside its goal."""
    parser = argparse.ArgumentParser(prog="bot bench floods")
    parser.add_argument("--flooders", type=int, default=50)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        bot = _Bot(Path(tmp))
        await bot.session.start()
        try:
            figures = await _scenario(bot, args.flooders)
        finally:
            await bot.session.stop()
    print(f"\nfloods: {args.flooders} members flood one group within two seconds (SQLite, virtual clock)")
    print_figures(figures, GOALS, 26)
    return figures
