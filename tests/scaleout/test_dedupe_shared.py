"""Inbound dedupe on PostgreSQL: each event id is written when the event is handled (not at the
next flush), so a second worker given the same update drops it; old ids are still pruned."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.harness import Harness


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_ids_are_claimed_at_once_and_pruned_later(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path / "a", db_url=db_url) as a, Harness(tmp_path / "b", db_url=db_url) as b:
        repo = a.services.event_log
        first = await a.say("demo", "alice", "/checkin", update="u-1")
        assert [r for r in first if r["action"] == "send"]
        assert ("console", "update:u-1") in await repo.recent(a.now - timedelta(minutes=1))
        again = await b.say("demo", "alice", "/checkin", update="u-1")
        assert [r["action"] for r in again] == ["seen"]  # the other worker had it: dropped
        assert b.app.dispatcher is not None and b.app.dispatcher.deduper.dropped == 1

        await a.advance(2 * 86400)
        await a.services.batcher.flush()
        assert await repo.recent(a.now - timedelta(days=3)) == []
