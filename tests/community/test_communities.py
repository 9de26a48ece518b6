"""Communities across platforms: joining with a code, shared bans, linked accounts.

Every line goes through the console protocol with its ``platform`` field, so one script runs a
community spanning a Telegram group, a Discord server and a OneBot group.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from adapters.console.adapter import Record
from bot.errors import BotLacksPermission
from bot.events import ChatRef
from tests.harness import Harness

EN = {"bot": {"language": "en"}}


def said(records: list[Record]) -> list[str]:
    return [str(r["text"]) for r in records if r["action"] == "send"]


def actions(records: list[Record], action: str) -> list[tuple[Any, Any, Any]]:
    return [(r.get("platform", "console"), r["chat"], r["user"]) for r in records if r["action"] == action]


async def say(h: Harness, platform: str, chat: str, user: str, text: str, **kw: Any) -> list[Record]:
    return await h.line(type="message", platform=platform, chat=chat, user=user, text=text, **kw)


def code_in(texts: list[str], prefix: str) -> str:
    found = re.search(rf"\b({prefix}[A-Z2-9]{{8}})\b", "\n".join(texts))
    assert found, texts
    return found.group(1)


async def three_platform_community(h: Harness) -> None:
    created = said(await say(h, "telegram", "tg", "ann", "/community create Cat Club", role="owner"))
    await say(h, "discord", "dc", "dora", "/community join " + code_in(created, "C"), role="owner")
    invite = said(await say(h, "telegram", "tg", "ann", "/community invite"))
    await say(h, "onebot", "qq", "owen", "/community join " + code_in(invite, "C"), role="owner")


async def test_a_chat_joins_with_a_code_from_its_owner_and_codes_work_once(
    tmp_path: Path, db_url: str
) -> None:
    async with Harness(tmp_path, db_url=db_url, config=EN) as h:
        created = said(await say(h, "telegram", "tg", "ann", "/community create Cat Club", role="owner"))
        assert "Community “Cat Club” created" in created[0]
        code = code_in(created, "C")
        # Not the owner of the joining chat: refused before the code is spent.
        refused = said(await say(h, "discord", "dc", "mallory", f"/community join {code}"))
        assert refused and "Cat Club" not in refused[0]
        records = await say(h, "discord", "dc", "dora", f"/community join {code}", role="owner")
        joined = [(r.get("platform"), r["chat"], r["text"]) for r in records if r["action"] == "send"]
        # The joining chat is told, and so is the chat the code came from.
        assert joined == [
            (
                "discord",
                "dc",
                "This chat is now part of the community “Cat Club”: bans and mutes here and in its "
                "other chats are shared.",
            ),
            ("telegram", "tg", "dc (discord) joined the community “Cat Club”."),
        ]
        # The code is used up.
        again = said(await say(h, "onebot", "qq", "owen", f"/community join {code}", role="owner"))
        assert "unknown, used or expired" in again[0]
        shown = said(await say(h, "discord", "dc", "dora", "/community"))[0]
        assert "2 chat(s)" in shown and "tg (telegram)" in shown and "dc (discord)" in shown


async def test_expired_and_guessed_codes(tmp_path: Path) -> None:
    async with Harness(tmp_path, config=EN) as h:
        created = said(await say(h, "telegram", "tg", "ann", "/community create Cats", role="owner"))
        code = code_in(created, "C")
        await h.advance(11 * 60)
        late = said(await say(h, "discord", "dc", "dora", f"/community join {code}", role="owner"))
        assert "expired" in late[0]
        for guess in ("CAAAAAAAA", "CBBBBBBBB", "CCCCCCCCC", "CDDDDDDDD"):
            await say(h, "discord", "dc", "dora", f"/community join {guess}")
        blocked = said(await say(h, "discord", "dc", "dora", "/community join CEEEEEEEE"))
        assert blocked == ["Too many wrong codes: wait 10 minutes, then ask for a new one."]
        # A chat already in a community cannot join another, and bad input gets the usage line.
        assert "already in" in said(await say(h, "telegram", "tg", "ann", "/community create Dogs"))[0]
        usage = said(await say(h, "telegram", "tg", "ann", "/community join"))
        assert usage and "/community" in usage[0]


async def test_a_ban_in_one_chat_reaches_the_same_platform_and_linked_accounts(
    tmp_path: Path, db_url: str
) -> None:
    async with Harness(tmp_path, db_url=db_url, config=EN) as h:
        await three_platform_community(h)
        # A second Telegram chat in the community: the same Telegram account is banned there too.
        invite = said(await say(h, "telegram", "tg", "ann", "/community invite"))
        await say(h, "telegram", "tg2", "tina", "/community join " + code_in(invite, "C"), role="owner")
        # The spammer links their Discord account to their Telegram one (both accounts act).
        await say(h, "telegram", "tg", "spam", "hello")
        await say(h, "discord", "dc", "spam_d", "hi")
        sent = await h.line(type="dm", platform="telegram", user="spam", text="/link")
        code = code_in(said(sent), "L")
        linked = said(await h.line(type="dm", platform="discord", user="spam_d", text=f"/link {code}"))
        assert linked == ["Linked. Your accounts: discord:spam_d, telegram:spam"]
        records = await say(h, "telegram", "tg", "mod", "/ban @spam advertising", role="moderator")
        bans = actions(records, "ban")
        assert ("telegram", "tg", "spam") in bans
        assert ("telegram", "tg2", "spam") in bans
        assert ("discord", "dc", "spam_d") in bans
        # Nobody on OneBot: no account there, no ban there.
        assert not any(p == "onebot" for p, _c, _u in bans)
        reply = said(records)[0]
        assert "Also applied in this community's other chats:" in reply
        # One audit entry per chat.
        for platform, chat in (("telegram", "tg2"), ("discord", "dc")):
            log = said(await say(h, platform, chat, "boss", "/modlog", role="owner"))
            assert any("ban" in line for line in log), log
        # Unban likewise.
        lifted = await say(h, "telegram", "tg", "mod", "/unban @spam")
        assert sorted(actions(lifted, "unban")) == sorted(bans)


async def test_a_chat_where_the_bot_cannot_ban_is_named_and_the_rest_still_happen(tmp_path: Path) -> None:
    async with Harness(tmp_path, config=EN) as h:
        await three_platform_community(h)
        await say(h, "telegram", "tg", "spam", "hello")
        sent = await h.line(type="dm", platform="telegram", user="spam", text="/link")
        await h.line(type="dm", platform="onebot", user="spam_q", text="/link " + code_in(said(sent), "L"))
        sent = await h.line(type="dm", platform="telegram", user="spam", text="/link")
        await h.line(type="dm", platform="discord", user="spam_d", text="/link " + code_in(said(sent), "L"))
        # The bot is no admin in the Discord server: the platform refuses the ban there only.
        real_ban = h.adapter.ban

        async def ban(chat: ChatRef, user_id: str, until: datetime | None) -> None:
            if chat.platform == "discord":
                raise BotLacksPermission("Missing Permissions")
            await real_ban(chat, user_id, until)

        h.adapter.ban = ban  # type: ignore[method-assign]
        records = await say(h, "telegram", "tg", "mod", "/ban @spam", role="moderator")
        assert sorted(actions(records, "ban")) == [("onebot", "qq", "spam_q"), ("telegram", "tg", "spam")]
        reply = said(records)[0].splitlines()
        assert reply[1] == "Also applied in this community's other chats: qq (onebot)"
        assert reply[2].startswith("⚠️ Could not apply it in: dc (discord)")
        # The refusal is in that chat's audit trail.
        log = "\n".join(said(await say(h, "discord", "dc", "dora", "/modlog")))
        assert "ban_failed" in log


async def test_a_chat_can_opt_out_and_a_community_can_stop_sharing(tmp_path: Path) -> None:
    async with Harness(tmp_path, config=EN) as h:
        await three_platform_community(h)
        await say(h, "telegram", "tg", "spam", "hello")
        await say(h, "discord", "dc", "dora", "/set community.receive_shared_bans off")
        records = await say(h, "telegram", "tg", "ann", "/ban @spam")
        assert actions(records, "ban") == [("telegram", "tg", "spam")]
        off = said(await say(h, "telegram", "tg", "ann", "/community bans off"))
        assert off == ["Bans and mutes in “Cat Club” now stay in the chat where they are made."]
        # A member cannot change it.
        denied = said(await say(h, "telegram", "tg", "joe", "/community bans on"))
        assert denied and "Cat Club" not in denied[0]
        left = said(await say(h, "onebot", "qq", "owen", "/community leave"))
        assert left == ["This chat left the community “Cat Club”."]


async def test_link_codes_need_both_accounts(tmp_path: Path) -> None:
    async with Harness(tmp_path, config=EN) as h:
        first = said(await h.line(type="dm", platform="telegram", user="bob", text="/link"))
        assert first[0].startswith("Your link code: L")
        assert first[1] == "Your linked accounts: telegram:bob"
        code = code_in(first, "L")
        same = said(await h.line(type="dm", platform="telegram", user="bob", text=f"/link {code}"))
        assert same == ["That code was made by this same account: send it from your other account."]
        # The code was spent by that try: a second account cannot use it now.
        used = said(await h.line(type="dm", platform="discord", user="bob", text=f"/link {code}"))
        assert "unknown, used or expired" in used[0]
        # In a group the code goes privately, never into the group.
        records = await say(h, "telegram", "g", "bob", "/link")
        group_texts = [str(r["text"]) for r in records if r["action"] == "send" and "chat" in r]
        private = [str(r["text"]) for r in records if r["action"] == "send" and "user" in r]
        assert group_texts == ["I sent you a link code privately. Your linked accounts: telegram:bob"]
        code = code_in(private, "L")
        ok = said(await h.line(type="dm", platform="discord", user="bob", text=f"/link {code}"))
        assert ok == ["Linked. Your accounts: discord:bob, telegram:bob"]
        bad = said(await h.line(type="dm", platform="discord", user="bob", text="/unlink myspace:bob"))
        assert bad[0].startswith("That is not one of your linked accounts")
        done = said(await h.line(type="dm", platform="discord", user="bob", text="/unlink"))
        assert done == ["discord:bob is no longer linked to your other accounts."]
        alone = said(await h.line(type="dm", platform="telegram", user="bob", text="/unlink"))
        assert alone == ["This account is not linked to any other."]


async def test_mydata_covers_every_linked_account(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url, config=EN) as h:
        await say(h, "telegram", "tg", "bob", "/checkin")
        await say(h, "discord", "dc", "bobby", "/checkin")
        await say(h, "console", "demo", "someone", "hello")
        sent = await h.line(type="dm", platform="telegram", user="bob", text="/link")
        await h.line(type="dm", platform="discord", user="bobby", text="/link " + code_in(said(sent), "L"))
        records = await h.line(type="dm", platform="telegram", user="bob", text="/mydata")
        text = next(t for t in said(records) if "{" in t)
        export = json.loads(text[text.index("{") :])
        assert export["linked_accounts"] == ["discord:bobby"]
        groups = sorted(entry["group"] for entry in export["groups"])
        assert groups == ["dc", "tg"]
        # Each membership carries its own stored rows (the check-in of each account).
        assert all("checkins" in entry["stored"] for entry in export["groups"])
        assert any("account_links" in entry["stored"] for entry in export["groups"])


async def test_one_code_used_by_two_accounts_at_once_links_exactly_one(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url, config=EN) as h:
        sent = await h.line(type="dm", platform="telegram", user="bob", text="/link")
        code = code_in(said(sent), "L")
        # Two accounts send the same code in the same instant: the database lets one have it.
        first = h.adapter.dm("discord:bob", f"/link {code}")
        second = h.adapter.dm("onebot:bob", f"/link {code}")
        await asyncio.gather(first, second)
        assert h.app.dispatcher is not None
        await h.app.dispatcher.drain()
        answers = said(h.adapter.take())
        assert sorted(a.split(":")[0] for a in answers) == [
            "Linked. Your accounts",
            "That code is unknown, used or expired. Ask for a new one (codes last 10 minutes and work once).",
        ]
        listing = said(await h.line(type="dm", platform="telegram", user="bob", text="/link"))[1]
        assert listing.count(",") == 1  # telegram:bob and exactly one of the two
