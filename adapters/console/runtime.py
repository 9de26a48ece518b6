"""What the console runners need of a running bot, without reaching up into ``bot.app``.

The console's script runner and REPL drive a whole bot (start, restart, run due jobs, wait
for handling to finish); the wiring that builds one lives in ``bot/app.py``, above the
adapters. So ``bot/cli.py`` hands the runners a ``RuntimeFactory`` (``bot.app.App`` itself fits)
and the console only knows this protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.adapter import Adapter
from bot.clock import Clock
from bot.config import Settings
from bot.dispatcher import Dispatcher
from bot.feature import Feature
from bot.services import Services


class Runtime(Protocol):
    """A bot the console drives: ``services`` and ``dispatcher`` exist between start and stop."""

    services: Services | None
    dispatcher: Dispatcher | None

    async def start(self) -> None:
        """Migrate, wire and start everything."""
        ...

    async def stop(self) -> None:
        """Drain, flush and stop everything."""
        ...


class RuntimeFactory(Protocol):
    """Builds a bot on ``clock`` with these adapters (and these features, or the default list)."""

    def __call__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        adapters: Sequence[Adapter] | None = None,
        features: Sequence[Feature] | None = None,
    ) -> Runtime:
        """A new, not yet started, bot."""
        ...
