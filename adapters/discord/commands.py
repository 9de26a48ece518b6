"""Slash commands: generated from the core's command table, localized from the shared
catalogs, run as the ``/name args`` text a member would type, and synced by a typed moderator
command (``synccommands``)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands

from adapters.discord.client import INTERACTION_WINDOW, Pending
from adapters.discord.normalize import language_of
from bot.errors import QunyouError
from bot.events import ChatRef, MessageEvent, Segment, SentMessage, UserRef
from bot.host import AdapterHost, CommandInfo, OptionInfo
from bot.i18n import LANGUAGES
from bot.messages import OutgoingMessage
from bot.roles import Role

if TYPE_CHECKING:
    from adapters.discord.config import DiscordConfig
    from bot.clock import Clock

log = logging.getLogger("adapters.discord.adapter")

#: The typed command (after the prefix or ``/``) that syncs the slash-command tree.
SYNC_COMMAND = "synccommands"


#: Discord takes at most 100 chat-input commands per application.
MAX_SLASH_COMMANDS = 100
#: Discord offers at most 25 fixed choices for an option.
MAX_CHOICES = 25
#: Discord's limit on a command description.
MAX_DESCRIPTION = 100


@dataclass(frozen=True)
class SlashSpec:
    """One slash command: its name, and its name and description in each language we ship.

    ``options`` are the command's declared arguments as typed options (a member, an integer, a
    string); a command made of subcommands (``free_text``) takes one free-text option instead.
    """

    name: str
    names: dict[str, str] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    options: tuple[OptionInfo, ...] = ()
    free_text: bool = False


#: The Python annotation that makes discord.py declare each kind of option.
_OPTION_TYPES: dict[str, type] = {"user": discord.User, "integer": int, "string": str}


def valid_slash_name(name: str) -> bool:
    """Discord's rule for a command name: 1–32 lower-case letters (any script), digits, - or _."""
    return 1 <= len(name) <= 32 and all((c.isalnum() or c in "-_") and c == c.lower() for c in name)


def _localized_name(command: CommandInfo, lang: str) -> str:
    """The name a member of ``lang`` sees: for Chinese the first Chinese plain-word alias
    (``签到`` for ``checkin``), else the command's own name."""
    if lang.startswith("zh"):
        for alias in command.aliases:
            if not alias.isascii() and valid_slash_name(alias):
                return alias
    return command.name


def _description(text: str, fallback: str) -> str:
    line = (text.strip().splitlines() or [fallback])[0].strip() or fallback
    return line if len(line) <= MAX_DESCRIPTION else line[: MAX_DESCRIPTION - 1] + "…"


def slash_specs(host: AdapterHost) -> list[SlashSpec]:
    """The slash commands to offer, generated from the host's command table.

    Every command a member may run (not hidden, ``min_role`` member) that has a help text and a
    name Discord accepts becomes a slash command whose options are its declared arguments
    (a user option for a member, an integer option for a number or id, a string otherwise), or
    one optional free-text ``args`` option for a command made of subcommands; its description is
    the first line of its help in each language. Commands without help
    (``ping``, ``start``) stay typed-only. Moderator commands stay typed-only too: Discord would
    show them to everyone.
    """
    specs: list[SlashSpec] = []
    for command in host.commands():
        if command.hidden or command.min_role > Role.MEMBER or not command.help:
            continue
        if not valid_slash_name(command.name):
            continue
        names = {lang: _localized_name(command, lang) for lang in LANGUAGES}
        descriptions = {
            lang: _description(host.translate(lang, command.help), command.name) for lang in LANGUAGES
        }
        specs.append(
            SlashSpec(command.name, names, descriptions, command.options, free_text=bool(command.subcommands))
        )
    if len(specs) > MAX_SLASH_COMMANDS:
        log.warning("only %d slash commands fit; the rest stay typed-only", MAX_SLASH_COMMANDS)
    return specs[:MAX_SLASH_COMMANDS]


class Translator(app_commands.Translator):
    """Slash-command names and descriptions: a spec's own table (``localized``), else a catalog
    key (``key``) read through the host."""

    def __init__(self, adapter: CommandsMixin) -> None:
        self._adapter = adapter

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        lang = language_of(locale)
        if lang is None:
            return None
        table = string.extras.get("localized")
        if isinstance(table, dict):
            return table.get(lang)
        key = string.extras.get("key")
        if not key:
            return None
        text = self._adapter.t(lang, key)
        return None if text == key else text


class CommandsMixin:
    """Slash commands in, and the command tree's sync and failures."""

    name: str
    config: DiscordConfig
    clock: Clock
    client: discord.Client
    tree: app_commands.CommandTree[Any]
    default_language: str
    _pending: dict[str, Pending]

    if TYPE_CHECKING:  # provided by the adapter and its other parts

        def t(self, lang: str, key: str, /, **values: Any) -> str: ...
        def _user_ref(self, user: discord.abc.User) -> UserRef: ...
        def _chat_ref(self, guild: discord.Guild | None, channel_id: int, user_id: int) -> ChatRef: ...
        def _interaction_chat(self, interaction: discord.Interaction[Any]) -> ChatRef: ...
        def _submit(self, event: Any) -> asyncio.Task[None] | None: ...
        def _mention_refs(
            self, guild: discord.Guild | None, text: str, known: list[discord.abc.User] | None = None
        ) -> tuple[UserRef, ...]: ...
        def _normalize(self, text: str, mentions: tuple[UserRef, ...]) -> tuple[str, tuple[Segment, ...]]: ...
        async def get_role(self, chat: ChatRef, user_id: str) -> Role: ...
        async def send(self, chat: ChatRef, message: OutgoingMessage) -> SentMessage: ...

    # ---------------------------------------------------------------- slash commands

    def _slash_command(self, spec: SlashSpec) -> app_commands.Command[Any, Any, None]:
        if not spec.free_text:
            return self._typed_slash_command(spec)
        adapter = self
        name = spec.name

        @app_commands.rename(args=app_commands.locale_str("args", key="discord.args_name"))
        @app_commands.describe(
            args=app_commands.locale_str(
                "what you would type after the command", key="discord.args_description"
            )
        )
        async def callback(interaction: discord.Interaction, args: str | None = None) -> None:
            await adapter._on_slash(interaction, name, args or "")

        description = spec.descriptions.get("en") or name
        return app_commands.Command(
            name=app_commands.locale_str(name, localized=spec.names),
            description=app_commands.locale_str(description, localized=spec.descriptions),
            callback=callback,
        )

    def _typed_slash_command(self, spec: SlashSpec) -> app_commands.Command[Any, Any, None]:
        """A slash command with one typed option per declared argument, run as the text a
        member would type (``/give <@id> 5``)."""
        adapter = self
        name = spec.name
        options = spec.options

        async def callback(interaction: discord.Interaction, **values: Any) -> None:
            users = [v for v in values.values() if isinstance(v, discord.abc.User)]
            await adapter._on_slash(interaction, name, typed_text(options, values), known=users)

        # discord.py reads the options from the callback's signature: build it from the
        # declaration (keyword-only, so required and optional ones may come in any order).
        parameters = [
            inspect.Parameter(
                "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
            )
        ]
        for option in options:
            kind: Any = _OPTION_TYPES[option.kind]
            if option.choices and len(option.choices) <= MAX_CHOICES:
                kind = Literal[option.choices]  # discord.py offers a Literal's values as choices
            parameters.append(
                inspect.Parameter(
                    option.name,
                    inspect.Parameter.KEYWORD_ONLY,
                    annotation=kind if option.required else kind | None,
                    default=inspect.Parameter.empty if option.required else None,
                )
            )
        callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        callback.__discord_app_commands_param_description__ = {  # type: ignore[attr-defined]
            o.name: app_commands.locale_str(o.name.replace("_", " "), key=o.label) for o in options
        }
        description = spec.descriptions.get("en") or name
        return app_commands.Command(
            name=app_commands.locale_str(name, localized=spec.names),
            description=app_commands.locale_str(description, localized=spec.descriptions),
            callback=callback,
        )

    def _report_menu(self) -> app_commands.ContextMenu:
        adapter = self

        async def callback(interaction: discord.Interaction, message: discord.Message) -> None:
            await adapter._on_slash(interaction, "report", "", target=message, private=True)

        return app_commands.ContextMenu(
            name=app_commands.locale_str("Report message", key="discord.menu.report"),
            callback=callback,
        )

    async def _on_slash(
        self,
        interaction: discord.Interaction[Any],
        name: str,
        args: str,
        *,
        target: discord.Message | None = None,
        private: bool = False,
        known: list[discord.abc.User] | None = None,
    ) -> None:
        """Run a slash command as if the member had typed ``/name args``; answer as followups.

        ``target`` is the message a context-menu command was used on: the command then reads as a
        reply to it (``/report`` on a message). ``private`` makes the answers visible only to the
        member (a report should not tell the room who reported).
        """
        # Acknowledge first: the core may take longer than Discord's 3 seconds.
        try:
            await interaction.response.defer(thinking=True, ephemeral=private)
        except discord.HTTPException as exc:
            log.warning("Discord adapter %s: could not acknowledge /%s (%s)", self.name, name, exc)
            return
        key = f"i{interaction.id}"
        pending = Pending(interaction, self.clock.now() + INTERACTION_WINDOW)
        self._pending[key] = pending
        text = f"/{name} {args}".strip()
        mentions = self._mention_refs(interaction.guild, text, known)
        plain, segments = self._normalize(text, mentions)
        event = MessageEvent(
            event_id=f"dc:i:{interaction.id}",
            at=self.clock.now(),
            chat=self._interaction_chat(interaction),
            sender=self._user_ref(interaction.user),
            message_id=key,
            text=plain,
            segments=segments,
            mentions=mentions,
            reply_to=str(target.id) if target is not None else None,
            reply_to_user=self._user_ref(target.author) if target is not None else None,
            language=language_of(interaction.locale),
        )
        try:
            task = self._submit(event)
            if task is not None:
                with contextlib.suppress(Exception):
                    await task
        finally:
            self._pending.pop(key, None)
            if not pending.replied:
                # Nothing to say (a duplicate, or a handler that only acted): clear "thinking…".
                with contextlib.suppress(discord.HTTPException):
                    await interaction.delete_original_response()

    async def _on_tree_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        """A slash command Discord still shows but this version no longer has (or a failure
        before our callback ran): tell the member, privately and in their language."""
        if isinstance(error, app_commands.CommandNotFound):
            log.info("Discord adapter %s: unknown slash command %r", self.name, error.name)
        else:
            log.error("Discord adapter %s: slash command failed", self.name, exc_info=error)
        if interaction.response.is_done():
            return
        lang = language_of(interaction.locale) or self.default_language
        with contextlib.suppress(discord.HTTPException):
            await interaction.response.send_message(
                self.t(lang, "discord.stale_command", prefix=self.config.command_prefix), ephemeral=True
            )

    async def _maybe_sync(self, message: discord.Message) -> bool:
        """Handle the typed moderator command that pushes the slash commands to Discord."""
        content = message.content.strip()
        prefixes = {self.config.command_prefix, "/", "！"}
        head, _, rest = content.partition(" ")
        if not any(head == p + SYNC_COMMAND for p in prefixes) or message.guild is None:
            return False
        chat = self._chat_ref(message.guild, message.channel.id, message.author.id)
        lang = language_of(message.guild.preferred_locale) or self.default_language
        reference = OutgoingMessage.of(reply_to=str(message.id))
        try:
            role = await self.get_role(chat, str(message.author.id))
        except QunyouError:
            role = Role.MEMBER
        if role < Role.MODERATOR:
            await self.send(chat, reference.with_parts(_parts(self.t(lang, "discord.sync_denied"))))
            return True
        mode = rest.strip().lower()
        guild = discord.Object(id=message.guild.id)
        try:
            if mode in ("global", "all", "全部"):
                synced = await self.tree.sync()
                where = self.t(lang, "discord.sync_global")
                text = self.t(lang, "discord.sync_done", count=len(synced), where=where)
            elif mode in ("clear", "清除"):
                # After a global sync, this server's own copies would show every command twice.
                self.tree.clear_commands(guild=guild)
                await self.tree.sync(guild=guild)
                text = self.t(lang, "discord.sync_cleared")
            else:
                self.tree.copy_global_to(guild=guild)
                synced = await self.tree.sync(guild=guild)
                where = self.t(lang, "discord.sync_here")
                text = self.t(lang, "discord.sync_done", count=len(synced), where=where)
        except (discord.HTTPException, app_commands.AppCommandError, app_commands.MissingApplicationID):
            log.exception("Discord adapter %s: syncing the command tree failed", self.name)
            text = self.t(lang, "discord.sync_failed")
        await self.send(chat, reference.with_parts(_parts(text)))
        return True


def typed_text(options: tuple[OptionInfo, ...], values: dict[str, Any]) -> str:
    """The arguments a member would have typed for these option values, in declared order: a
    user as a mention, a string with spaces quoted unless it is the last (the rest of the line)."""
    words: list[str] = []
    given = [o for o in options if values.get(o.name) is not None]
    for index, option in enumerate(given):
        value = values[option.name]
        if isinstance(value, discord.abc.User):
            words.append(f"<@{value.id}>")
        elif (
            isinstance(value, str)
            and index < len(given) - 1
            and (not value or any(c.isspace() for c in value))
        ):
            words.append('"' + value.replace('"', "'") + '"')
        else:
            words.append(str(value))
    return " ".join(words)


def _parts(text: str) -> tuple[Any, ...]:
    return OutgoingMessage.of(text).parts
