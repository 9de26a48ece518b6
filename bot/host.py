"""What an adapter may ask of the core: the ``AdapterHost`` handed to ``Adapter.start``.

An adapter gets events in and actions out; for everything else it needs from the core it has
this one typed interface (implemented by the dispatcher), never the core's internals:

- ``submit(event)``: deliver a normalized event (deduplicated; None for a duplicate or during
  shutdown, else the task handling it);
- ``translate(lang, key, **values)``: a string from the shared catalogs (``bot/locales``), for
  the adapter's own member-visible text (warnings, slash-command descriptions);
- ``commands()``: the core's command table as plain descriptions, for platforms that register
  commands (Discord slash commands, Telegram's command menu).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from bot.events import PlatformEvent
from bot.roles import Role


@dataclass(frozen=True)
class OptionInfo:
    """One declared argument as a platform option: ``user`` (a member), ``integer`` or ``string``."""

    name: str
    kind: Literal["user", "integer", "string"] = "string"
    required: bool = True
    #: Catalog key naming the argument (``core.param.amount``), for the option's description.
    label: str = "core.param.text"
    #: Fixed words to offer (a choice of words); empty when anything may be typed.
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class CommandInfo:
    """One command as an adapter may show it; ``usage`` and ``help`` are translation keys."""

    name: str
    #: Plain-word aliases (``签到``); sub-command aliases are left out.
    aliases: tuple[str, ...] = ()
    min_role: Role = Role.MEMBER
    usage: str | None = None
    help: str | None = None
    where: Literal["group", "private", "any"] = "group"
    hidden: bool = False
    #: The declared arguments in order; empty for commands made of subcommands, which a
    #: platform offers as one free-text option (``subcommands`` names their words).
    options: tuple[OptionInfo, ...] = ()
    subcommands: tuple[str, ...] = ()


class EventSink(Protocol):
    """Where an adapter hands normalized events (the narrow part of ``AdapterHost``)."""

    def submit(self, event: PlatformEvent) -> asyncio.Task[None] | None:
        """Queue one event for handling; returns the task handling it (None if dropped)."""
        ...


class AdapterHost(EventSink, Protocol):
    """Everything an adapter may ask of the core."""

    def translate(self, lang: str, key: str, /, **values: Any) -> str:
        """``key`` from the shared catalogs in ``lang`` (the key itself when it is missing)."""
        ...

    def commands(self) -> Sequence[CommandInfo]:
        """Every command the core answers, in a stable order."""
        ...
