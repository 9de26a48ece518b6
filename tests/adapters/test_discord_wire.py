"""A few Discord tests over real HTTP (discord.py's own aiohttp client) against a loopback server.

The other Discord tests fake ``HTTPClient.request``; these check the layer below it: discord.py
turning a real 403 body into ``Forbidden`` (and us into ``BotLacksPermission``), the audit-log
reason header, and discord.py (not us) sleeping out a 429 and retrying.
"""

from __future__ import annotations

import pytest

from adapters.discord import build
from bot.errors import BotLacksPermission
from bot.events import ChatRef
from bot.messages import OutgoingMessage
from tests.fakes import discord_api as fx
from tests.fakes.host import RecordingHost

CHAT = ChatRef("discord", "dc", str(fx.GUILD_ID), str(fx.CHANNEL_ID), kind="group")


class NullSink(RecordingHost):
    """A host that keeps events nobody reads."""


async def test_real_http_403_is_bot_lacks_permission_and_429_is_retried_by_discord_py() -> None:
    async with fx.LoopbackDiscord() as server:
        server.answer(
            rf"/guilds/{fx.GUILD_ID}/bans/\d+", (403, {"code": 50013, "message": "Missing Permissions"}, {})
        )
        posted = fx.message("hello", author=fx.user(fx.BOT_ID, "qunyou", bot=True))
        server.answer(
            rf"/channels/{fx.CHANNEL_ID}/messages",
            (
                429,
                {"message": "You are being rate limited.", "retry_after": 0.01, "global": False},
                {"Via": "1.1 google", "X-RateLimit-Scope": "user"},
            ),
            (200, posted, {}),
        )
        adapter = build("dc", {"type": "discord"}, {"DISCORD_BOT_TOKEN": "wire-token"})
        await adapter.start(NullSink())
        try:
            with pytest.raises(BotLacksPermission, match="50013"):
                await adapter.ban(CHAT, str(fx.ALICE_ID), None)
            ban = next(r for r in server.requests if r[0] == "PUT")
            assert ban[2].get("X-Audit-Log-Reason") == "Qunyou moderation"
            assert ban[2].get("Authorization") == "Bot wire-token"

            sent = await adapter.send(CHAT, OutgoingMessage.of("hello"))
            posts = [r for r in server.requests if r[0] == "POST"]
            assert len(posts) == 2  # the 429, then discord.py's own retry
            assert sent.message_id == posted["id"]
        finally:
            await adapter.stop()
