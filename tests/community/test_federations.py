"""Federations across platforms: a shared ban list, bans at the door, import and export."""

from __future__ import annotations

import re
from pathlib import Path

from adapters.console.adapter import Record
from tests.community.test_communities import EN, actions, code_in, said, say
from tests.harness import Harness


def fed_id(texts: list[str]) -> str:
    found = re.search(r"\b(F[A-Z2-9]{8})\b", "\n".join(texts))
    assert found, texts
    return found.group(1)


async def federation_of_two(h: Harness) -> str:
    created = said(await say(h, "telegram", "tg", "ann", "/fed create Anti-Spam League", role="owner"))
    ident = fed_id(created)
    joined = said(await say(h, "onebot", "qq", "owen", f"/fed join {ident}", role="owner"))
    assert joined == [
        "This chat now follows the federation “Anti-Spam League” (1 chat(s) subscribed); its ban list applies here."
    ]
    return ident


async def test_fban_bans_everywhere_and_at_the_door(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url, config=EN) as h:
        await federation_of_two(h)
        await say(h, "telegram", "tg", "spam", "buy now")
        await say(h, "onebot", "qq", "x", "hi")
        # The spammer's QQ account is linked to their Telegram one.
        sent = await h.line(type="dm", platform="telegram", user="spam", text="/link")
        await h.line(type="dm", platform="onebot", user="spam_q", text="/link " + code_in(said(sent), "L"))
        records = await say(h, "telegram", "tg", "ann", "/fban @spam crypto scam")
        assert said(records) == ["spam is on the ban list of “Anti-Spam League” and was banned in 2 chat(s)."]
        assert sorted(actions(records, "ban")) == [("onebot", "qq", "spam_q"), ("telegram", "tg", "spam")]
        # Joining a subscribed chat later: banned at once, never welcomed.
        came = await h.line(type="join", platform="onebot", chat="qq", user="spam_q")
        assert actions(came, "ban") == [("onebot", "qq", "spam_q")]
        assert said(came) == []
        info = said(await say(h, "onebot", "qq", "x", "/fedinfo"))[0]
        assert "Owner: telegram:ann" in info and "chats: 2 · bans: 1" in info
        # Off the list: unbanned everywhere, and welcome at the door again.
        lifted = await say(h, "telegram", "tg", "ann", "/unfban @spam")
        assert said(lifted) == ["spam is off the ban list of “Anti-Spam League”; unbanned in 2 chat(s)."]
        again = await h.line(type="join", platform="onebot", chat="qq", user="spam_q")
        assert actions(again, "ban") == []


async def test_only_federation_admins_ban_and_only_the_owner_promotes(tmp_path: Path) -> None:
    async with Harness(tmp_path, config=EN) as h:
        await federation_of_two(h)
        await say(h, "onebot", "qq", "victim", "hello")
        # The QQ group's own owner is no federation admin.
        denied = said(await say(h, "onebot", "qq", "owen", "/fban @victim"))
        assert denied == ["Only the admins of the federation “Anti-Spam League” can do that."]
        not_owner = said(await say(h, "onebot", "qq", "owen", "/fed promote @victim"))
        assert not_owner == ["Only the owner of the federation “Anti-Spam League” can do that."]
        await say(h, "telegram", "tg", "tim", "hi")
        promoted = said(await say(h, "telegram", "tg", "ann", "/fed promote @tim"))
        assert promoted == ["tim is now an admin of “Anti-Spam League”."]
        admins = said(await say(h, "onebot", "qq", "x", "/fedadmins"))[0]
        assert admins.splitlines() == ["Admins of “Anti-Spam League”:", "telegram:ann", "telegram:tim"]
        # A chat without a federation says so; an unknown id is named.
        none = said(await say(h, "discord", "dc", "dora", "/fedinfo"))
        assert none == ["This chat follows no federation. Its owner can /fed create NAME or /fed join ID."]
        unknown = said(await say(h, "discord", "dc", "dora", "/fed join FNOPE", role="owner"))
        assert unknown == ["No federation has the id “FNOPE”."]


async def test_import_names_bad_lines_and_export_is_csv(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url, config=EN) as h:
        await federation_of_two(h)
        listing = "\n".join(
            [
                "user_id",
                "1001",
                "1002,known spammer",
                "has space",
                "",
                "telegram,1003,cas",
                "x" * 200,
                "1001",
            ]
        )
        records = await say(h, "telegram", "tg", "ann", "/fed import\n" + listing)
        assert said(records) == [
            "Imported into “Anti-Spam League”: 3 new ban(s), 1 already on the list. New joiners on the "
            "list are banned at the door.\n2 line(s) were not a user id and were skipped: line 4, 7"
        ]
        export: list[Record] = await say(h, "telegram", "tg", "ann", "/fbanlist")
        private = [str(r["text"]) for r in export if r["action"] == "send" and "user" in r]
        rows = private[0].splitlines()
        assert rows[0] == "platform,user_id,reason,banned_by,banned_at"
        assert [r.split(",")[:3] for r in rows[1:]] == [
            ["telegram", "1001", ""],
            ["telegram", "1002", "known spammer"],
            ["telegram", "1003", "cas"],
        ]
        # A member may not export or import.
        assert "admins" in said(await say(h, "telegram", "tg", "joe", "/fbanlist"))[0]
        assert "admins" in said(await say(h, "telegram", "tg", "joe", "/fed import\n1"))[0]
        empty = said(await say(h, "telegram", "tg", "ann", "/fed import"))
        assert empty[0].startswith("Usage: /fed [create NAME")


async def test_a_chat_that_follows_a_federation_later_bans_at_the_door_from_then_on(
    tmp_path: Path, db_url: str
) -> None:
    # Joins are checked against the ban list only in chats that follow a federation, and which
    # chats do is kept in memory: following one (and leaving it) must show at the next join.
    async with Harness(tmp_path, db_url=db_url, config=EN) as h:
        created = said(await say(h, "telegram", "tg", "ann", "/fed create League", role="owner"))
        ident = fed_id(created)
        await say(h, "telegram", "tg", "spam", "buy now")
        await say(h, "telegram", "tg", "ann", "/fban @spam scam")
        early = await h.line(type="join", platform="telegram", chat="tg2", user="spam")
        assert actions(early, "ban") == []  # tg2 follows no federation yet
        await say(h, "telegram", "tg2", "owen", f"/fed join {ident}", role="owner")
        later = await h.line(type="join", platform="telegram", chat="tg2", user="spam")
        assert actions(later, "ban") == [("telegram", "tg2", "spam")]
        await say(h, "telegram", "tg2", "owen", "/fed leave", role="owner")
        after = await h.line(type="join", platform="telegram", chat="tg2", user="spam")
        assert actions(after, "ban") == []
