"""Batched announcements follow the virtual clock: an ``advance`` sends a batch when it falls due
(one flush interval after what it batched), not at the next scheduled job or the end of the jump."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.harness import Harness, sends


async def test_badge_batch_goes_out_one_interval_after_the_messages(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        for user in ("alice", "bob", "carol"):
            await h.say("g", user, "大家早上好，今天天气真不错")
        records = await h.advance(to="2026-03-03T09:00:00+08:00")
    badges = [r for r in sends(records) if "初来乍到" in r["text"]]
    assert len(badges) == 1, records  # one combined announcement
    sent_at = badges[0]["at"]
    assert sent_at == (h.start_at + timedelta(seconds=1)).isoformat(), sent_at


async def test_a_batch_is_not_sent_before_it_falls_due(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("g", "alice", "大家早上好，今天天气真不错")
        first = await h.advance(seconds=0.5)  # not yet due
        assert not [r for r in sends(first) if "初来乍到" in r["text"]]
        later = await h.advance(seconds=0.5)
    assert [r for r in sends(later) if "初来乍到" in r["text"]]
