"""The Discord adapter with the real discord.py, faked only at REST, webhook and gateway boundaries."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.discord import DiscordAdapter, DiscordConfig, build
from adapters.discord.adapter import TimeoutTooLong
from bot.adapter import Capability
from bot.clock import VirtualClock
from bot.errors import BotLacksPermission, CapabilityNotSupported, ConfigError, TargetNotFound
from bot.events import ButtonPressed, ChatRef, Event, MemberJoined, MemberLeft, MessageEvent, UserRef
from bot.outbound import Limit, OutboundQueue
from bot.messages import Bold, Button, Mention, OutgoingMessage, Text
from bot.roles import Role
from tests.adapters import contract
from tests.fakes import discord_api as fx

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
CHAT = ChatRef("discord", "dc", str(fx.GUILD_ID), str(fx.CHANNEL_ID), kind="group", title="Test Server")
ALICE = fx.member(fx.ALICE_ID, "alice")
BOB = fx.member(fx.BOB_ID, "bob")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Anything that tries to resolve a real host fails at once instead of hanging."""
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in ("localhost", "127.0.0.1", "::1", None):
            raise OSError(f"network blocked in tests: {name}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)


class Sink:
    """Collects events as the dispatcher would, running an optional handler per event."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.handler: Any = None
        self._arrived = asyncio.Event()

    def submit(self, event: Event) -> asyncio.Task[None] | None:
        self.events.append(event)
        self._arrived.set()

        async def run() -> None:
            if self.handler is not None:
                await self.handler(event)

        return asyncio.get_running_loop().create_task(run())

    async def wait(self, count: int = 1) -> list[Event]:
        async with asyncio.timeout(2):
            while len(self.events) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return self.events


class Rig:
    """An adapter, its fake Discord, the sink and the clock."""

    def __init__(self, adapter: DiscordAdapter, fake: fx.FakeDiscord, sink: Sink, clock: VirtualClock) -> None:
        self.adapter = adapter
        self.fake = fake
        self.sink = sink
        self.clock = clock

    def feed(self, event: str, payload: dict[str, Any]) -> None:
        fx.FakeDiscord.feed(self.adapter.client, event, payload)

    async def settle(self) -> None:
        """Let listener tasks (discord.py schedules one per event) run to completion."""
        for _ in range(20):
            await asyncio.sleep(0)
        pending = [t for t in asyncio.all_tasks() if t.get_name().startswith(("discord.py", "CommandTree"))]
        if pending:
            await asyncio.wait(pending, timeout=2)
        for _ in range(5):
            await asyncio.sleep(0)


ticks = [0.0]


async def clock_sleep(seconds: float) -> None:
    """The outbound queue's waits move a virtual monotonic clock instead of sleeping."""
    ticks[0] += seconds
    await asyncio.sleep(0)


async def make_rig(monkeypatch: pytest.MonkeyPatch, *, message_content: bool = True, members: bool = True,
                   **config: Any) -> Rig:
    fake = fx.FakeDiscord(message_content=message_content, members=members)
    fake.install_webhooks(monkeypatch)
    clock = VirtualClock(START)
    adapter = build("dc", {"type": "discord", **config}, {"DISCORD_BOT_TOKEN": "test-token"})
    adapter.clock = clock
    adapter.queue = OutboundQueue(per_chat=Limit(5, 5.0), overall=Limit(50, 1.0),
                                  sleep=clock_sleep, monotonic=lambda: ticks[0])
    adapter.client_setup = fake.install
    fake.install(adapter.client)
    sink = Sink()
    await adapter.start(sink)
    fx.FakeDiscord.add_guild(adapter.client)
    return Rig(adapter, fake, sink, clock)


@pytest.fixture
async def rig(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Rig]:
    r = await make_rig(monkeypatch)
    yield r
    await r.adapter.stop()


# ---------------------------------------------------------------- canary and config


def test_private_discord_names_still_exist() -> None:
    """Canary: fails with one clear message when discord.py moves what the fakes rely on."""
    fx.check_private_names()


def test_missing_token_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="DISCORD_BOT_TOKEN"):
        build("dc", {"type": "discord"}, {})
    with pytest.raises(ConfigError, match="MY_TOKEN"):
        build("dc", {"type": "discord", "token_env": "MY_TOKEN"}, {"MY_TOKEN": "   "})


def test_config_validates_keys() -> None:
    cfg = DiscordConfig.model_validate({"type": "discord", "level_roles": {"5": 700000000000000005}})
    assert cfg.level_roles == {5: "700000000000000005"}
    with pytest.raises(ValueError, match="role id"):
        DiscordConfig.model_validate({"type": "discord", "level_roles": {"5": "moderators"}})
    with pytest.raises(ValueError):
        DiscordConfig.model_validate({"type": "discord", "tokn_env": "X"})
    with pytest.raises(ValueError):
        DiscordConfig.model_validate({"type": "discord", "command_prefix": ""})


# ---------------------------------------------------------------- contract


async def test_contract_undeclared_actions_raise(rig: Rig) -> None:
    # Discord declares every action; the check must still run and find none to refuse.
    checked = await contract.check_undeclared_raise(rig.adapter, CHAT, str(fx.ALICE_ID), "600000000000000999")
    assert checked == len([c for c in Capability if c.value in {
        "send", "edit", "delete", "mute", "unmute", "ban", "unban", "kick", "get_role", "send_private"}
        and c not in rig.adapter.capabilities])


async def test_contract_declared_actions_reach_discord(rig: Rig) -> None:
    # Discord times out for at most 28 days; the contract mutes until its own fixed instant.
    rig.clock.set(contract.UNTIL - timedelta(days=1))
    seen = len(rig.fake.calls)

    def called() -> bool:
        nonlocal seen
        made = len(rig.fake.calls) > seen
        seen = len(rig.fake.calls)
        return made

    # Carol is not in the gateway's member cache, so even the role lookup must ask Discord.
    checked = await contract.check_declared_reach_platform(
        rig.adapter, CHAT, str(fx.CAROL_ID), "600000000000000999", called)
    assert checked == 10


async def test_contract_inbound_text(rig: Rig) -> None:
    rig.feed("MESSAGE_CREATE", fx.message("hello there", author=ALICE["user"], author_member=ALICE))
    events = await rig.sink.wait(1)
    contract.check_inbound_text(events[0], chat=CHAT, user_id=str(fx.ALICE_ID), text="hello there")
    event = events[0]
    assert isinstance(event, MessageEvent)
    assert event.at == START
    assert event.chat.kind == "group" and event.chat.title == "Test Server"
    assert event.sender.username == "alice"
