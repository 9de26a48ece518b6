"""A burst of flooders: one transaction for their rows, one alert for the moderators (issue 15).

The first flooder is handled at once as before; the others within the burst are muted at once
and written together when it closes. Transactions are counted on the real database connections
(SQLAlchemy's own events), on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from handlers.moderation.service import get_state
from tests.harness import Harness
from tests.moderation.helpers import actions, sent_to

FLOODERS = 6


class _Transactions:
    """Which transactions inserted moderation rows (alerts, sanctions, audit lines)."""

    def __init__(self) -> None:
        self.generation: Counter[int] = Counter()
        self.writing: set[tuple[int, int]] = set()

    def _key(self, conn: Connection) -> tuple[int, int]:
        raw = id(conn.connection.dbapi_connection)
        return raw, self.generation[raw]

    def on_execute(self, conn: Connection, _c: Any, statement: str, *_rest: Any) -> None:
        text = statement.lstrip().upper()
        if text.startswith("INSERT INTO MOD_ALERTS") or text.startswith("INSERT INTO MOD_SANCTIONS"):
            self.writing.add(self._key(conn))
        elif text.startswith("INSERT INTO MOD_LOG"):
            self.writing.add(self._key(conn))

    def on_commit(self, conn: Connection) -> None:
        self.generation[id(conn.connection.dbapi_connection)] += 1


@contextmanager
def _counting() -> Iterator[_Transactions]:
    seen = _Transactions()
    event.listen(Engine, "before_cursor_execute", seen.on_execute)
    event.listen(Engine, "commit", seen.on_commit)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", seen.on_execute)
        event.remove(Engine, "commit", seen.on_commit)


async def _flood(h: Harness, user: str) -> list[dict[str, Any]]:
    records = []
    for i in range(9):  # more than flood_messages (8) within flood_seconds
        records += await h.say("demo", user, f"{user} line {i}")
    return records


async def _rows(h: Harness) -> tuple[list[Any], list[Any], list[Any]]:
    repos = get_state(h.services).repos
    group = await h.services.directory.group_by_id(1)
    assert group is not None
    alerts = [a for a in await repos.alerts.alerts(group.id, limit=100) if a.kind == "flood"]
    opened = [s for s in await repos.sanctions.open_sanctions() if s.kind == "mute"]
    log = [r for r in await repos.audit.log_rows(group.id, limit=200) if r.action == "flood"]
    return alerts, opened, log


async def test_a_burst_is_one_transaction_and_one_alert(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "max", "hello", role="moderator")
        for i in range(FLOODERS):
            await h.say("demo", f"f{i}", "hi")
        await h.advance(seconds=60)
        records: list[dict[str, Any]] = []
        with _counting() as seen:
            for i in range(FLOODERS):
                records += await _flood(h, f"f{i}")
            held_writes = len(seen.writing)
        # Everyone is muted at once; only the first flooder's rows and alert exist yet.
        assert sorted(r["user"] for r in actions(records, "mute")) == [f"f{i}" for i in range(FLOODERS)]
        assert len(sent_to(records, "demo-mods")) == 1
        # Only the first flooder's own path wrote: alert, sanction, and its two audit lines.
        assert held_writes == 4
        alerts, opened, log = await _rows(h)
        assert len(alerts) == 1 and len(opened) == 1

        with _counting() as seen:
            closed = await h.advance(seconds=6)
        # The burst closes: one transaction for the other five's rows, one alert listing them.
        assert len(seen.writing) == 1
        (burst,) = sent_to(closed, "demo-mods")
        assert "另有 5 位成员因刷屏被禁言" in burst
        assert all(f"@f{i}" in burst for i in range(1, FLOODERS))
        alerts, opened, log = await _rows(h)
        assert len(alerts) == FLOODERS and all(a.notified_at is not None for a in alerts)
        assert len(opened) == FLOODERS and len(log) == FLOODERS
        # Public notices: the first at once, the rest as one summary (bot/notices.py).
        assert len(sent_to(records + closed, "demo")) == 2

        # The burst's mutes end together (one job), ten minutes later.
        lifted = await h.advance(seconds=10 * 60)
        assert sorted(r["user"] for r in actions(lifted, "unmute")) == [f"f{i}" for i in range(FLOODERS)]
        _, opened, _ = await _rows(h)
        assert opened == []


async def test_a_burst_open_at_shutdown_is_written(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "max", "hello", role="moderator")
        for i in range(3):
            await _flood(h, f"f{i}")
        await h.restart()  # within the burst's five seconds
        alerts, opened, log = await _rows(h)
        assert len(alerts) == 3 and len(opened) == 3 and len(log) == 3
        # And the lifts survive the restart (each its own job, from reschedule_lifts).
        lifted = await h.advance(seconds=11 * 60)
        assert sorted(r["user"] for r in actions(lifted, "unmute")) == ["f0", "f1", "f2"]


async def test_flooders_seconds_apart_are_each_alerted(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "max", "hello", role="moderator")
        first = await _flood(h, "a")
        await h.advance(seconds=6)
        second = await _flood(h, "b")
        # Two bursts of one: each flooder gets the full alert of their own, at once.
        assert len(sent_to(first, "demo-mods")) == 1 and len(sent_to(second, "demo-mods")) == 1
        assert "🚫 刷屏" in sent_to(second, "demo-mods")[0]
