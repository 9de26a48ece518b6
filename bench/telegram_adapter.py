"""``python -m bot bench telegram``: the adapter's share of the per-message hot path.

Measures parsing a Telegram update into a core event (what every group message costs before the
dispatcher sees it) and rendering an outgoing message to Telegram HTML, including a long one that
must be split. No network: the update dicts are built here.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.request import BaseRequest, RequestData

from adapters.telegram.normalize import BotIdentity, update_events
from adapters.telegram.render import render_chunks
from bot.events import UserRef
from bot.messages import Bold, Mention, OutgoingMessage, Text

_ME = BotIdentity(999, "QunyouBot")


def _update(i: int) -> dict[str, object]:
    text = f"今天天气不错 @QunyouBot 第{i}条 message with some english words"
    return {
        "update_id": 10_000 + i,
        "message": {
            "message_id": i,
            "date": 1_772_413_200,
            "chat": {"id": -1001234567890, "type": "supergroup", "title": "bench"},
            "from": {"id": 100 + i % 500, "is_bot": False, "first_name": f"m{i % 500}", "username": f"u{i}"},
            "text": text,
            "entities": [{"type": "mention", "offset": 7, "length": 10}],
        },
    }


class _LocalApi(BaseRequest):
    """Answers the Bot API in memory, so the bench times our code and PTB's, not a network."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.sent = 0
        self.moderation_calls = 0

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    @property
    def read_timeout(self) -> float:
        """PTB asks for it when computing long-poll timeouts."""
        return 1.0

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        """One canned answer per method."""
        api = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data is not None else {}
        result: Any = True
        if api == "getMe":
            result = {
                "id": 999,
                "is_bot": True,
                "first_name": "Q",
                "username": "QunyouBot",
                "can_read_all_group_messages": True,
            }
        elif api == "getUpdates":
            await asyncio.sleep(0.2)
            result = []
        elif api == "getChatAdministrators":
            result = []
        elif api in ("deleteMessage", "restrictChatMember", "banChatMember"):
            self.moderation_calls += 1
        elif api == "sendMessage":
            # Only the /ping answers count: features may post their own messages meanwhile.
            self.sent += "pong" in str(params["text"])
            result = {
                "message_id": next(self._ids),
                "date": 1_772_413_200,
                "chat": {"id": params["chat_id"], "type": "supergroup", "title": "bench"},
                "text": params["text"],
            }
        return 200, json.dumps({"ok": True, "result": result}).encode()


class _NoWait:
    """A monotonic clock that jumps a minute per reading, so Telegram's rate windows never fill.

    The bench measures what our code costs per message, not Telegram's 20-a-minute limit.
    """

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        self.now += 60.0
        return self.now

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)


async def _pipeline(messages: int) -> dict[str, float]:
    """Plain messages and /ping round trips through PTB, the adapter and the real core."""
    from adapters.telegram.adapter import TelegramAdapter
    from adapters.telegram.config import TelegramConfig
    from bench.clock import BenchClock
    from bot.app import App
    from bot.config import Settings

    members = 500
    no_wait = _NoWait()
    api = _LocalApi()
    with tempfile.TemporaryDirectory(prefix="qunyou-tg-bench-") as tmp:
        settings = Settings()
        storage = settings.storage.model_copy(update={"url": f"sqlite+aiosqlite:///{Path(tmp) / 'b.db'}"})
        settings = settings.model_copy(update={"storage": storage})
        clock = BenchClock(datetime.fromisoformat("2026-03-02T09:00:00+08:00"))
        adapter = TelegramAdapter(
            "tg",
            TelegramConfig(type="telegram"),
            "1:bench",
            request=api,
            get_updates_request=_LocalApi(),
            clock=clock,
            sleep=no_wait.sleep,
            monotonic=no_wait.monotonic,
        )
        app = App(settings, clock=clock, adapters=[adapter])
        await app.start()
        dispatcher = app.dispatcher
        assert dispatcher is not None
        bot = adapter.application.bot

        async def say(update_id: int, member: int, text: str) -> None:
            payload = _update(update_id)
            message = payload["message"]
            assert isinstance(message, dict)
            message["text"] = text
            message["entities"] = (
                [{"type": "bot_command", "offset": 0, "length": 5}] if text == "/ping" else []
            )
            message["from"] = {"id": 100 + member, "is_bot": False, "first_name": f"m{member}"}
            # Telegram stamps each message; time must pass as in a real group, or every message
            # would land in one flood-control window.
            message["date"] = int(clock.now().timestamp())
            await adapter.handle_update(Update.de_json(payload, bot))
            await dispatcher.drain()

        ids = itertools.count(1)
        for i in range(members):
            await say(next(ids), i, f"hello {i}")
        latencies: list[float] = []
        start = time.perf_counter()
        for i in range(messages):
            if i % 100 == 0:
                clock.advance(timedelta(seconds=1))
            t = time.perf_counter()
            await say(next(ids), i % members, f"plain message number {i} about things")
            latencies.append(time.perf_counter() - t)
        plain_s = time.perf_counter() - start
        pings = max(200, messages // 20)
        before = api.sent
        start = time.perf_counter()
        for i in range(pings):
            if i % 10 == 0:
                clock.advance(timedelta(seconds=1))
            await say(next(ids), i % members, "/ping")
        ping_s = time.perf_counter() - start
        replies = api.sent - before
        await app.stop()
    latencies.sort()
    return {
        "telegram.pipeline_messages_per_s": _rate(messages, plain_s),
        "telegram.pipeline_p50_ms": latencies[len(latencies) // 2] * 1e3,
        "telegram.pipeline_p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1e3,
        "telegram.pipeline_mean_ms": statistics.fmean(latencies) * 1e3,
        "telegram.ping_round_trips_per_s": _rate(pings, ping_s),
        "telegram.ping_replies": float(replies),
        "telegram.pipeline_moderation_actions": float(api.moderation_calls),
    }


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


async def run(argv: list[str]) -> dict[str, float]:
    """Run the Telegram benchmarks, print a table and return the figures."""
    parser = argparse.ArgumentParser(prog="bench telegram")
    parser.add_argument("--updates", type=int, default=20_000)
    parser.add_argument("--messages", type=int, default=5_000, help="plain messages through the pipeline")
    args = parser.parse_args(argv)
    n = args.updates
    payloads = [_update(i) for i in range(n)]
    clock_now = Update.de_json(payloads[0], None).message.date  # type: ignore[union-attr]

    # PTB's own parsing (the Updater does this for every update) and ours are timed apart.
    start = time.perf_counter()
    updates = [Update.de_json(dict(payload), None) for payload in payloads]
    dejson_s = time.perf_counter() - start
    start = time.perf_counter()
    for update in updates:
        update_events("tg", update, _ME, clock_now)
    parse_s = time.perf_counter() - start
    del updates

    tracemalloc.start()
    kept = [update_events("tg", Update.de_json(dict(p), None), _ME, clock_now) for p in payloads[:1000]]
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del kept

    alice = UserRef("telegram", "101", "Alice <a>", username=None)
    reply = OutgoingMessage.of("签到成功！", Bold("+10"), " ", Mention(alice), " 连续 3 天 & <streak>")
    start = time.perf_counter()
    for _ in range(n):
        render_chunks(reply.parts)
    render_s = time.perf_counter() - start

    long_text = "\n".join(f"{i:03d}. " + "排行榜成员 & <积分>" * 8 for i in range(400))  # ~41,000 characters
    rounds = max(1, n // 200)
    start = time.perf_counter()
    for _ in range(rounds):
        chunks = render_chunks((Text(long_text),))
    split_s = time.perf_counter() - start

    figures = {
        "telegram.ptb_dejson_us_per_update": dejson_s / n * 1e6,
        "telegram.normalize_us_per_update": parse_s / n * 1e6,
        "telegram.normalize_per_s": _rate(n, parse_s),
        "telegram.event_bytes": held / 1000,
        "telegram.render_per_s": _rate(n, render_s),
        "telegram.split_40k_ms": split_s / rounds * 1e3,
        "telegram.split_40k_chunks": float(len(chunks)),
        **(await _pipeline(args.messages)),
    }
    width = max(len(k) for k in figures)
    print(f"{'telegram adapter':<{width}}  value")
    for key, value in figures.items():
        print(f"{key:<{width}}  {value:,.1f}")
    return figures
