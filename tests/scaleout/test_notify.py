"""Two workers (two apps, two engines) on one PostgreSQL database: a settings or lexicon change
made through one empties the other's cache by LISTEN/NOTIFY, so the other answers with it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.harness import Harness, texts


async def _until(check: object, seconds: float = 10.0) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        if await check():  # type: ignore[operator]
            return True
        await asyncio.sleep(0.05)
    return False


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_a_change_in_one_worker_reaches_the_others_cache(tmp_path: Path, db_url: str) -> None:
    async with (
        Harness(tmp_path / "one", db_url=db_url) as one,
        Harness(tmp_path / "two", db_url=db_url) as two,
    ):
        # Both workers know the group, and the second has its settings and matcher cached.
        await one.say("demo", "alice", "hello")
        await two.say("demo", "bob", "hello")
        group = await two.services.groups.find("console", "demo")
        assert group is not None
        assert await two.services.settings.get(group.id, "checkin.base_points") == 10
        await two.say("demo", "bob", "毫无问题的一句话")  # builds and caches the group's matcher

        await one.services.settings.set(group.id, "checkin.base_points", 25, "admin", one.now)

        async def settled() -> bool:
            return await two.services.settings.get(group.id, "checkin.base_points") == 25

        assert await _until(settled), "the second worker kept its stale settings"

        out = await one.say("demo", "mod", "/kw add red 独角兽饼干", role="moderator")
        assert texts(out)
        matchers = two.services.state["moderation"].matchers

        async def dropped() -> bool:
            return group.id not in matchers

        assert await _until(dropped), "the second worker kept its stale matcher"
        out = await two.say("demo", "carol", "我爱独角兽饼干")
        assert any(r["action"] == "delete" for r in out), out
