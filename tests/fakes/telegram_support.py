"""Shared pieces of the Telegram adapter tests: a recording sink, a fake sleep, a builder."""

from __future__ import annotations

import asyncio
from typing import Any

from adapters.telegram import TelegramAdapter, TelegramConfig
from bot.clock import VirtualClock
from bot.events import PlatformEvent
from tests.fakes.host import RecordingHost
from tests.fakes.telegram_api import TOKEN, BotApiState, FakeBotApi


class RecordingSink(RecordingHost):
    """The adapter tests' ``AdapterHost``: keeps what it was given, offers no commands."""

    def submit(self, event: PlatformEvent) -> None:  # type: ignore[override]
        """Keep the event (no task: Telegram does not wait on one in these tests)."""
        self.events.append(event)
        self.arrived.set()


class FakeTime:
    """A monotonic clock and a sleep that advances it instead of waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        """The fake monotonic time."""
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Record the wait and jump ahead."""
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def make_adapter(
    state: BotApiState,
    *,
    time: FakeTime | None = None,
    clock: VirtualClock | None = None,
    name: str = "tg",
    **config: Any,
) -> TelegramAdapter:
    """A ``TelegramAdapter`` whose transport is the fake Bot API."""
    fake_time = time or FakeTime()
    return TelegramAdapter(
        name,
        TelegramConfig(type="telegram", **config),
        TOKEN,
        request=FakeBotApi(state),
        get_updates_request=FakeBotApi(state),
        clock=clock,
        sleep=fake_time.sleep,
        monotonic=fake_time.monotonic,
    )
