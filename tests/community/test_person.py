"""One person across linked accounts: warnings add up on the ladder, the lower credit stands."""

from __future__ import annotations

from pathlib import Path

from tests.community.test_communities import EN, actions, code_in, said, say, three_platform_community
from tests.harness import Harness

YELLOW = "get free money now"  # free money: yellow / scam in the starter lexicon


async def linked_spammer(h: Harness) -> None:
    """``spam`` on Telegram and ``spam_q`` on OneBot, in one community, linked by both accounts."""
    await three_platform_community(h)
    await say(h, "telegram", "tg", "spam", "hello")
    await say(h, "onebot", "qq", "spam_q", "hi")
    await say(h, "onebot", "qq", "quinn", "hi")
    sent = await h.line(type="dm", platform="telegram", user="spam", text="/link")
    await h.line(type="dm", platform="onebot", user="spam_q", text="/link " + code_in(said(sent), "L"))


async def test_warnings_of_linked_accounts_add_up_on_the_ladder(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url, config=EN) as h:
        await linked_spammer(h)
        first = said(await say(h, "telegram", "tg", "mod", "/warn @spam spam", role="moderator"))
        second = said(await say(h, "telegram", "tg", "mod", "/warn @spam spam", role="moderator"))
        assert "(1/5)" in first[0] and "(2/5)" in second[0]
        # The person's third warning, given to their OneBot account: the ladder's first rung.
        third = await say(h, "onebot", "qq", "mo", "/warn @spam_q spam", role="moderator")
        assert "(3/5)" in said(third)[0], said(third)
        assert ("onebot", "qq", "spam_q") in actions(third, "mute")
        # Someone unlinked in the same chat starts from their own count.
        other = said(await say(h, "onebot", "qq", "mo", "/warn @quinn off topic", role="moderator"))
        assert "(1/5)" in other[0]
        # Revoking one warning of the Telegram account lowers the person's count again.
        await say(h, "telegram", "tg", "mod", "/unwarn @spam", role="moderator")
        fourth = said(await say(h, "onebot", "qq", "mo", "/warn @spam_q again", role="moderator"))
        assert "(3/5)" in fourth[0], fourth


async def test_the_lower_credit_of_linked_accounts_decides(tmp_path: Path) -> None:
    async with Harness(tmp_path, config=EN) as h:
        await linked_spammer(h)
        for platform, chat, user in (("telegram", "tg", "ann"), ("onebot", "qq", "owen")):
            await say(h, platform, chat, user, "/set moderation.yellow_credit 35", role="owner")
        # The Telegram account falls to "danger" (100 → 65 → 30) in its chat.
        await say(h, "telegram", "tg", "spam", YELLOW)
        await h.advance(seconds=3600)
        await say(h, "telegram", "tg", "spam", YELLOW)
        await h.advance(seconds=3600)
        # In the OneBot chat an unlinked member's first yellow hit is only yellow: no mute...
        quinn = await say(h, "onebot", "qq", "quinn", YELLOW)
        assert actions(quinn, "mute") == []
        # ...while the linked account, clean on its own, is judged by the lower score: red.
        linked = await say(h, "onebot", "qq", "spam_q", YELLOW)
        assert ("onebot", "qq", "spam_q") in actions(linked, "mute")
