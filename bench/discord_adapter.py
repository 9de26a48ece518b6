"""``python -m bot bench discord``: figures for the Discord adapter.

- ``discord.render_us``: rendering a typical reply (mention, escaped member text, bold) to
  Discord markdown, microseconds per message;
- ``discord.split_10k_us``: rendering and splitting a 10 000-character message into 2000-character
  parts, microseconds per message;
- ``discord.inbound_us``: one gateway ``MESSAGE_CREATE`` through discord.py's parser and our
  normalisation into a ``MessageEvent`` (the hot path of every plain message), microseconds per
  message. It needs the test fakes (``tests/fakes/discord_api.py``, the one home of discord.py's
  private names), so it is reported only from a source checkout.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from adapters.discord.render import render, render_chunks
from bot.events import PlatformEvent, UserRef
from bot.host import CommandInfo
from bot.messages import Bold, Mention, Text


def _per_call_us(fn: Any, rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        fn()
    return (time.perf_counter() - start) / rounds * 1e6


class _CountingSink:
    def __init__(self, expected: int) -> None:
        self.count = 0
        self.expected = expected
        self.done = asyncio.Event()

    def submit(self, event: PlatformEvent) -> None:
        self.count += 1
        if self.count >= self.expected:
            self.done.set()

    def translate(self, lang: str, key: str, /, **values: Any) -> str:
        """No catalogs needed to count events."""
        return key

    def commands(self) -> list[CommandInfo]:
        """No command table: the adapter registers no commands."""
        return []


async def _inbound_us(rounds: int) -> float | None:
    try:
        from tests.fakes import discord_api as fx
    except ImportError:
        return None
    from adapters.discord import build
    from bot.clock import VirtualClock

    fake = fx.FakeDiscord()
    adapter = build("bench", {"type": "discord"}, {"DISCORD_BOT_TOKEN": "bench"})
    adapter.clock = VirtualClock(datetime(2026, 3, 2, tzinfo=UTC))
    adapter.client_setup = fake.install
    fake.install(adapter.client)
    sink = _CountingSink(rounds)
    await adapter.start(sink)
    try:
        fx.FakeDiscord.add_guild(adapter.client)
        alice = fx.member(fx.ALICE_ID, "alice")
        payloads = [
            fx.message(f"今天天气不错 message {i} with some words", author=alice["user"], author_member=alice)
            for i in range(rounds)
        ]
        start = time.perf_counter()
        for payload in payloads:
            fx.FakeDiscord.feed(adapter.client, "MESSAGE_CREATE", payload)
        # discord.py runs each listener as a task: let them all finish inside the timing.
        await sink.done.wait()
        return (time.perf_counter() - start) / rounds * 1e6
    finally:
        await adapter.stop()


async def run(argv: list[str]) -> dict[str, float]:
    """Measure, print a table, and return the figures."""
    parser = argparse.ArgumentParser(prog="bench discord")
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args(argv)
    alice = UserRef("discord", "200000000000000001", "alice")
    reply = (Mention(alice), Text(" checked in: streak **3** _days_ @everyone "), Bold("+10"))
    big = (Text(("a line of member text with *stars* and _underscores_\n" * 200)[:10_000]),)
    figures: dict[str, float] = {
        "discord.render_us": _per_call_us(lambda: render(reply), args.rounds),
        "discord.split_10k_us": _per_call_us(lambda: render_chunks(big), max(1, args.rounds // 20)),
    }
    inbound = await _inbound_us(args.rounds)
    if inbound is not None:
        figures["discord.inbound_us"] = inbound
    width = max(len(k) for k in figures)
    print(f"{'figure':<{width}}  value")
    for key, value in figures.items():
        print(f"{key:<{width}}  {value:10.1f}")
    return figures


if __name__ == "__main__":
    import sys

    asyncio.run(run(sys.argv[1:]))
