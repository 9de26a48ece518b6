"""One level and one badge set per person across a community: counters add up across linked
accounts, a badge is awarded (and announced) once, a moderator's grant and revoke act on the
person, and an unlink takes no badge away.

Through the console protocol with its ``platform`` field, on SQLite and PostgreSQL, virtual clock.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from handlers.checkin.state import state
from tests.community.test_communities import said, say
from tests.community.test_shared_points import community_of_two, ledger_holds, link
from tests.harness import Harness, texts

BADGES = [
    {
        "key": "first_message",
        "name_zh": "初来乍到",
        "name_en": "First Words",
        "emoji": "👋",
        "rule": "messages >= 1",
    },
    {"key": "talker", "name_zh": "健谈", "name_en": "Talker", "emoji": "💬", "rule": "messages >= 4"},
    {"key": "star", "name_zh": "之星", "name_en": "Star", "emoji": "⭐", "rule": "manual"},
]
CONFIG = {"bot": {"language": "en"}, "badges": BADGES}


async def chat(h: Harness, platform: str, where: str, user: str, n: int) -> list[str]:
    """``n`` plain messages, the activity written; what the bot said meanwhile."""
    out: list[str] = []
    for i in range(n):
        out += said(await say(h, platform, where, user, f"hello there number {i}"))
        await h.services.batcher.flush()
        out += texts(h.adapter.take())
    return out


async def badge_list(h: Harness, platform: str, where: str, user: str) -> str:
    return said(await say(h, platform, where, user, "/badges"))[0]


async def held(h: Harness, user: str) -> dict[str, set[str]]:
    """Badge keys per membership of ``user`` (by its chat), straight from the repository."""
    out: dict[str, set[str]] = {}
    # A console account of another platform is ``platform:user`` inside the bot.
    for member in await h.services.members.for_account(user.split(":", 1)[0], user):
        group = await h.services.directory.group_by_id(member.group_id)
        assert group is not None
        out[group.scope_id.split(":")[-1]] = set(
            await state(h.services).repos.badges.badges_of(group.id, member.id)
        )
    return out


async def test_counters_add_up_across_linked_accounts_and_each_badge_comes_once(
    tmp_path: Path, db_url: str
) -> None:
    async with Harness(tmp_path, db_url=db_url, config=CONFIG) as h:
        await community_of_two(h)
        first = await chat(h, "telegram", "tg", "bob", 2)
        assert any("First Words" in t for t in first)
        assert await link(h, ("telegram", "bob"), ("discord", "bobd")) == [
            "Linked. Your accounts: discord:bobd, telegram:bob"
        ]
        # The Discord account's first message: the person has "First Words" already, so it is
        # not announced again; 2 + 3 messages make the person a talker, though neither
        # account alone reached 4.
        assert not any("First Words" in t or "Talker" in t for t in await chat(h, "discord", "dc", "bobd", 3))
        listing = await badge_list(h, "discord", "dc", "bobd")
        assert listing.startswith("🏅 Badges 2/3"), listing
        assert "👋 First Words" in listing and "💬 Talker" in listing
        me = said(await say(h, "telegram", "tg", "bob", "/me"))[0]
        assert "Badges 👋 💬" in me, me
        # Every membership of the person holds the one set (so none can earn a badge again).
        assert await held(h, "telegram:bob") == {"tg": {"first_message", "talker"}}
        assert await held(h, "discord:bobd") == {"dc": {"first_message", "talker"}}
        # More messages on either account: nothing is awarded twice.
        assert not any("🎉" in t for t in await chat(h, "discord", "dc", "bobd", 2))
        assert not any("🎉" in t for t in await chat(h, "telegram", "tg", "bob", 2))
        # A moderator's grant in one chat is the person's; a second grant anywhere is refused.
        granted = said(await say(h, "discord", "dc", "dora", "/badge grant @bobd star", role="owner"))
        assert granted == ["Granted @bobd the badge ⭐ Star."], granted
        assert "⭐ Star" in await badge_list(h, "telegram", "tg", "bob")
        again = said(await say(h, "telegram", "tg", "ann", "/badge grant @bob Star", role="owner"))
        assert again == ["@bob already has ⭐ Star."], again
        # Revoked in one chat, it is gone from the person, and no merge brings it back.
        revoked = said(await say(h, "telegram", "tg", "ann", "/badge revoke @bob star", role="owner"))
        assert revoked == ["Revoked ⭐ Star from @bob."], revoked
        assert "🔒 ⭐ Star · granted by moderators" in await badge_list(h, "discord", "dc", "bobd")
        assert "🔒 ⭐ Star · granted by moderators" in await badge_list(h, "telegram", "tg", "bob")
        assert all("star" not in keys for keys in (await held(h, "discord:bobd")).values())
        # Unlinking takes no badge away from either account.
        await h.line(type="dm", platform="discord", user="bobd", text="/unlink")
        for platform, where, user in (("discord", "dc", "bobd"), ("telegram", "tg", "bob")):
            listing = await badge_list(h, platform, where, user)
            assert "👋 First Words" in listing and "💬 Talker" in listing, listing
        await ledger_holds(h)


async def test_bump_counter_goes_to_the_persons_wallet(tmp_path: Path) -> None:
    from handlers.checkin import bump_counter

    config = {
        "bot": {"language": "en"},
        "badges": [
            {
                "key": "goer",
                "name_zh": "活动",
                "name_en": "Goer",
                "emoji": "🎉",
                "rule": "events_attended >= 2",
            }
        ],
    }
    async with Harness(tmp_path, config=config) as h:
        await community_of_two(h)
        await link(h, ("telegram", "bob"), ("discord", "bobd"))
        await say(h, "telegram", "tg", "bob", "/points")
        await say(h, "discord", "dc", "bobd", "/points")
        tg_member = (await h.services.members.for_account("telegram", "telegram:bob"))[0]
        dc_member = (await h.services.members.for_account("discord", "discord:bobd"))[0]
        assert await bump_counter(h.services, tg_member, "events_attended") == ()
        # The second event, attended on the other platform, is the person's second.
        assert await bump_counter(h.services, dc_member, "events_attended") == ("goer",)
        assert "Goer" in await badge_list(h, "telegram", "tg", "bob")


async def test_two_accounts_merging_at_once_move_the_counters_once(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url, config=CONFIG) as h:
        await community_of_two(h)
        await chat(h, "telegram", "tg", "bob", 2)
        await chat(h, "discord", "dc", "bobd", 3)
        await link(h, ("telegram", "bob"), ("discord", "bobd"))
        # Both accounts ask at the same moment: each request merges; the counters move once.
        await asyncio.gather(
            h.adapter.message("telegram:tg", "telegram:bob", "/badges"),
            h.adapter.message("discord:dc", "discord:bobd", "/badges"),
            h.adapter.message("discord:dc", "discord:bobd", "/me"),
        )
        assert h.app.dispatcher is not None
        await h.app.dispatcher.drain()
        answers = said(h.adapter.take())
        assert len(answers) == 3 and all("Talker" in a for a in answers if a.startswith("🏅")), answers
        repo = state(h.services).repos.badges
        day = h.now.date()
        counts = []
        for platform, user in (("telegram", "telegram:bob"), ("discord", "discord:bobd")):
            (member,) = await h.services.members.for_account(platform, user)
            counts.append((await repo.counters(member.group_id, member.id, day)).get("messages", 0))
            assert set(await repo.badges_of(member.group_id, member.id)) == {"first_message", "talker"}
        assert sorted(counts) == [0, 5], counts
