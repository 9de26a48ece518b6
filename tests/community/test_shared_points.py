"""One person, one wallet across a community: merged balances and streaks, one check-in a day,
the unlink split, and the moderator's view of linked accounts.

Every line goes through the console protocol with its ``platform`` field, on SQLite and (where a
DSN is given) PostgreSQL, with the virtual clock.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from handlers.checkin.state import state
from tests.community.test_communities import EN, code_in, said, say
from tests.harness import Harness

DAY = 24 * 3600


async def community_of_two(h: Harness) -> None:
    """A Telegram group ``tg`` and a Discord server ``dc`` in one community."""
    created = said(await say(h, "telegram", "tg", "ann", "/community create Cat Club", role="owner"))
    await say(h, "discord", "dc", "dora", "/community join " + code_in(created, "C"), role="owner")


async def link(h: Harness, first: tuple[str, str], second: tuple[str, str]) -> list[str]:
    """``first`` asks for a code privately, ``second`` sends it back: both accounts act."""
    sent = await h.line(type="dm", platform=first[0], user=first[1], text="/link")
    code = code_in(said(sent), "L")
    return said(await h.line(type="dm", platform=second[0], user=second[1], text=f"/link {code}"))


async def balance(h: Harness, platform: str, chat: str, user: str) -> int:
    """The balance ``/points`` shows this account in this chat."""
    text = said(await say(h, platform, chat, user, "/points"))[0]
    found = re.search(r"balance (\d+)", text)
    assert found, text
    return int(found.group(1))


async def checkin(h: Harness, platform: str, chat: str, user: str) -> str:
    """The reply to a check-in."""
    return said(await say(h, platform, chat, user, "/checkin"))[0]


def earned_by(reply: str) -> int:
    """The points a check-in reply says it gave."""
    found = re.search(r"Total (\d+) points", reply)
    assert found, reply
    return int(found.group(1))


async def ledger_holds(h: Harness) -> None:
    """For every membership, balance = sum of its ledger, never negative."""
    for _group, _member, held, total in await state(h.services).repos.ledger.all_balances():
        assert held == total >= 0


async def test_linking_merges_both_balances_and_the_longer_streak_continues(
    tmp_path: Path, db_url: str
) -> None:
    async with Harness(tmp_path, db_url=db_url, config=EN) as h:
        await community_of_two(h)
        # Two accounts of one person, not linked yet: two wallets, two streaks.
        assert "streak 1 days" in await checkin(h, "telegram", "tg", "bob")
        assert "streak 1 days" in await checkin(h, "discord", "dc", "bobd")
        await h.advance(DAY)
        assert "streak 2 days" in await checkin(h, "telegram", "tg", "bob")
        assert "streak 2 days" in await checkin(h, "discord", "dc", "bobd")
        await h.advance(DAY)
        assert "streak 3 days" in await checkin(h, "telegram", "tg", "bob")
        tg_held = await balance(h, "telegram", "tg", "bob")
        dc_held = await balance(h, "discord", "dc", "bobd")
        assert tg_held > 0 and dc_held > 0
        assert await link(h, ("telegram", "bob"), ("discord", "bobd")) == [
            "Linked. Your accounts: discord:bobd, telegram:bob"
        ]
        # One balance, seen from either account; the ledger says where it came from.
        assert await balance(h, "discord", "dc", "bobd") == tg_held + dc_held
        assert await balance(h, "telegram", "tg", "bob") == tg_held + dc_held
        history = said(await say(h, "telegram", "tg", "bob", "/points"))[0]
        assert f"+{dc_held}  merged from your other account" in history
        await ledger_holds(h)
        # The Telegram account checked in today: the Discord one cannot claim the day again.
        already = await checkin(h, "discord", "dc", "bobd")
        assert already.startswith("You have already checked in today") and "Streak: 3 days" in already
        await h.advance(DAY)
        # The longer streak (3, not 2) continues, whichever account checks in; a day counts once.
        fourth = await checkin(h, "discord", "dc", "bobd")
        assert "streak 4 days" in fourth
        again = await checkin(h, "telegram", "tg", "bob")
        assert again.startswith("You have already checked in today") and "Streak: 4 days" in again
        total = tg_held + dc_held + earned_by(fourth)
        assert await balance(h, "telegram", "tg", "bob") == total
        me = said(await say(h, "discord", "dc", "bobd", "/me"))[0]
        assert f"Balance {total} points" in me and "Streak 4 days" in me
        await ledger_holds(h)
        # Unlinking splits as the ledger says: the Discord account takes back what it brought
        # and what its own check-in earned; nothing is lost or made.
        assert said(await h.line(type="dm", platform="discord", user="bobd", text="/unlink")) == [
            "discord:bobd is no longer linked to your other accounts."
        ]
        dc_after = await balance(h, "discord", "dc", "bobd")
        assert dc_after == dc_held + earned_by(fourth)
        assert await balance(h, "telegram", "tg", "bob") == total - dc_after
        await ledger_holds(h)
        # Two people again: each checks in on their own.
        await h.advance(DAY)
        assert "Checked in" in await checkin(h, "discord", "dc", "bobd")
        assert "Checked in" in await checkin(h, "telegram", "tg", "bob")


async def test_the_same_account_in_two_chats_of_a_community_has_one_wallet(tmp_path: Path) -> None:
    async with Harness(tmp_path, config=EN) as h:
        created = said(await say(h, "telegram", "tg", "ann", "/community create Cat Club", role="owner"))
        await say(h, "telegram", "tg2", "tina", "/community join " + code_in(created, "C"), role="owner")
        assert "Checked in" in await checkin(h, "telegram", "tg", "bob")
        assert (await checkin(h, "telegram", "tg2", "bob")).startswith("You have already checked in today")
        assert await balance(h, "telegram", "tg2", "bob") == await balance(h, "telegram", "tg", "bob") > 0
        # A chat that opts out keeps its own points and check-ins.
        said(await say(h, "telegram", "tg2", "tina", "/set community.share_points off"))
        assert "Checked in" in await checkin(h, "telegram", "tg2", "bob")
        await ledger_holds(h)


async def test_check_in_on_two_platforms_in_the_same_second(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url, config=EN) as h:
        await community_of_two(h)
        await say(h, "telegram", "tg", "bob", "hello")
        await say(h, "discord", "dc", "bobd", "hi")
        await link(h, ("telegram", "bob"), ("discord", "bobd"))
        # Script lines at one clock instant: the second is answered "already".
        first = await checkin(h, "telegram", "tg", "bob")
        second = await checkin(h, "discord", "dc", "bobd")
        assert "Checked in" in first and second.startswith("You have already checked in today")
        await h.advance(DAY)
        # Truly concurrent: both dispatched at once; the unique key lets exactly one claim the day.
        tasks = [
            h.adapter.message("telegram:tg", "telegram:bob", "/checkin"),
            h.adapter.message("discord:dc", "discord:bobd", "/checkin"),
        ]
        await asyncio.gather(*tasks)
        assert h.app.dispatcher is not None
        await h.app.dispatcher.drain()
        answers = said(h.adapter.take())
        assert sorted(a.split("!")[0].split(" today")[0] for a in answers) == [
            "You have already checked in",
            "✅ Checked in",
        ], answers
        assert "streak 2 days" in next(a for a in answers if a.startswith("✅"))
        await ledger_holds(h)


async def test_a_transfer_between_linked_accounts_is_refused_and_between_people_crosses_chats(
    tmp_path: Path,
) -> None:
    async with Harness(tmp_path, config=EN) as h:
        await community_of_two(h)
        await checkin(h, "telegram", "tg", "bob")
        await checkin(h, "discord", "dc", "bobd")
        await say(h, "discord", "dc", "carl", "hi")
        await link(h, ("telegram", "bob"), ("discord", "bobd"))
        held = await balance(h, "discord", "dc", "bobd")
        # Carl's wallet is in dc, Bob's in tg: a transfer in dc moves between the two.
        sent = said(await say(h, "discord", "dc", "bobd", "/give @carl 5"))[0]
        assert sent.startswith("💸 Sent 5 points") and f"balance is {held - 5}" in sent
        assert await balance(h, "telegram", "tg", "bob") == held - 5
        assert await balance(h, "discord", "dc", "carl") == 5
        # A moderator's adjustment on either account reaches the one wallet.
        taken = said(await say(h, "discord", "dc", "dora", "/points take @bobd 2"))[0]
        assert taken == f"Took 2 points from @bobd; balance {held - 7}."
        assert await balance(h, "telegram", "tg", "bob") == held - 7
        # The calendar shows the person's check-ins: one day (they were two accounts that day).
        calendar = said(await say(h, "discord", "dc", "bobd", "/checkin calendar"))[0]
        assert "(1 days this month)" in calendar.splitlines()[0]
        await ledger_holds(h)


async def test_moderators_see_linked_accounts_in_a_members_record(tmp_path: Path) -> None:
    async with Harness(tmp_path, config=EN) as h:
        await community_of_two(h)
        await say(h, "telegram", "tg", "bob", "hello")
        plain = said(await say(h, "telegram", "tg", "mod", "/warns @bob", role="moderator"))[0]
        assert "Linked accounts" not in plain
        await link(h, ("telegram", "bob"), ("discord", "bobd"))
        record = said(await say(h, "telegram", "tg", "mod", "/warns @bob"))[0]
        assert record.splitlines()[-1] == "Linked accounts: discord:bobd"
        # A member cannot read another's record.
        denied = said(await say(h, "telegram", "tg", "joe", "/warns @bob"))
        assert denied and "discord:bobd" not in denied[0]


async def test_shop_make_up_and_credit_follow_the_person(tmp_path: Path) -> None:
    async with Harness(tmp_path, config=EN) as h:
        await community_of_two(h)
        await checkin(h, "telegram", "tg", "bob")
        await h.advance(DAY)
        await say(h, "discord", "dc", "bobd", "hi")
        await link(h, ("telegram", "bob"), ("discord", "bobd"))
        held = await balance(h, "discord", "dc", "bobd")
        # The Discord server's shop is paid from the wallet kept in the Telegram group.
        listed = said(await say(h, "discord", "dc", "dora", "/shop add sticker 3 5"))[0]
        assert listed.startswith("🛒 Listed")
        bought = said(await say(h, "discord", "dc", "bobd", "/redeem sticker"))[0]
        assert bought.startswith("🎁 Redeemed sticker for 3 points") and f"balance {held - 3}" in bought
        assert await balance(h, "telegram", "tg", "bob") == held - 3
        # The Telegram account checked in two days ago and nobody yesterday: the Discord account
        # may repair the person's day, paid from the one wallet (too little in it here).
        await h.advance(DAY)
        costly = said(await say(h, "discord", "dc", "bobd", "/makeup"))[0]
        assert costly == f"A make-up costs 50 points; you have {held - 3}."
        await ledger_holds(h)
        # The lower credit score stands: a moderation hit on Discord shows on the Telegram account.
        before = said(await say(h, "telegram", "tg", "bob", "/me"))[0].splitlines()[-1]
        said(await say(h, "discord", "dc", "dora", "/kw add yellow frobnicate"))
        await say(h, "discord", "dc", "bobd", "frobnicate now")
        after = said(await say(h, "telegram", "tg", "bob", "/me"))[0].splitlines()[-1]
        score = re.compile(r"Credit (\d+)")
        assert before.startswith("Credit") and after.startswith("Credit")
        assert int(score.search(after).group(1)) < int(score.search(before).group(1))  # type: ignore[union-attr]
