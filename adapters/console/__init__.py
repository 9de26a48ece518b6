"""The console adapter package: ``type = "console"``."""

from __future__ import annotations

from collections.abc import Mapping

from adapters.console.adapter import ConsoleAdapter, ConsoleConfig
from bot.adapter import Adapter
from bot.clock import SystemClock

CONFIG_MODEL = ConsoleConfig


def build(name: str, config: ConsoleConfig, env: Mapping[str, str]) -> Adapter:
    """A console adapter printing readable lines (used by ``run`` with a console section)."""
    from adapters.console.repl import pretty_printer

    return ConsoleAdapter(name, clock=SystemClock(), emit=pretty_printer())


__all__ = ["CONFIG_MODEL", "ConsoleAdapter", "build"]
