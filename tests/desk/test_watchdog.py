"""Level 3 of the response: the bot's own failures told to the superusers on the platforms that
still work, under the virtual clock.

The disconnect runs three real adapters in one App (Telegram over HTTP to a loopback Bot API,
OneBot over a real WebSocket to a bridge, the console); Telegram's getUpdates fails at the fake
server, the way a dead link or a Bot API outage looks to PTB. The error rate and the backlog run
through the real app with smaller setups: a feature whose command raises, and a OneBot adapter
whose outbound queue is held up.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.console.adapter import ConsoleAdapter
from adapters.onebot import OneBotAdapter
from adapters.onebot.config import OneBotConfig
from adapters.telegram import TelegramAdapter
from bot.app import App, build_adapters
from bot.clock import VirtualClock, parse_instant
from bot.config import parse_settings
from bot.context import Context
from bot.errors import ConfigError
from bot.feature import Feature
from bot.messages import OutgoingMessage, Text
from bot.outbound import Limit, OutboundQueue
from bot.router import Router
from handlers import FEATURES
from tests.fakes import telegram_api as tg
from tests.fakes.onebot_bridge import BridgeClient, free_port
from tests.fakes.telegram_api import BotApiState, Failure, LoopbackBotApi
from tests.harness import Harness, texts

START = parse_instant("2026-03-02T09:00:00+08:00")
TOKEN = "s3cret"
SUPERUSERS = {"telegram": ["4242"], "onebot": ["20001"], "console": ["root"]}


async def _until(check: Any, within: float = 15.0) -> None:
    """Wait (wall time) until ``check()`` is true: the platforms answer on their own tasks."""
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting for the platforms")
        await asyncio.sleep(0.02)


def _private_to(bridge: BridgeClient, user: str) -> list[str]:
    """The texts the bot sent privately to ``user`` on OneBot (its text segments joined)."""
    return [
        "".join(seg["data"]["text"] for seg in c["params"]["message"] if seg["type"] == "text")
        for c in bridge.calls("send_private_msg")
        if str(c["params"]["user_id"]) == user
    ]


def _console_private(records: list[dict[str, Any]], user: str) -> list[str]:
    return [r["text"] for r in records if r["action"] == "send" and r.get("user") == user and "chat" not in r]


async def test_telegram_down_over_a_minute_alerts_onebot_and_console_once_then_recovers(
    tmp_path: Path,
) -> None:
    port = free_port()
    clock = VirtualClock(START)
    async with LoopbackBotApi(BotApiState(privacy_off=True)) as api:
        settings = parse_settings(
            {
                "bot": {"language": "en", "superusers": SUPERUSERS},
                "storage": {"url": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"},
                "adapters": {"tg": {"type": "telegram", "api_base_url": api.base_url}},
            }
        )
        (telegram,) = build_adapters(settings, {"TELEGRAM_BOT_TOKEN": tg.TOKEN})
        assert isinstance(telegram, TelegramAdapter)
        telegram.clock = clock
        onebot = OneBotAdapter(
            "qq",
            OneBotConfig(type="onebot", listen=f"127.0.0.1:{port}"),
            TOKEN,
            clock=clock,
            action_timeout=2.0,
        )
        console = ConsoleAdapter("console", clock=clock)
        app = App(settings, clock=clock, adapters=[telegram, onebot, console], flush_interval=0.05)
        await app.start()
        bridge = BridgeClient(f"ws://127.0.0.1:{port}/onebot/v11/ws", TOKEN)
        try:
            await bridge.connect()
            await bridge.wait_action("get_login_info")
            assert app.services is not None
            scheduler = app.services.scheduler
            assert telegram.connected and onebot.connected

            async def advance(seconds: int) -> None:
                await scheduler.run_due(clock.now() + timedelta(seconds=seconds))

            await advance(60)  # 09:01, all well: nobody hears anything
            assert _private_to(bridge, "20001") == [] and console.take() == []

            # Telegram's getUpdates starts failing (a 502 from the Bot API, again and again).
            api.state.fail(
                "getUpdates", Failure(status=502, body={"description": "Bad Gateway"}), times=10**6
            )
            await _until(lambda: not telegram.connected)
            await advance(30)  # 09:01:30: no check yet
            await advance(30)  # 09:02: the first check that sees it down (for under a minute)
            assert _private_to(bridge, "20001") == [] and console.take() == []
            await advance(60)  # 09:03: down at two checks a minute apart
            await bridge.wait_action("send_private_msg")
            alert = "🚨 Level 3: the bot is failing — adapter tg has been disconnected for 1 min."
            assert [m.split(" Other platforms")[0] for m in _private_to(bridge, "20001")] == [alert]
            records = console.take()
            assert [t.split(" Other platforms")[0] for t in _console_private(records, "root")] == [alert]
            assert api.state.called("sendMessage") == []  # the failing platform is skipped
            await advance(180)  # still down: no second alert
            assert len(_private_to(bridge, "20001")) == 1 and console.take() == []
            assert readiness_false(await app.readiness(), "adapter:tg")

            # The Bot API answers again; the next successful getUpdates says polling works.
            api.state.failures["getUpdates"].clear()
            await _until(lambda: telegram.connected)
            await advance(60)
            await bridge.wait_action("send_private_msg", count=2)
            recovered = "✅ Recovered: adapter tg is connected again (after about 5 min)."
            assert _private_to(bridge, "20001")[1:] == [recovered]
            assert _console_private(console.take(), "root") == [recovered]
            await api.state.wait_calls("sendMessage", 1)
            assert [c["text"] for c in api.state.called("sendMessage")] == [recovered]
            assert int(api.state.called("sendMessage")[0]["chat_id"]) == 4242
            await advance(300)  # nothing more
            assert len(_private_to(bridge, "20001")) == 2 and console.take() == []
        finally:
            api.state.failures["getUpdates"].clear()  # PTB's last getUpdates at shutdown
            await app.stop()
            await bridge.drop()


def readiness_false(checks: dict[str, bool], key: str) -> bool:
    """``/readyz`` says the adapter is down (what the watchdog read)."""
    return checks.get(key) is False


def _boom_feature() -> Feature:
    router = Router("boom")

    @router.command("boom", where="any")
    async def boom(ctx: Context) -> None:
        raise RuntimeError("kaboom")

    return Feature(name="boom", router=router)


async def test_more_errors_than_the_limit_in_five_minutes_alert_once_and_recover(tmp_path: Path) -> None:
    config = {"bot": {"superusers": {"console": ["root"]}}, "desk": {"watchdog_errors": 3}}
    features = [*FEATURES, _boom_feature()]
    async with Harness(tmp_path, config=config, features=features) as h:
        for _ in range(3):
            await h.say("demo", "alice", "/boom")
        out = await h.advance(60)  # 3 errors: not over 3
        assert _console_private(out, "root") == []
        await h.say("demo", "alice", "/boom")
        out = await h.advance(60)  # the fourth within five minutes
        assert _console_private(out, "root") == [
            "🚨 三级响应：机器人自身故障——最近 5 分钟出错 4 次（阈值 3），请查看日志。"
            "其他平台仍在工作，恢复时会再通知你。"
        ]
        await h.say("demo", "alice", "/boom")
        out = await h.advance(120)  # still over: the same incident, no second alert
        assert _console_private(out, "root") == []
        out = await h.advance(300)  # five quiet minutes: the errors leave the window
        assert _console_private(out, "root") == ["✅ 已恢复：错误率已回到 5 分钟 3 次以内（约 4 分钟）。"]
        assert texts(await h.say("demo", "alice", "/ping")) == ["pong 🏓 我在。"]


async def test_the_watchdog_can_be_turned_off_and_its_keys_are_checked(tmp_path: Path) -> None:
    config = {"bot": {"superusers": {"console": ["root"]}}, "desk": {"watchdog": False, "watchdog_errors": 0}}
    async with Harness(tmp_path, config=config, features=[*FEATURES, _boom_feature()]) as h:
        await h.say("demo", "alice", "/boom")
        assert _console_private(await h.advance(600), "root") == []
        assert await h.services.scheduler.get("desk:watchdog") is None
    async with Harness(tmp_path / "nobody", config={"desk": {"watchdog_errors": 0}}) as h:
        assert await h.services.scheduler.get("desk:watchdog") is None  # no superuser to tell
    with pytest.raises(ConfigError, match="watchdog_error"):
        async with Harness(tmp_path, config={"desk": {"watchdog_error": 3}}):
            pass


async def test_an_outbound_backlog_on_onebot_alerts_the_console_and_clears(tmp_path: Path) -> None:
    port = free_port()
    clock = VirtualClock(START)
    held = asyncio.Event()
    fake_time = [0.0]

    async def sleep(seconds: float) -> None:
        # The queue waits for its slot here: held until the test lets the backlog drain.
        await held.wait()
        fake_time[0] += seconds

    queue = OutboundQueue(overall=Limit(1, 1.0), sleep=sleep, monotonic=lambda: fake_time[0])
    settings = parse_settings(
        {
            "bot": {"language": "en", "superusers": SUPERUSERS},
            "storage": {"url": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"},
            "desk": {"watchdog_backlog": 3},
        }
    )
    onebot = OneBotAdapter(
        "qq", OneBotConfig(type="onebot", listen=f"127.0.0.1:{port}"), TOKEN, clock=clock, queue=queue
    )
    console = ConsoleAdapter("console", clock=clock)
    app = App(settings, clock=clock, adapters=[onebot, console], flush_interval=0.05)
    await app.start()
    bridge = BridgeClient(f"ws://127.0.0.1:{port}/onebot/v11/ws", TOKEN)
    sending: list[asyncio.Task[Any]] = []
    try:
        await bridge.connect()
        await bridge.wait_action("get_login_info")
        services = app.services
        assert services is not None
        # The start-up's own calls took the only slot of this (held) second: all five wait.
        for n in range(5):
            message = OutgoingMessage(parts=(Text(f"news {n}"),))
            sending.append(asyncio.create_task(services.send_private("qq", "30003", message)))
        await _until(lambda: onebot.outbound_backlog() == 5)
        await services.scheduler.run_due(clock.now() + timedelta(seconds=60))
        alert = _console_private(console.take(), "root")
        assert [a.split(" Other platforms")[0] for a in alert] == [
            "🚨 Level 3: the bot is failing — 5 messages waiting to go out on qq (limit 3)."
        ]
        assert _private_to(bridge, "20001") == []  # OneBot itself is the one stuck
        held.set()
        await asyncio.gather(*sending)
        assert onebot.outbound_backlog() == 0
        await services.scheduler.run_due(clock.now() + timedelta(seconds=60))
        recovered = "✅ Recovered: the outbound backlog on qq has cleared (after about 1 min)."
        assert _console_private(console.take(), "root") == [recovered]
        await bridge.wait_action("send_private_msg", count=6)
        assert _private_to(bridge, "20001") == [recovered]
    finally:
        held.set()
        await asyncio.gather(*sending, return_exceptions=True)
        await app.stop()
        await bridge.drop()
