"""The Telegram command menu (``setMyCommands``): generated from the core's command table, one
list for members and a longer one for group administrators, described in each language."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
)
from telegram import error as tg_error

from bot.adapter import AdapterHost
from bot.i18n import LANGUAGES
from bot.roles import Role

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MenuCommand:
    """One entry of the Telegram command menu, described in each language."""

    name: str
    descriptions: dict[str, str] = field(default_factory=dict)


async def push_menus(
    bot: Bot, name: str, members: Sequence[MenuCommand], admins: Sequence[MenuCommand]
) -> None:
    """Set both menus on Telegram, without a language (the fallback) and for each language the
    descriptions have; a failure is logged and ends the attempt (a menu is a convenience)."""
    languages = sorted({lang for c in [*members, *admins] for lang in c.descriptions})
    scopes = (
        (members, BotCommandScopeAllPrivateChats()),
        (members, BotCommandScopeAllGroupChats()),
        (admins, BotCommandScopeAllChatAdministrators()),
    )
    for commands, scope in scopes:
        for lang in [None, *languages]:
            entries = [
                BotCommand(c.name, _menu_text(c, lang)) for c in commands if _valid_command_name(c.name)
            ]
            code = lang.split("-")[0] if lang else None
            try:
                await bot.set_my_commands(entries, scope=scope, language_code=code)
            except tg_error.TelegramError as exc:
                # A menu is a convenience: a failure is logged and the bot keeps running.
                log.warning("telegram adapter %s: setMyCommands failed: %s", name, exc)
                return


def menu_from_host(host: AdapterHost) -> tuple[list[MenuCommand], list[MenuCommand]] | None:
    """The member and administrator menus, from the core's command table and catalogs.

    Members see what they may run; group administrators also see moderator and admin commands.
    None when the core offers no commands (an adapter test's host): no menu is set then.
    """
    table = host.commands()
    if not table:
        return None
    members: list[MenuCommand] = []
    admins: list[MenuCommand] = []
    for command in table:
        if command.hidden or command.min_role > Role.ADMIN or not _valid_command_name(command.name):
            continue
        descriptions = {}
        for lang in LANGUAGES:
            text = host.translate(lang, command.help) if command.help else command.name
            descriptions[lang] = (text.strip().splitlines() or [command.name])[0]
        entry = MenuCommand(command.name, descriptions)
        admins.append(entry)
        if command.min_role <= Role.MEMBER:
            members.append(entry)
    return members, admins


def _menu_text(command: MenuCommand, lang: str | None) -> str:
    text = command.descriptions.get(lang or "", "") if lang else next(iter(command.descriptions.values()), "")
    text = text or command.name
    return text[:256]


def _valid_command_name(name: str) -> bool:
    # Bot API: 1-32 characters, lower-case English letters, digits and underscores only.
    allowed = all(c.islower() or c.isdigit() or c == "_" for c in name)
    return 1 <= len(name) <= 32 and allowed and name.isascii()
