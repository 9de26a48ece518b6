"""Issue 25, item 1: a member's /forgetme must not stop the rest of the group checking in.

The rank of the day used to be "check-ins today + 1": deleting the forgotten member's row
lowered the count, so the next claim took a rank that was still held and hit the unique key
(group, day, rank) until midnight.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from storage.checkin.tables import checkins
from tests.harness import Harness, sends, texts


async def _forget(h: Harness, user: str) -> None:
    ask = sends(await h.say("demo", user, "/forgetme"))[0]
    yes = ask["buttons"][0][0]["data"]
    assert yes.startswith("core:forget:yes:")
    out = await h.press("demo", user, ask["id"], yes)
    assert out[-1]["action"] == "edit"


async def _ranks(h: Harness) -> list[int]:
    async with h.services.db.begin() as conn:
        rows = (await conn.execute(select(checkins.c.rank).where(checkins.c.rank.is_not(None)))).all()
    return sorted(int(r.rank) for r in rows)


async def test_checkins_interleaved_with_forgetme(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        for user in ("alice", "bob"):
            assert "出错" not in texts(await h.say("demo", user, "签到"))[0]
        await _forget(h, "alice")  # held rank 1: the day's count drops to 1, bob holds rank 2
        for user in ("carol", "dave"):
            reply = texts(await h.say("demo", user, "签到"))[0]
            assert "出错" not in reply, reply
        await _forget(h, "dave")  # held the highest rank: it may be handed out again, once
        reply = texts(await h.say("demo", "erin", "签到"))[0]
        assert "出错" not in reply, reply
        ranks = await _ranks(h)
        assert len(ranks) == len(set(ranks)) == 3  # bob, carol, erin: distinct ranks


async def test_concurrent_checkins_while_members_are_forgotten(tmp_path: Path, db_url: str) -> None:
    """Claims racing each other and a /forgetme: every claim succeeds with a distinct rank."""
    async with Harness(tmp_path, db_url=db_url) as h:
        for user in ("u0", "u1", "u2"):
            await h.say("demo", user, "签到")
        ask = sends(await h.say("demo", "u0", "/forgetme"))[0]
        newcomers = [f"n{i}" for i in range(8)]
        for user in newcomers:  # known members first, so the race is only between claims
            await h.say("demo", user, "hello")
        tasks = [h.adapter.message("demo", user, "签到") for user in newcomers]
        tasks.append(h.adapter.button("demo", "u0", ask["id"], ask["buttons"][0][0]["data"]))
        await asyncio.gather(*tasks)
        assert h.app.dispatcher is not None
        await h.app.dispatcher.drain()
        replies = [r["text"] for r in h.adapter.take() if r["action"] == "send"]
        assert not [t for t in replies if "出错" in t], replies
        ranks = await _ranks(h)
        assert len(ranks) == len(set(ranks)) == 2 + len(newcomers)
