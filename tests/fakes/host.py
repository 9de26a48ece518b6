"""An ``AdapterHost`` for adapter tests: the real catalogs and command table, no dispatcher.

Adapters are tested against their platform fakes without an app; this stands in for the
dispatcher as the host they are started with. It keeps what it is given, translates with the
shipped catalogs, and offers the commands it was built with (none by default, so an adapter
that registers commands on start, like Telegram's menu, leaves that out unless a test asks).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from bot.events import PlatformEvent
from bot.host import CommandInfo
from bot.i18n import I18n
from bot.router import CommandTable

_I18N: I18n | None = None


def catalogs() -> I18n:
    """The shipped catalogs, loaded once per test run."""
    global _I18N
    if _I18N is None:
        _I18N = I18n.load()
    return _I18N


def core_commands() -> list[CommandInfo]:
    """The commands of the real feature list, as the dispatcher describes them."""
    from handlers import FEATURES

    return CommandTable([f.router for f in FEATURES], ("/", "!")).describe()


class RecordingHost:
    """Keeps submitted events; runs ``handler`` (when set) for each in its own task."""

    def __init__(self, commands: Sequence[CommandInfo] = ()) -> None:
        self.events: list[PlatformEvent] = []
        self.handler: Callable[[PlatformEvent], Awaitable[None]] | None = None
        self._commands = list(commands)
        self.arrived = asyncio.Event()

    def submit(self, event: PlatformEvent) -> asyncio.Task[None] | None:
        """Keep the event; its task runs ``handler``."""
        self.events.append(event)
        self.arrived.set()
        handler = self.handler

        async def run() -> None:
            if handler is not None:
                await handler(event)

        return asyncio.get_running_loop().create_task(run())

    def translate(self, lang: str, key: str, /, **values: Any) -> str:
        """The shipped catalogs."""
        return catalogs().t(lang, key, **values)

    def commands(self) -> Sequence[CommandInfo]:
        """The commands this host was built with."""
        return list(self._commands)

    async def wait_for(self, count: int, within: float = 5.0) -> list[PlatformEvent]:
        """Wait until ``count`` events have arrived."""
        async with asyncio.timeout(within):
            while len(self.events) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.events
