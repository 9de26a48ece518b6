"""Combot Anti-Spam online check of newcomers, against a loopback CAS server.

The server answers by user id: listed, clean, garbage, or held until the test releases it
(slow). The bot's real lookup (``urllib`` in a worker thread) talks to it over loopback.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from adapters.console.adapter import Record
from bot.cas import CasVerdict, cas_user_id, parse_answer
from bot.errors import BotLacksPermission, ConfigError
from bot.events import ChatRef
from handlers.community.cas import settle
from tests.community.test_communities import actions, code_in, said, say
from tests.harness import Harness

LISTED = json.dumps({"ok": True, "result": {"offenses": 1, "messages": ["spam"], "time_added": "2026-01-01"}})
CLEAN = json.dumps({"ok": False, "description": "Record not found."})


class FakeCas:
    """A loopback HTTP server playing api.cas.chat/check."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.listed = {"111", "555"}
        self.garbage = {"444"}
        #: Ids whose answer waits for ``release`` (then answers listed).
        self.held = {"333", "666"}
        self.release = asyncio.Event()
        #: Set once a held id has been asked about.
        self.asked = asyncio.Event()
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        target = head.split(b" ")[1].decode()
        user_id = parse_qs(urlsplit(target).query).get("user_id", [""])[0]
        self.requests[user_id] += 1
        if user_id in self.held:
            self.asked.set()
            await self.release.wait()
        if user_id in self.garbage:
            body = b"<html>502 Bad Gateway</html>"
        else:
            body = (LISTED if user_id in self.listed | self.held else CLEAN).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/check"


@pytest.fixture
async def cas() -> AsyncIterator[FakeCas]:
    fake = FakeCas()
    fake.server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    yield fake
    fake.release.set()
    fake.server.close()


def config(cas: FakeCas, *, on: bool = True, timeout: float = 5.0) -> dict[str, Any]:
    section: dict[str, Any] = {"cas_url": cas.url, "cas_timeout_seconds": timeout, "cas_cache_minutes": 60}
    if on:
        section["cas_check"] = True
    return {"bot": {"language": "en"}, "community": section}


async def join(h: Harness, user: str, platform: str = "telegram", chat: str = "tg") -> list[Record]:
    return await h.line(type="join", platform=platform, chat=chat, user=user)


async def settled(h: Harness) -> list[Record]:
    """What the background checks did once they are finished."""
    await settle(h.services)
    return h.adapter.take()


async def test_a_listed_newcomer_is_banned_with_an_audit_reason_and_one_alert(
    tmp_path: Path, db_url: str, cas: FakeCas
) -> None:
    async with Harness(tmp_path, db_url=db_url, config=config(cas)) as h:
        await h.line(type="message", platform="telegram", chat="tg", user="ann", text="hi", role="owner")
        # The loopback answers fast: the ban may land before or after the join's own records.
        done = await join(h, "111") + await settled(h)
        assert actions(done, "ban") == [("telegram", "tg", "111")]
        alerts = [t for t in said(done) if "Combot Anti-Spam" in t]
        assert len(alerts) == 1 and "Telegram id 111" in alerts[0] and "cas.chat/query?u=111" in alerts[0]
        assert cas.requests == Counter({"111": 1})
        log = said(await h.line(type="message", platform="telegram", chat="tg", user="ann", text="/modlog"))
        assert any("CAS: listed by Combot Anti-Spam" in t for t in log), log


async def test_clean_answers_are_cached_until_the_ttl_passes(tmp_path: Path, cas: FakeCas) -> None:
    async with Harness(tmp_path, config=config(cas)) as h:
        for _ in range(3):
            records = await join(h, "222") + await settled(h)
            assert actions(records, "ban") == []
            await h.line(type="leave", platform="telegram", chat="tg", user="222")
        # A listed answer is cached too: a second join is banned without asking again.
        records = await join(h, "555") + await join(h, "555") + await settled(h)
        assert len(actions(records, "ban")) == 2
        assert cas.requests == Counter({"222": 1, "555": 1})
        await h.advance(61 * 60)
        await join(h, "222")
        await settled(h)
        assert cas.requests["222"] == 2


async def test_the_join_goes_on_without_waiting_and_one_lookup_serves_both_joins(
    tmp_path: Path, cas: FakeCas
) -> None:
    async with Harness(tmp_path, config=config(cas)) as h:
        came = await join(h, "333")
        # The join was fully handled while CAS has not answered yet.
        assert actions(came, "ban") == []
        await asyncio.wait_for(cas.asked.wait(), 5)
        again = await join(h, "333")
        assert actions(again, "ban") == []
        cas.release.set()
        done = await settled(h)
        assert actions(done, "ban") == [("telegram", "tg", "333")] * 2
        assert cas.requests == Counter({"333": 1})


async def test_slow_and_garbled_answers_let_the_member_in_and_are_not_cached(
    tmp_path: Path, cas: FakeCas
) -> None:
    async with Harness(tmp_path, config=config(cas, timeout=0.3)) as h:
        records = await join(h, "666")  # held past the timeout
        records += await join(h, "444")  # not JSON
        records += await settled(h) + await join(h, "444") + await settled(h)
        assert actions(records, "ban") == []
        assert cas.requests == Counter({"666": 1, "444": 2})
        # The process goes on: a clean newcomer is still checked.
        await join(h, "222")
        await settled(h)
        assert cas.requests["222"] == 1


async def test_off_by_default_and_other_platforms_are_never_asked(tmp_path: Path, cas: FakeCas) -> None:
    async with Harness(tmp_path, config=config(cas, on=False)) as h:
        records = await join(h, "111") + await settled(h)
        assert actions(records, "ban") == []
        assert cas.requests == Counter()
        on = await h.line(
            type="message",
            platform="telegram",
            chat="tg",
            user="ann",
            role="owner",
            text="/set community.cas_check on",
        )
        assert said(on)
        records = await join(h, "555") + await settled(h)
        assert actions(records, "ban") == [("telegram", "tg", "555")]
        # CAS knows Telegram ids only: a Discord or OneBot "111" is someone else.
        await h.line(
            type="message",
            platform="discord",
            chat="dc",
            user="dora",
            role="owner",
            text="/set community.cas_check on",
        )
        records = await join(h, "111", platform="discord", chat="dc")
        records += await join(h, "111", platform="onebot", chat="qq")
        assert actions(records + await settled(h), "ban") == []
        assert cas.requests == Counter({"555": 1})


def test_answers_and_ids() -> None:
    assert parse_answer(LISTED.encode()) is CasVerdict.BANNED
    assert parse_answer(CLEAN.encode()) is CasVerdict.CLEAN
    for bad in (b"", b"[]", b'{"ok": "yes"}', b"\xff\xfe", b"null"):
        assert parse_answer(bad) is CasVerdict.UNKNOWN
    assert cas_user_id("telegram", "821871410") == "821871410"
    assert cas_user_id("telegram", "telegram:42") == "42"
    assert cas_user_id("telegram", "ann") is None
    assert cas_user_id("telegram", "４２") is None
    assert cas_user_id("discord", "42") is None


async def test_a_bad_cas_config_stops_the_start_with_the_key(tmp_path: Path) -> None:
    for key, value in (("cas_url", "ftp://cas.example/check"), ("cas_timeout_seconds", 0), ("cas_cache", 5)):
        with pytest.raises(ConfigError, match=key):
            async with Harness(tmp_path, config={"community": {key: value}}):
                pass


async def test_a_cas_ban_is_shared_across_the_community_like_any_ban(
    tmp_path: Path, db_url: str, cas: FakeCas
) -> None:
    async with Harness(tmp_path, db_url=db_url, config=config(cas)) as h:
        created = said(await say(h, "telegram", "tg", "ann", "/community create Cat Club", role="owner"))
        await say(h, "telegram", "tg2", "tina", "/community join " + code_in(created, "C"), role="owner")
        invite = said(await say(h, "telegram", "tg", "ann", "/community invite", role="owner"))
        await say(h, "discord", "dc", "dora", "/community join " + code_in(invite, "C"), role="owner")
        # The listed account linked a Discord account before it came to the Telegram group.
        sent = await h.line(type="dm", platform="telegram", user="111", text="/link")
        await h.line(type="dm", platform="discord", user="spam_d", text="/link " + code_in(said(sent), "L"))
        # The bot is no admin in the second Telegram group: the platform refuses there only.
        real_ban = h.adapter.ban

        async def ban(chat: ChatRef, user_id: str, until: datetime | None) -> None:
            if chat.scope_id.endswith("tg2"):
                raise BotLacksPermission("Missing Permissions")
            await real_ban(chat, user_id, until)

        h.adapter.ban = ban  # type: ignore[method-assign]
        done = await join(h, "111") + await settled(h)
        assert sorted(actions(done, "ban")) == [("discord", "dc", "spam_d"), ("telegram", "tg", "111")]
        alerts = [t for t in said(done) if "Combot Anti-Spam" in t]
        assert len(alerts) == 1, said(done)
        lines = alerts[0].splitlines()
        assert lines[1] == "Also banned in this community's other chats: dc (discord)"
        assert lines[2].startswith("⚠️ Could not ban them in: tg2 (telegram)")
        # Each chat's ban is its own recorded, audited ban with the CAS reason.
        log = said(await say(h, "discord", "dc", "dora", "/modlog", role="owner"))
        assert any("CAS: listed by Combot Anti-Spam" in t for t in log), log
        refused = "\n".join(said(await say(h, "telegram", "tg2", "tina", "/modlog", role="owner")))
        assert "ban_failed" in refused
        # A chat that takes no shared bans is left alone.
        h.adapter.ban = real_ban  # type: ignore[method-assign]
        done = await join(h, "555", chat="tg2") + await settled(h)
        assert sorted(actions(done, "ban")) == [("telegram", "tg", "555"), ("telegram", "tg2", "555")]
        await say(h, "telegram", "tg", "ann", "/set community.receive_shared_bans off", role="owner")
        done = await join(h, "777", chat="tg2") + await settled(h)
        assert actions(done, "ban") == []  # not listed: nobody is banned
        cas.listed.add("888")
        done = await join(h, "888", chat="tg2") + await settled(h)
        assert actions(done, "ban") == [("telegram", "tg2", "888")]
