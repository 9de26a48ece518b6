"""Two workers (two apps, two engines) on one PostgreSQL database: a settings or lexicon change
made through one empties the other's cache by LISTEN/NOTIFY, so the other answers with it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.community.test_communities import code_in
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


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_a_community_term_added_in_one_worker_reaches_the_other_chats_matcher_in_another(
    tmp_path: Path, db_url: str
) -> None:
    """Chat ``tg`` and ``dc`` share their lexicon (one community): a term added in ``tg`` through
    one worker drops ``dc``'s cached matcher in the other, which then catches it there."""
    en = {"bot": {"language": "en"}}
    async with (
        Harness(tmp_path / "one", db_url=db_url, config=en) as one,
        Harness(tmp_path / "two", db_url=db_url, config=en) as two,
    ):
        made = await one.line(
            type="message",
            platform="telegram",
            chat="tg",
            user="ann",
            role="owner",
            text="/community create C",
        )
        code = code_in(texts(made), "C")
        await one.line(
            type="message",
            platform="discord",
            chat="dc",
            user="dora",
            role="owner",
            text=f"/community join {code}",
        )
        out = await two.line(type="message", platform="discord", chat="dc", user="bob", text="cheap pills")
        assert not any(r["action"] == "delete" for r in out)
        matchers = two.services.state["moderation"].matchers
        (dc_id,) = tuple(matchers)  # the second worker has seen only the Discord chat

        added = await one.line(
            type="message",
            platform="telegram",
            chat="tg",
            user="mo",
            role="moderator",
            text='/kw add yellow "cheap pills"',
        )
        assert "all 2 chats of the community" in texts(added)[0]

        async def dropped() -> bool:
            return dc_id not in matchers

        assert await _until(dropped), "the other worker kept the other chat's stale matcher"
        out = await two.line(type="message", platform="discord", chat="dc", user="carl", text="cheap pills")
        assert any(r["action"] == "delete" for r in out), out
