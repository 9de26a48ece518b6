"""A crash inside a flood burst loses nothing (issue 15): each held flooder is one row of
``mod_flood_held`` as they are muted, and the next start writes what a dead process left there.

The crash is the process dying: the app is abandoned without its orderly stop (no burst flush,
no shutdown hook, the engine simply dropped), and a fresh app on the same database plays the
restarted process, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.app import App
from handlers.moderation.service import get_state
from storage.moderation.floods import FloodRecord, FloodRepo
from tests.harness import Harness
from tests.moderation.helpers import actions, sent_to

FLOODERS = 4


async def _abandon(app: App) -> None:
    """Drop a crashed app's resources without running anything a killed process would not run."""
    assert app.services is not None and app.db is not None
    task = app.services.batcher._task
    if task is not None:
        task.cancel()
    # The connections a killed process loses with it (PostgreSQL: its LISTEN and its lock).
    await app.services.changes.close()
    if app._presence is not None:
        await app._presence.stop()
    await app.db.engine.dispose()
    if app.db._writer is not None:
        await app.db._writer.close()


async def _flood(h: Harness, user: str) -> list[dict[str, Any]]:
    records = []
    for i in range(9):  # more than flood_messages (8) within flood_seconds
        records += await h.say("demo", user, f"{user} line {i}")
    return records


async def _rows(h: Harness) -> tuple[list[Any], list[Any], list[Any]]:
    repos = get_state(h.services).repos
    alerts = [a for a in await repos.alerts.alerts(1, limit=100) if a.kind == "flood"]
    opened = [s for s in await repos.sanctions.open_sanctions() if s.kind == "mute"]
    log = [r for r in await repos.audit.log_rows(1, limit=200) if r.action in ("flood", "mute")]
    return alerts, opened, log


async def test_a_crash_inside_a_burst_loses_no_mute_and_no_audit_row(tmp_path: Path, db_url: str) -> None:
    first = Harness(tmp_path, db_url=db_url)
    await first.__aenter__()
    await first.say("demo", "max", "hello", role="moderator")
    for i in range(FLOODERS):
        await first.say("demo", f"f{i}", "hi")
    await first.advance(seconds=60)
    flooded_at = first.now
    records: list[dict[str, Any]] = []
    for i in range(FLOODERS):
        records += await _flood(first, f"f{i}")
    assert sorted(r["user"] for r in actions(records, "mute")) == [f"f{i}" for i in range(FLOODERS)]
    # The first flooder was written at once; the burst's others are held, one row each.
    held = await FloodRepo(first.services.db).held()
    assert sorted(h.record.user_id for h in held) == [f"f{i}" for i in range(1, FLOODERS)]
    await _abandon(first.app)  # dies inside the burst's five seconds

    clock = (flooded_at + timedelta(seconds=2)).isoformat()
    async with Harness(tmp_path, db_url=db_url, clock=clock) as second:
        alerts, opened, _log = await _rows(second)
        assert len(alerts) == 1 and len(opened) == 1  # only the first flooder so far
        # One burst after the start, the held flooders are written as a burst of their own.
        written = await second.advance(seconds=6)
        (burst,) = sent_to(written, "demo-mods")
        assert all(f"@f{i}" in burst for i in range(1, FLOODERS)) and "@f0" not in burst
        alerts, opened, log = await _rows(second)
        assert len(alerts) == FLOODERS and all(a.notified_at is not None for a in alerts)
        assert sorted(s.user_id for s in opened) == [f"f{i}" for i in range(FLOODERS)]
        assert len([r for r in log if r.action == "flood"]) == FLOODERS
        assert len([r for r in log if r.action == "mute"]) == FLOODERS
        assert await FloodRepo(second.services.db).held() == []

        # The mutes end on time: not a second early, and every one of them.
        end = min(s.until for s in opened)
        early = await second.advance(seconds=(end - second.now).total_seconds() - 1)
        assert actions(early, "unmute") == []
        lifted = await second.advance(seconds=5)
        assert sorted(r["user"] for r in actions(lifted, "unmute")) == [f"f{i}" for i in range(FLOODERS)]
        _, opened, _ = await _rows(second)
        assert opened == []


async def test_a_burst_written_in_time_leaves_nothing_held(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "max", "hello", role="moderator")
        for i in range(3):
            await _flood(h, f"f{i}")
        assert len(await FloodRepo(h.services.db).held()) == 2
        await h.advance(seconds=6)
        assert await FloodRepo(h.services.db).held() == []
        alerts, opened, _ = await _rows(h)
        assert len(alerts) == 3 and len(opened) == 3
    # A restart then finds nothing to recover: no second alert, no job.
    async with Harness(tmp_path, db_url=db_url, clock="2026-03-02T09:01:00+08:00") as again:
        out = await again.advance(seconds=10)
        assert sent_to(out, "demo-mods") == []
        assert await again.services.scheduler.list("moderation.flood-recover") == []


async def test_a_held_row_is_written_once_by_two_writers(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "f0", "hi")
        member = await h.services.members.find(1, "f0")
        assert member is not None
        record = FloodRecord(
            member_id=member.id,
            user_id="f0",
            at=h.now,
            excerpt="刷屏",
            flood_detail="rate mute:ok",
            steps=[],
            muted=True,
            until=h.now + timedelta(minutes=10),
            mute_detail="until=… reason=flood",
        )
        repo = FloodRepo(h.services.db)
        row_id = await repo.hold(1, record)
        (back,) = await repo.held()
        assert back.record == record and back.id == row_id
        # The restarted worker's recovery and the burst's own write race for the row: one wins.
        first = await repo.record(1, [record], "bot", [row_id])
        second = await repo.record(1, [record], "bot", [row_id])
        assert first[0] is not None and second == [None]
        _alerts, opened, _log = await _rows(h)
        assert len(opened) == 1
