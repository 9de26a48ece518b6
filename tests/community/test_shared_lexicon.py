"""A community's chats share their moderation lexicon: a term added in one chat catches in the
others, a term added ``here`` stays in its chat, and a chat that leaves goes back to its own.

Every line goes through the console protocol with its ``platform`` field, on SQLite and (where a
DSN is given) PostgreSQL, with the virtual clock.
"""

from __future__ import annotations

from pathlib import Path

from adapters.console.adapter import Record
from handlers.moderation.service import get_state
from tests.community.test_communities import EN, code_in, said, say
from tests.harness import Harness

SPAM = "buy cheap pills now"


def caught(records: list[Record]) -> bool:
    """The message was deleted by the screen (a yellow or red hit)."""
    return any(r["action"] == "delete" for r in records)


async def mod(h: Harness, platform: str, chat: str, text: str) -> list[str]:
    return said(await say(h, platform, chat, "mo-" + chat, text, role="moderator"))


async def community(h: Harness) -> None:
    """A Telegram group ``tg`` and a Discord server ``dc`` in one community; ``lone`` in none."""
    created = said(await say(h, "telegram", "tg", "ann", "/community create Cat Club", role="owner"))
    await say(h, "discord", "dc", "dora", "/community join " + code_in(created, "C"), role="owner")
    await say(h, "telegram", "lone", "lea", "hello", role="owner")


async def test_a_term_added_in_one_chat_catches_in_the_community_not_elsewhere(
    tmp_path: Path, db_url: str
) -> None:
    async with Harness(tmp_path, db_url=db_url, config=EN) as h:
        await community(h)
        # Matchers are built (and cached) before the term exists: the add must drop them.
        assert not caught(await say(h, "discord", "dc", "bob", SPAM))
        assert not caught(await say(h, "telegram", "lone", "bob", SPAM))
        added = await mod(h, "telegram", "tg", '/kw add yellow "cheap pills" ads')
        assert added == [
            "Added a yellow term (category: advertising); this group's lexicon has 1 entries.\n"
            "It applies in all 2 chats of the community (/kw add … here keeps a term in this chat)."
        ]
        assert caught(await say(h, "telegram", "tg", "bob", SPAM))
        assert caught(await say(h, "discord", "dc", "bob", SPAM))
        assert not caught(await say(h, "telegram", "lone", "bob", SPAM))
        # The other chat lists it as the community's, and /kw test there finds it.
        listed = await mod(h, "discord", "dc", "/kw list")
        assert any("Shared by the community's 1 other chats (1 entries" in t for t in listed), listed
        assert any("cheap pills" in t for t in listed)
        info = await mod(h, "discord", "dc", "/kw info cheap pills")
        assert any(
            "The community (shared by another of its chats): cheap pills · yellow" in t for t in info
        ), info
        # A moderator of the other chat may remove it: it goes from every chat.
        state = get_state(h.services)
        (tg,) = [g for g in state.built_with if await state.repos.lexicon.terms(g)]  # the chat holding it
        assert await mod(h, "discord", "dc", "/kw del cheap pills") == ["Removed 1 entries."]
        # The chat that added it has the removal in its own audit trail.
        audit = await state.repos.audit.log_rows(tg)
        assert audit[0].action == "kw_del" and audit[0].detail.startswith("removed=1 in="), audit
        assert not caught(await say(h, "telegram", "tg", "carl", SPAM))
        assert not caught(await say(h, "discord", "dc", "carl", SPAM))


async def test_a_term_added_here_stays_in_its_chat(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url, config=EN) as h:
        await community(h)
        added = await mod(h, "discord", "dc", '/kw add yellow "cheap pills" here')
        assert added == [
            "Added a yellow term (category: a rule violation); this group's lexicon has 1 entries.\n"
            "This chat only: the community's other chats do not take it."
        ]
        assert caught(await say(h, "discord", "dc", "bob", SPAM))
        assert not caught(await say(h, "telegram", "tg", "bob", SPAM))
        listed = await mod(h, "discord", "dc", "/kw list")
        assert any(
            "cheap pills · custom · text · hits 1 · false positives 0 · this chat only" in t for t in listed
        )
        # The other chat cannot remove what is not its own (nor shared with it).
        assert await mod(h, "telegram", "tg", "/kw del cheap pills") == [
            "That term is not in this group's lexicon."
        ]
        assert caught(await say(h, "discord", "dc", "carl", SPAM))
        # Adding it again without "here" shares it.
        await mod(h, "discord", "dc", '/kw add yellow "cheap pills"')
        assert caught(await say(h, "telegram", "tg", "carl", SPAM))


async def test_leaving_the_community_goes_back_to_the_chats_own_lexicon(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url, config=EN) as h:
        await community(h)
        await mod(h, "telegram", "tg", '/kw add yellow "cheap pills"')
        await mod(h, "discord", "dc", "/kw add yellow casino")
        assert caught(await say(h, "discord", "dc", "bob", SPAM))
        assert caught(await say(h, "telegram", "tg", "bob", "best casino in town"))
        said(await say(h, "discord", "dc", "dora", "/community leave", role="owner"))
        # Each chat keeps the terms it added; the other's no longer apply.
        assert not caught(await say(h, "discord", "dc", "carl", SPAM))
        assert caught(await say(h, "discord", "dc", "carl", "best casino in town"))
        assert not caught(await say(h, "telegram", "tg", "carl", "best casino in town"))
        assert caught(await say(h, "telegram", "tg", "carl", SPAM))
        # Outside a community /kw answers exactly as before.
        assert await mod(h, "discord", "dc", "/kw add blue dice") == [
            "Added a blue term (category: a rule violation); this group's lexicon has 2 entries."
        ]


async def test_a_chat_that_keeps_its_lexicon_to_itself(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url, config=EN) as h:
        await community(h)
        await mod(h, "telegram", "tg", '/kw add yellow "cheap pills"')
        assert caught(await say(h, "discord", "dc", "bob", SPAM))
        await say(h, "discord", "dc", "dora", "/set community.share_lexicon off", role="owner")
        assert not caught(await say(h, "discord", "dc", "carl", SPAM))
        # Its own additions stay with it, and say nothing about the community.
        assert await mod(h, "discord", "dc", "/kw add yellow casino") == [
            "Added a yellow term (category: a rule violation); this group's lexicon has 1 entries."
        ]
        assert not caught(await say(h, "telegram", "tg", "carl", "best casino in town"))
        await say(h, "discord", "dc", "dora", "/set community.share_lexicon on", role="owner")
        assert caught(await say(h, "discord", "dc", "dan", SPAM))
        assert caught(await say(h, "telegram", "tg", "dan", "best casino in town"))


async def test_bad_input(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url, config=EN) as h:
        await community(h)
        (bad,) = await mod(h, "telegram", "tg", "/kw add purple pills here")
        assert bad.startswith("“purple” is not a level; use red, yellow or blue.\nUsage: /kw add")
        assert "[here]" in bad
        assert await mod(h, "telegram", "tg", "/kw del nothing-like-it") == [
            "That term is not in this group's lexicon."
        ]
        refused = said(
            await say(h, "telegram", "tg", "ann", "/set community.share_lexicon maybe", role="owner")
        )
        assert refused and "share_lexicon" in refused[0]
        # A member who is no moderator cannot add to the community's lexicon.
        assert not caught(await say(h, "telegram", "tg", "bob", '/kw add red "cheap pills"'))
        assert not caught(await say(h, "discord", "dc", "bob", SPAM))
        state = get_state(h.services)
        assert all(not m for m in [await state.repos.lexicon.terms(g) for g in state.matchers])
