"""Usage lines generated from command declarations, for usage errors and ``/help``."""

from __future__ import annotations

from collections.abc import Callable

from bot.params import usage_words
from bot.roles import Role
from bot.router import Command, Subcommand

Translate = Callable[[str], str]


def declared_usage(command: Command, sub: Subcommand | None, t: Translate) -> str:
    """``/give <@member> <amount>``, ``/kw add <word> [category]``: from the declaration only."""
    head = f"/{command.name}" if sub is None else f"/{command.name} {sub.name}"
    params = command.args if sub is None else sub.args
    words = usage_words(params, t)
    return f"{head} {words}" if words else head


def usage_line(command: Command, sub: Subcommand | None, t: Translate) -> str:
    """The line a usage error shows: the subcommand's own, the command's own, else generated."""
    if sub is not None and sub.usage:
        return t(sub.usage)
    if command.usage:
        return t(command.usage)
    return declared_usage(command, sub, t)


def forms(command: Command, role: Role | None, t: Translate) -> list[str]:
    """Every form of ``command`` a member of ``role`` may use (all of them when ``role`` is
    None), one generated usage line each; empty when they may use none."""
    if role is not None and role < command.min_role:
        return []
    lines: list[str] = []
    if command.handler is not None:
        lines.append(declared_usage(command, None, t))
    for sub in command.subcommands:
        if role is None or role >= command.role_for(sub):
            lines.append((sub.usage and t(sub.usage)) or declared_usage(command, sub, t))
    return lines
