"""Leaderboards in a community: this chat's board ranks what its members earned here, the
community's ranks people (linked accounts and the same account in several chats as one), and
``community.leaderboards`` decides which a chat offers.

Through the console protocol with its ``platform`` field, on SQLite and PostgreSQL, virtual clock.
"""

from __future__ import annotations

from pathlib import Path

from tests.community.test_communities import EN, code_in, said, say
from tests.community.test_shared_points import DAY, checkin, community_of_two, earned_by, ledger_holds, link
from tests.harness import Harness


async def board(h: Harness, platform: str, chat: str, user: str, text: str = "/rank") -> list[str]:
    """The lines of one ``/rank`` reply."""
    replies = said(await say(h, platform, chat, user, text))
    assert len(replies) == 1, replies
    return replies[0].split("\n")


async def test_chat_boards_rank_earnings_where_made_and_the_community_board_ranks_people(
    tmp_path: Path, db_url: str
) -> None:
    async with Harness(tmp_path, db_url=db_url, config=EN) as h:
        await community_of_two(h)
        bob_tg = earned_by(await checkin(h, "telegram", "tg", "bob"))
        bob_dc = earned_by(await checkin(h, "discord", "dc", "bobd"))
        carol = earned_by(await checkin(h, "discord", "dc", "carol"))
        dave = earned_by(await checkin(h, "telegram", "tg", "dave"))
        assert await link(h, ("telegram", "bob"), ("discord", "bobd")) == [
            "Linked. Your accounts: discord:bobd, telegram:bob"
        ]
        await h.advance(DAY)
        # After the link the Discord account's check-in is posted on the person's one wallet
        # (kept on the Telegram membership), naming the Discord membership as who earned it.
        bob_dc += earned_by(await checkin(h, "discord", "dc", "bobd"))
        await ledger_holds(h)
        week = "this week"
        # This chat's board: what its members earned here, wherever their wallet is kept.
        assert await board(h, "telegram", "tg", "dave") == [
            f"🏆 Leaderboard · {week}",
            f"🥇 bob  {bob_tg} pts",
            f"🥈 dave  {dave} pts",
            f"You: #2 ({dave} pts)",
        ]
        assert await board(h, "discord", "dc", "carol", "/rank chat") == [
            f"🏆 Leaderboard · {week}",
            f"🥇 bobd  {bob_dc} pts",
            f"🥈 carol  {carol} pts",
            f"You: #2 ({carol} pts)",
        ]
        # The community's board: one line per person, shown by their account in the asking chat.
        person = bob_tg + bob_dc
        assert person > carol >= dave
        assert await board(h, "telegram", "tg", "bob", "/rank community") == [
            f"🏆 Community leaderboard · {week}",
            f"🥇 bob  {person} pts",
            f"🥈 carol  {carol} pts",
            f"🥉 dave  {dave} pts",
            f"You: #1 ({person} pts)",
        ]
        assert await board(h, "discord", "dc", "bobd", "/rank all community") == [
            "🏆 Community leaderboard · all time",
            f"🥇 bobd  {person} pts",
            f"🥈 carol  {carol} pts",
            f"🥉 dave  {dave} pts",
            f"You: #1 ({person} pts)",
        ]
        # In either order, in Chinese words too.
        assert (await board(h, "discord", "dc", "bobd", "/rank 社区 总"))[1] == f"🥇 bobd  {person} pts"
        # /me's monthly rank is on the board a plain /rank shows: this chat's.
        me = said(await say(h, "discord", "dc", "carol", "/me"))[0]
        assert "This month: #2" in me
        # Unlinking splits the wallet but not the history: each account keeps what it earned.
        await h.line(type="dm", platform="discord", user="bobd", text="/unlink")
        assert await board(h, "telegram", "tg", "bob", "/rank community") == [
            f"🏆 Community leaderboard · {week}",
            f"🥇 bobd  {bob_dc} pts",
            f"🥈 bob  {bob_tg} pts",
            f"🥉 carol  {carol} pts",
            f"4. dave  {dave} pts",
            f"You: #2 ({bob_tg} pts)",
        ]
        await ledger_holds(h)


async def test_the_same_account_in_two_chats_is_one_person_on_the_community_board(tmp_path: Path) -> None:
    async with Harness(tmp_path, config=EN) as h:
        created = said(await say(h, "telegram", "tg", "ann", "/community create Cat Club", role="owner"))
        await say(h, "telegram", "tg2", "tina", "/community join " + code_in(created, "C"), role="owner")
        first = earned_by(await checkin(h, "telegram", "tg", "bob"))
        await h.advance(DAY)
        second = earned_by(await checkin(h, "telegram", "tg2", "bob"))
        assert await board(h, "telegram", "tg2", "bob") == [
            "🏆 Leaderboard · this week",
            f"🥇 bob  {second} pts",
            f"You: #1 ({second} pts)",
        ]
        assert (await board(h, "telegram", "tg2", "bob", "/rank community"))[1:] == [
            f"🥇 bob  {first + second} pts",
            f"You: #1 ({first + second} pts)",
        ]


async def test_which_boards_a_chat_offers_and_bad_words(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url, config=EN) as h:
        await community_of_two(h)
        earned = earned_by(await checkin(h, "discord", "dc", "carol"))
        only_own = (
            "This chat has only its own leaderboard (it is in no community, or keeps its points to "
            "itself): /rank [week|month|all]."
        )
        # Outside a community there is no community board.
        assert await board(h, "telegram", "alone", "zed", "/rank community") == [only_own]
        # community.leaderboards = chat: the community board is not offered here.
        await say(h, "discord", "dc", "dora", "/set community.leaderboards chat", role="owner")
        assert await board(h, "discord", "dc", "carol", "/rank community") == [
            "This chat shows only its own leaderboard (community.leaderboards = chat): /rank [week|month|all]."
        ]
        # = community: a plain /rank shows the community's, and this chat's alone is not offered.
        await say(h, "discord", "dc", "dora", "/set community.leaderboards community", role="owner")
        assert (await board(h, "discord", "dc", "carol"))[:2] == [
            "🏆 Community leaderboard · this week",
            f"🥇 carol  {earned} pts",
        ]
        assert await board(h, "discord", "dc", "carol", "/rank month chat") == [
            "This chat shows only the community's leaderboard (community.leaderboards = community): "
            "/rank [week|month|all]."
        ]
        # A chat keeping its points to itself has only its own; the last chat sharing shows its own.
        await say(h, "telegram", "tg", "ann", "/set community.share_points off", role="owner")
        assert await board(h, "telegram", "tg", "ann", "/rank community") == [only_own]
        assert (await board(h, "discord", "dc", "carol"))[:2] == [
            "🏆 Leaderboard · this week",
            f"🥇 carol  {earned} pts",
        ]
        bad = said(
            await say(h, "discord", "dc", "dora", "/set community.leaderboards everyone", role="owner")
        )
        assert "community.leaderboards" in bad[0] and "both" in bad[0]
        usage = "Usage: /rank [week|month|all] [community] — leaderboard by points earned"
        assert await board(h, "discord", "dc", "carol", "/rank week month") == [
            "Give at most one period (week|month|all) and one board (chat|community).",
            usage,
        ]
        assert await board(h, "discord", "dc", "carol", "/rank community chat") == [
            "Give at most one period (week|month|all) and one board (chat|community).",
            usage,
        ]
        assert (await board(h, "discord", "dc", "carol", "/rank everyone"))[-1] == usage


async def test_boards_answer_in_chinese(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await community_of_two(h)
        await checkin(h, "discord", "dc", "carol")
        lines = await board(h, "telegram", "tg", "ann", "/排行榜 社区")
        assert lines[0] == "🏆 社区积分排行榜 · 本周" and lines[1].startswith("🥇 carol")
        assert await board(h, "telegram", "alone", "zed", "/rank 社区") == [
            "本群只有本群的排行榜（不属于任何社区，或积分不与社区共享）：/rank [week|month|all]。"
        ]
        assert (await board(h, "telegram", "tg", "ann", "/rank 周 月"))[0] == (
            "最多给一个时段（week|month|all / 周|月|总）和一个榜单（chat|community / 本群|社区）。"
        )
