"""A ban in a Telegram group reaches a Discord server and a QQ group through one community.

One App with the three real adapters: Telegram over HTTP to a loopback Bot API, Discord through
discord.py against the fake gateway and REST, OneBot over a real WebSocket to a bridge. The
community and the spammer's linked accounts are set up the way ``/community`` and ``/link`` leave
them; the ban itself is a moderator's ``/ban`` typed in Telegram, as a reply to the spammer.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from adapters.discord import DiscordAdapter
from adapters.onebot import OneBotAdapter
from adapters.onebot.config import OneBotConfig
from adapters.telegram import TelegramAdapter
from bot.app import App, build_adapters
from bot.clock import VirtualClock, parse_instant
from bot.config import parse_settings
from storage.community import Account, CommunityRepos
from tests.fakes import discord_api as fx
from tests.fakes import telegram_api as tg
from tests.fakes.onebot_bridge import GROUP as QQ_GROUP
from tests.fakes.onebot_bridge import BridgeClient, free_port
from tests.fakes.telegram_api import BOB, GROUP, BotApiState, LoopbackBotApi

START = parse_instant("2026-03-02T09:00:00+08:00")
TOKEN = "s3cret"
SPAMMER_TG = tg.user(666, "Spammer", "spammer")
SPAMMER_DC_ID = fx.CAROL_ID
SPAMMER_QQ = "20666"


async def _until(check: object, within: float = 10.0) -> None:
    """Wait until ``check()`` is true (the platforms answer on their own tasks)."""
    deadline = asyncio.get_running_loop().time() + within
    while not check():  # type: ignore[operator]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting for the platforms")
        await asyncio.sleep(0.02)


async def test_a_telegram_ban_reaches_discord_and_onebot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = fx.FakeDiscord()
    fake.install_webhooks(monkeypatch)
    port = free_port()
    clock = VirtualClock(START)
    async with LoopbackBotApi(BotApiState(privacy_off=True)) as api:
        api.state.admins[GROUP] = [tg.admin(BOB, can_restrict=True)]
        settings = parse_settings(
            {
                "bot": {"language": "en"},
                "storage": {"url": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"},
                "adapters": {
                    "tg": {"type": "telegram", "api_base_url": api.base_url},
                    "dc": {"type": "discord", "token_env": "QY_DISCORD_TOKEN"},
                },
            }
        )
        env = {"TELEGRAM_BOT_TOKEN": tg.TOKEN, "QY_DISCORD_TOKEN": "test-token"}
        built = build_adapters(settings, env)
        telegram = next(a for a in built if isinstance(a, TelegramAdapter))
        discord_adapter = next(a for a in built if isinstance(a, DiscordAdapter))
        discord_adapter.clock = clock
        discord_adapter.client_setup = fake.install
        fake.install(discord_adapter.client)
        onebot = OneBotAdapter(
            "qq",
            OneBotConfig(type="onebot", listen=f"127.0.0.1:{port}"),
            TOKEN,
            clock=clock,
            action_timeout=2.0,
        )
        app = App(settings, clock=clock, adapters=[telegram, discord_adapter, onebot], flush_interval=0.05)
        await app.start()
        fx.FakeDiscord.add_guild(discord_adapter.client)
        bridge = BridgeClient(f"ws://127.0.0.1:{port}/onebot/v11/ws", TOKEN)
        try:
            await bridge.connect()
            await bridge.wait_action("get_login_info")
            assert app.services is not None and app.dispatcher is not None
            services = app.services

            # The spammer speaks on all three platforms: the bot now knows the three chats.
            api.state.push(tg.text_update(1, "free money t.me/x", message_id=50, sender=SPAMMER_TG))
            spammer_dc = fx.member(SPAMMER_DC_ID, "carol")
            fx.FakeDiscord.feed(
                discord_adapter.client,
                "MESSAGE_CREATE",
                fx.message("hi all", author=spammer_dc["user"], author_member=spammer_dc),
            )
            await bridge.push(bridge.group_message("你好", user=SPAMMER_QQ, message_id=70))
            groups = {}
            for adapter_name, scope in (("tg", str(GROUP)), ("dc", str(fx.GUILD_ID)), ("qq", QQ_GROUP)):
                for _ in range(500):
                    await app.dispatcher.drain()
                    found = await services.groups.find(adapter_name, scope)
                    if found is not None:
                        break
                    await asyncio.sleep(0.02)
                assert found is not None, f"the bot never saw {adapter_name}'s chat"
                groups[adapter_name] = found

            # What /community create|join and /link leave behind.
            repos = CommunityRepos(services.db)
            community = await repos.communities.create("Cats", groups["tg"].id, "owner", clock.now())
            await repos.communities.add_chat(community.id, groups["dc"].id, "owner", clock.now())
            await repos.communities.add_chat(community.id, groups["qq"].id, "owner", clock.now())
            telegram_account = Account("telegram", str(SPAMMER_TG["id"]))
            await repos.links.link(telegram_account, Account("discord", str(SPAMMER_DC_ID)), clock.now())
            await repos.links.link(telegram_account, Account("onebot", SPAMMER_QQ), clock.now())

            # A Telegram moderator bans the spammer by replying to them.
            spam = tg.message("free money t.me/x", message_id=50, sender=SPAMMER_TG)
            api.state.push(tg.text_update(2, "/ban advertising", message_id=51, sender=BOB, reply_to=spam))
            await api.state.wait_calls("banChatMember", 1)
            await _until(lambda: fake.find("PUT", rf"/guilds/{fx.GUILD_ID}/bans/{SPAMMER_DC_ID}"))
            kicks = await bridge.wait_action("set_group_kick")
            await app.dispatcher.drain()

            (tg_ban,) = api.state.called("banChatMember")
            assert int(tg_ban["user_id"]) == SPAMMER_TG["id"] and int(tg_ban["chat_id"]) == GROUP
            assert kicks[0]["params"]["user_id"] == int(SPAMMER_QQ)
            assert kicks[0]["params"]["reject_add_request"] is True
            replies = [c["text"] for c in api.state.called("sendMessage") if "banned" in c["text"]]
            assert replies and "Also applied in this community's other chats:" in replies[-1]
        finally:
            await app.stop()
            await bridge.drop()
