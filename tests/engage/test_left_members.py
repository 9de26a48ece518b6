"""Someone who left the group can still see its posts (and, on Telegram, press their buttons):
their presses on a giveaway, a poll or a sign-up list are refused privately and count for
nothing, right after the leave and after a restart; joining again lets them take part."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.harness import Harness, texts

Record = dict[str, Any]
NOT_MEMBER = "你已不在这个群里，不能参与这里的抽奖、投票或接龙。重新入群后再试。"


def private(records: list[Record], user: str) -> list[str]:
    """Texts sent privately to one member."""
    return [r["text"] for r in records if r["action"] == "send" and r.get("user") == user]


async def _post(h: Harness, text: str) -> Record:
    out = await h.say("demo", "max", text)
    (card,) = [r for r in out if r["action"] == "send" and r.get("chat") == "demo" and r.get("buttons")]
    return card


async def test_a_member_who_left_cannot_enter_vote_or_sign_up(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "max", "hello", role="moderator")
        await h.join("demo", "eve")
        await h.say("demo", "eve", "hi")
        giveaway = await _post(h, "/giveaway start 2h 1 周边T恤")
        poll = await _post(h, "/poll for 1h 周六哪天？| 6号 | 13号")
        signup = await _post(h, "接龙 周六羽毛球 limit 5")
        await h.leave("demo", "eve")

        presses = [
            (giveaway, "gw:join:1"),
            (poll, "pl:v:1:1"),
            (signup, "sg:join:1"),
        ]
        for card, data in presses:
            out = await h.press("demo", "eve", card["id"], data)
            assert private(out, "eve") == [NOT_MEMBER]
            assert [r for r in out if r["action"] == "send" and r.get("chat") == "demo"] == []
        # A restart empties the member cache; the leave is read back from the database.
        await h.restart()
        out = await h.press("demo", "eve", giveaway["id"], "gw:join:1")
        assert private(out, "eve") == [NOT_MEMBER]
        listing = texts(await h.say("demo", "max", "/giveaway list"))[0]
        assert "0 人参加" in listing
        assert "👥 0 人已投票" in texts(await h.say("demo", "max", "/poll results 1"))[0]

        # Back in the group, the same presses count.
        await h.join("demo", "eve")
        out = await h.press("demo", "eve", giveaway["id"], "gw:join:1")
        assert NOT_MEMBER not in private(out, "eve")
        assert "1 人参加" in texts(await h.say("demo", "max", "/giveaway list"))[0]
        out = await h.press("demo", "eve", signup["id"], "sg:join:1")
        assert private(out, "eve") == ["你已加入接龙 #1 周六羽毛球。"]


async def test_the_refusal_is_in_the_members_language(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "max", "/lang en", role="owner")
        await h.join("demo", "sam")
        card = await _post(h, "/poll for 1h Which day? | Sat | Sun")
        await h.leave("demo", "sam")
        out = await h.press("demo", "sam", card["id"], "pl:v:1:2")
        assert private(out, "sam") == [
            "You are no longer in this group, so you cannot take part here. Rejoin the group to try again."
        ]
