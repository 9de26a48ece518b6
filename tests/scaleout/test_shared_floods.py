"""Flood windows across two workers on one PostgreSQL database (docs/scale-out.md, issue 20).

Two apps (two engines, two worker names) on one database, through the console harness; one
member's messages are dealt to them in turn, as a load balancer without stickiness would:
each worker sees half the flood, and the flood is still caught, once, at the message that tips
the count of both over the limit. Ordinary chat asks the database nothing, and one worker on
SQLite has no shared window at all.

Defaults: more than 8 messages in 10 s is a rate flood; 4 identical ones in 60 s an identical one.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from handlers.moderation.service import get_state
from tests.antispam.test_probation import of
from tests.harness import Harness


async def _setup(one: Harness, two: Harness) -> None:
    await one.say("demo", "max", "hi", role="moderator")
    await two.say("demo", "reg", "hello everyone")


async def _deal(one: Harness, two: Harness, user: str, lines: list[str], gap: float = 0.5) -> list[int]:
    """Each line to one worker in turn; the 1-based numbers of the lines that got the member muted."""
    muted: list[int] = []
    for i, line in enumerate(lines):
        worker = one if i % 2 == 0 else two
        out = await worker.say("demo", user, line)
        if [r for r in of(out, "mute") if r["user"] == user]:
            muted.append(i + 1)
        await one.advance(gap)
        await two.advance(gap)
    return muted


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_a_rate_flood_split_over_two_workers_is_caught_once(tmp_path: Path, db_url: str) -> None:
    async with (
        Harness(tmp_path / "one", db_url=db_url) as one,
        Harness(tmp_path / "two", db_url=db_url) as two,
    ):
        await _setup(one, two)
        lines = [f"message number {i} about something else" for i in range(14)]
        # The 9th message is the 9th in 10 s of both workers together: caught there, by the first.
        assert await _deal(one, two, "fld", lines, gap=0.4) == [9]
        shared_one, shared_two = get_state(one.services).shared_flood, get_state(two.services).shared_flood
        assert shared_one is not None and shared_two is not None
        assert (shared_one.caught, shared_two.caught) == (1, 0)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_identical_messages_split_over_two_workers_are_caught(tmp_path: Path, db_url: str) -> None:
    async with (
        Harness(tmp_path / "one", db_url=db_url) as one,
        Harness(tmp_path / "two", db_url=db_url) as two,
    ):
        await _setup(one, two)
        # Four identical lines in a minute, two on each worker: the fourth is caught (on the second).
        assert await _deal(one, two, "dup", ["今天的会议改到下午三点"] * 4, gap=5) == [4]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_ordinary_chat_on_two_workers_asks_nothing_and_is_not_a_flood(
    tmp_path: Path, db_url: str
) -> None:
    async with (
        Harness(tmp_path / "one", db_url=db_url) as one,
        Harness(tmp_path / "two", db_url=db_url) as two,
    ):
        await _setup(one, two)
        # Twelve members, two different lines each within the window, spread over both workers.
        for i in range(12):
            assert await _deal(one, two, f"m{i}", [f"hello from {i}", f"how are you {i}"], gap=0.2) == []
        # Then one member talks briskly but within the limit: 8 lines in 10 s over both.
        assert await _deal(one, two, "talker", [f"line {i} of a long story" for i in range(8)], gap=0.6) == []
        asked = get_state(one.services).shared_flood, get_state(two.services).shared_flood
        assert asked[0] is not None and asked[1] is not None
        # Only the talker's fourth line on each worker (half the limit) went to the database.
        assert (asked[0].asked, asked[1].asked) == (1, 1)
        assert (asked[0].caught, asked[1].caught) == (0, 0)
        # The window, counted in the database, starts again past 10 s: the talker goes on.
        await one.advance(11)
        await two.advance(11)
        assert await _deal(one, two, "talker", [f"more {i} of it" for i in range(8)], gap=0.6) == []


async def test_one_worker_on_sqlite_has_no_shared_window(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "max", "hi", role="moderator")
        assert get_state(h.services).shared_flood is None
        muted = []
        for i in range(10):
            out = await h.say("demo", "fld", f"message {i} of a flood")
            if of(out, "mute"):
                muted.append(i + 1)
        assert muted == [9]  # more than 8 in 10 s, from its own memory as before


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_a_members_concurrent_messages_are_counted_once_each(tmp_path: Path, db_url: str) -> None:
    """Eight lines of one member handled at once on one worker, at the same instant: within the
    limit, so no flood. (Each concurrent check once wrote the times the others had already
    written while their write waited, so the shared count passed the limit.)"""
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "max", "hi", role="moderator")
        await asyncio.gather(*(h.adapter.message("demo", "fast", f"reply {i}") for i in range(8)))
        assert h.app.dispatcher is not None
        await h.app.dispatcher.drain()
        out = h.adapter.take()
        assert [r for r in of(out, "mute") if r["user"] == "fast"] == []
        shared = get_state(h.services).shared_flood
        assert shared is not None and shared.asked > 0 and shared.caught == 0
