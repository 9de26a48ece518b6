"""The Discord adapter on discord.py 2.

A server (guild) is the *scope* that owns points and settings; a text channel or thread is where
a reply goes. Typed messages, edits, joins and leaves come from the gateway; slash commands are
turned into the ``/name args`` text a member would type and run through the same core router;
buttons carry persistent custom ids (``qy:<data>``) handled from the raw interaction stream, so
buttons posted before a restart keep working.

Every REST call goes through discord.py (its rate limiter stays in charge of 429s) inside our
``OutboundQueue`` (which keeps bursts into one channel polite), and Discord errors are mapped to
the core errors: Forbidden → ``BotLacksPermission``, NotFound → ``TargetNotFound``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import aiohttp
import discord
from discord import app_commands

from adapters.discord.config import DiscordConfig
from adapters.discord.render import MAX_CONTENT, render, render_chunks
from bot.adapter import ALL_CAPABILITIES, Adapter, Capability, EventSink
from bot.clock import Clock, SystemClock
from bot.errors import (
    BotLacksPermission,
    CapabilityNotSupported,
    ConfigError,
    QunyouError,
    RateLimited,
    TargetNotFound,
    TransportError,
)
from bot.events import (
    ButtonPressed,
    ChatRef,
    MemberJoined,
    MemberLeft,
    MessageEvent,
    Segment,
    SentMessage,
    UserRef,
)
from bot.i18n import DEFAULT_LANGUAGE
from bot.messages import Button, OutgoingMessage
from bot.outbound import Limit, OutboundQueue
from bot.roles import Role
from bot.text import clean_event

log = logging.getLogger(__name__)
T = TypeVar("T")

PLATFORM = "discord"
#: Prefix of every button custom id the bot posts; anything else belongs to someone else.
BUTTON_PREFIX = "qy:"
#: Custom ids longer than Discord's 100 characters are replaced by a digest under this prefix.
DIGEST_PREFIX = "qy#"
MAX_CUSTOM_ID = 100
#: Discord refuses a timeout longer than 28 days.
MAX_TIMEOUT = timedelta(days=28)
#: An interaction token (for followups) lives 15 minutes; stop using it a little before.
INTERACTION_WINDOW = timedelta(minutes=14)
#: The member commands offered as slash commands, in the order Discord lists them.
SLASH_COMMANDS = ("checkin", "me", "points", "rank", "badges", "topic", "events", "join", "report", "help")
#: The typed command (after the prefix or ``/``) that syncs the slash-command tree.
SYNC_COMMAND = "synccommands"
#: Languages we ship, and the Discord locales that map to each.
LOCALES: dict[str, tuple[discord.Locale, ...]] = {
    "zh-CN": (discord.Locale.chinese, discord.Locale.taiwan_chinese),
    "en": (discord.Locale.american_english, discord.Locale.british_english),
}
#: Message types that carry something a member said (default and reply); joins, pins… do not.
_CHAT_TYPES = (discord.MessageType.default, discord.MessageType.reply)
_MENTION = re.compile(r"<@!?(\d{15,21})>")

Translate = Callable[..., str]


class TimeoutTooLong(CapabilityNotSupported):
    """Discord cannot time a member out for longer than 28 days (or indefinitely).

    We refuse rather than silently shortening the mute: the moderation feature then falls back
    to a manual-action alert (or a ban), and the reason is in the message.
    """

    def __init__(self, adapter: str, reason: str) -> None:
        super().__init__(Capability.MUTE, adapter)
        self.reason = reason
        self.args = (reason,)

    def __str__(self) -> str:
        return self.reason


class DiscordRequestRejected(QunyouError):
    """Discord answered a request with a client error other than 403/404 (a malformed request)."""


def language_of(locale: discord.Locale | None) -> str | None:
    """Our language code for a Discord locale, or None when we ship no such language."""
    if locale is None:
        return None
    for lang, locales in LOCALES.items():
        if locale in locales:
            return lang
    return None


@dataclass(slots=True)
class _Pending:
    """A slash command awaiting its answer: the reply goes back as the interaction's followup."""

    interaction: discord.Interaction[Any]
    expires: datetime
    replied: bool = False
    followups: set[int] = field(default_factory=set)


class _StaticView(discord.ui.View):
    """Buttons only. Presses are handled from the raw interaction stream by custom id, so the
    view must not be stored in discord.py's view store (that would keep every message's view in
    memory forever, and it would not survive a restart anyway)."""

    def is_dispatchable(self) -> bool:
        return False


class _Client(discord.Client):
    """discord.py's client with its gateway events forwarded to the adapter."""

    def __init__(self, adapter: DiscordAdapter, *, intents: discord.Intents) -> None:
        super().__init__(
            intents=intents,
            # Nobody is pinged unless a message says so explicitly (see DiscordAdapter._mentions).
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self._qy = adapter

    async def on_message(self, message: discord.Message) -> None:
        await self._qy._on_message(message)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        await self._qy._on_edit(payload)

    async def on_member_join(self, member: discord.Member) -> None:
        await self._qy._on_join(member)

    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        await self._qy._on_leave(payload)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        await self._qy._on_interaction(interaction)


class _Tree(app_commands.CommandTree[Any]):
    """The command tree, answering its own failures instead of leaving "interaction failed"."""

    def __init__(self, client: discord.Client, adapter: DiscordAdapter) -> None:
        super().__init__(client)
        self._qy = adapter

    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError, /
    ) -> None:
        await self._qy._on_tree_error(interaction, error)


class _Translator(app_commands.Translator):
    """Slash-command names and descriptions from our catalogs (``discord.slash.*``)."""

    def __init__(self, adapter: DiscordAdapter) -> None:
        self._adapter = adapter

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        key = string.extras.get("key")
        lang = language_of(locale)
        if not key or lang is None:
            return None
        text = self._adapter.t(lang, key)
        return None if text == key else text


class DiscordAdapter(Adapter):
    """One Discord bot account."""

    platform = PLATFORM
    capabilities = ALL_CAPABILITIES
    max_text_length = MAX_CONTENT

    def __init__(
        self,
        name: str,
        config: DiscordConfig,
        token: str,
        *,
        translate: Translate,
        clock: Clock | None = None,
        default_language: str = DEFAULT_LANGUAGE,
        client_setup: Callable[[discord.Client], None] | None = None,
    ) -> None:
        super().__init__(name)
        self.config = config
        self._token = token
        self.t: Translate = translate
        self.clock: Clock = clock or SystemClock()
        self.default_language = default_language
        #: Called on every client the adapter builds, before it logs in (tests install fakes here).
        self.client_setup = client_setup
        self._sink: EventSink | None = None
        self._gateway: asyncio.Task[None] | None = None
        self._warnings: list[str] = []
        self._pending: dict[str, _Pending] = {}
        self._long_ids: dict[str, str] = {}
        # Discord allows about 5 messages per 5 s into one channel and 50 requests/s overall;
        # discord.py also obeys the server's buckets, this just keeps our bursts polite.
        self.queue = OutboundQueue(per_chat=Limit(5, 5.0), overall=Limit(50, 1.0))
        self.client = self._make_client(self._wanted_intents())

    # ---------------------------------------------------------------- lifecycle

    @staticmethod
    def _wanted_intents() -> discord.Intents:
        intents = discord.Intents.default()
        intents.message_content = True
        intents.members = True
        return intents

    def _make_client(self, intents: discord.Intents) -> _Client:
        client = _Client(self, intents=intents)
        self.tree: app_commands.CommandTree[Any] = _Tree(client, self)
        for name in SLASH_COMMANDS:
            self.tree.add_command(self._slash_command(name))
        self.tree.add_command(self._report_menu())
        if self.client_setup is not None:
            self.client_setup(client)
        return client

    async def start(self, sink: EventSink) -> None:
        """Log in, check the privileged intents, and connect to the gateway in a task."""
        self._sink = sink
        self._warnings = []
        if self.client.is_closed():
            # A discord.py client does not reconnect once closed: a restart gets a fresh one.
            self.client = self._make_client(self._wanted_intents())
        await self.tree.set_translator(_Translator(self))
        await self._login()
        flags = self.client.application_flags
        content_ok = flags.gateway_message_content or flags.gateway_message_content_limited
        members_ok = flags.gateway_guild_members or flags.gateway_guild_members_limited
        if not (content_ok and members_ok):
            # Asking for an intent the portal has not enabled makes Discord close the gateway
            # (4014) and the bot would be deaf to everything. Connect without it instead, so slash
            # commands and buttons still work, and say loudly what is missing.
            if not content_ok:
                # The worst silent failure: every message arrives empty. Log it as an error.
                self._warn("discord.intent_message_content", level=logging.ERROR)
            if not members_ok:
                self._warn("discord.intent_members")
            intents = self._wanted_intents()
            intents.message_content = content_ok
            intents.members = members_ok
            await self.client.close()
            self.client = self._make_client(intents)
            await self.tree.set_translator(_Translator(self))
            await self._login()
        app = self.client.application
        if app is not None and app.interactions_endpoint_url:
            self._warn("discord.interaction_url")
        user = self.client.user
        if user is not None:
            self.me = self._user_ref(user)
        self._gateway = asyncio.create_task(self._run_gateway(), name=f"discord gateway {self.name}")

    async def _login(self) -> None:
        try:
            await self.client.login(self._token)
        except discord.LoginFailure as exc:
            raise ConfigError(
                f"adapters.{self.name}.token_env: Discord refused the token in "
                f"{self.config.token_env} ({exc})"
            ) from exc
        except (discord.HTTPException, aiohttp.ClientError, OSError) as exc:
            raise TransportError(f"Discord adapter {self.name}: login failed: {exc}") from exc

    async def _run_gateway(self) -> None:
        try:
            await self.client.connect(reconnect=True)
        except asyncio.CancelledError:
            raise
        except discord.PrivilegedIntentsRequired:
            self._warn("discord.intent_refused", level=logging.ERROR)
        except Exception as exc:  # the gateway task must report, never die silently
            log.exception("Discord adapter %s: gateway stopped", self.name)
            self._warnings.append(
                self.t(
                    self.default_language,
                    "discord.gateway_down",
                    name=self.name,
                    reason=str(exc) or type(exc).__name__,
                )
            )

    def _warn(self, key: str, *, level: int = logging.WARNING) -> None:
        text = self.t(self.default_language, key, name=self.name)
        log.log(level, "%s", text)
        self._warnings.append(text)

    async def stop(self) -> None:
        """Close the gateway and the HTTP session."""
        await self.client.close()
        if self._gateway is not None:
            self._gateway.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._gateway
            self._gateway = None
        self._pending.clear()

    def warnings(self) -> list[str]:
        """Missing privileged intents and gateway failures, explained for ``/status``."""
        return list(self._warnings)

    def status_line(self) -> str:
        """Servers and latency, for ``/status``."""
        latency = self.client.latency
        ms = "-" if latency != latency or latency == float("inf") else str(round(latency * 1000))
        return self.t(
            self.default_language,
            "discord.status",
            name=self.name,
            guilds=len(self.client.guilds),
            latency=ms,
        )

    # ---------------------------------------------------------------- mapping

    def _user_ref(self, user: discord.abc.User) -> UserRef:
        return UserRef(
            platform=PLATFORM,
            user_id=str(user.id),
            display_name=user.display_name,
            is_bot=user.bot,
            username=user.name,
        )

    def _chat_ref(self, guild: discord.Guild | None, channel_id: int, user_id: int) -> ChatRef:
        if guild is None:
            # A DM: the correspondent is the scope, the DM channel is where replies go.
            return ChatRef(PLATFORM, self.name, str(user_id), str(channel_id), kind="private")
        return ChatRef(PLATFORM, self.name, str(guild.id), str(channel_id), kind="group", title=guild.name)

    def _mention_refs(
        self, guild: discord.Guild | None, text: str, known: list[discord.abc.User] | None = None
    ) -> tuple[UserRef, ...]:
        by_id = {u.id: u for u in known or []}
        refs: list[UserRef] = []
        for user_id in _MENTION.findall(text):
            uid = int(user_id)
            user: discord.abc.User | None = by_id.get(uid)
            if user is None and guild is not None:
                user = guild.get_member(uid)
            if user is None:
                user = self.client.get_user(uid)
            refs.append(self._user_ref(user) if user is not None else UserRef(PLATFORM, user_id, user_id))
        return tuple(refs)

    def _normalize(self, text: str, mentions: tuple[UserRef, ...]) -> tuple[str, tuple[Segment, ...]]:
        """Plain text with ``<@id>`` shown as ``@username``, and the matching segments."""
        names = {m.user_id: m for m in mentions}
        segments: list[Segment] = []
        out: list[str] = []
        pos = 0
        for match in _MENTION.finditer(text):
            if match.start() > pos:
                segments.append(Segment("text", text[pos : match.start()]))
            ref = names.get(match.group(1))
            shown = "@" + ((ref.username or ref.display_name) if ref else match.group(1))
            segments.append(Segment("mention", shown, user=ref))
            out.append(text[pos : match.start()])
            out.append(shown)
            pos = match.end()
        if pos < len(text):
            segments.append(Segment("text", text[pos:]))
        out.append(text[pos:])
        return "".join(out), tuple(segments)

    def _message_event(self, message: discord.Message, *, edited: bool, event_id: str) -> MessageEvent:
        chat = self._chat_ref(message.guild, message.channel.id, message.author.id)
        mentions = self._mention_refs(message.guild, message.content, list(message.mentions))
        text, segments = self._normalize(self._command_text(message.content), mentions)
        extra: list[Segment] = [
            Segment("image", data=a.url)
            for a in message.attachments
            if (a.content_type or "").startswith("image/")
        ]
        reply_to: str | None = None
        reply_user: UserRef | None = None
        ref = message.reference
        if ref is not None and ref.message_id is not None and message.type == discord.MessageType.reply:
            reply_to = str(ref.message_id)
            if isinstance(ref.resolved, discord.Message):
                reply_user = self._user_ref(ref.resolved.author)
        me = self.client.user
        # No ``seq``: snowflakes grow with time, but messages from different channels arrive
        # slightly out of order, and a high-water mark would drop the late ones as duplicates.
        return MessageEvent(
            event_id=event_id,
            at=self.clock.now(),
            chat=chat,
            sender=self._user_ref(message.author),
            message_id=str(message.id),
            text=text,
            segments=segments + tuple(extra),
            reply_to=reply_to,
            reply_to_user=reply_user,
            mentions=mentions,
            mentions_bot=me is not None
            and (me in message.mentions or (reply_user is not None and reply_user.user_id == str(me.id))),
            edited=edited,
        )

    def _submit(self, event: Any) -> asyncio.Task[None] | None:
        if self._sink is None:
            log.debug("Discord adapter %s: event before start, dropped", self.name)
            return None
        # Made encodable here, once, for every inbound event: a lone surrogate (a client bug)
        # would otherwise fail far inside the core (the database, the log).
        return self._sink.submit(clean_event(event))

    # ---------------------------------------------------------------- inbound

    async def _on_message(self, message: discord.Message) -> None:
        me = self.client.user
        if me is not None and message.author.id == me.id:
            return
        if message.type not in _CHAT_TYPES or message.webhook_id is not None:
            return
        if await self._maybe_sync(message):
            return
        self._submit(self._message_event(message, edited=False, event_id=f"dc:m:{message.id}"))

    def _command_text(self, text: str) -> str:
        """A typed ``<command_prefix>name`` becomes ``/name``, which the core always reads as a command.

        The core knows its own prefixes (``bot.command_prefixes``); this lets one Discord bot use
        a prefix of its own (``?checkin``) without changing them for every platform.
        """
        prefix = self.config.command_prefix
        rest = text[len(prefix) :]
        # "/" and "!" are the core's own defaults: leave those messages exactly as typed.
        if prefix not in ("/", "!") and text.startswith(prefix) and rest[:1].isalnum():
            return "/" + rest
        return text

    async def _on_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        message = payload.message
        stamp = payload.data.get("edited_timestamp")
        me = self.client.user
        # Embed unfurls and pins also arrive as updates; only a new edited_timestamp is an edit.
        if not stamp or (me is not None and message.author.id == me.id):
            return
        if message.type not in _CHAT_TYPES or message.webhook_id is not None:
            return
        self._submit(self._message_event(message, edited=True, event_id=f"dc:e:{message.id}:{stamp}"))

    def _landing_channel(self, guild: discord.Guild) -> int:
        """Where a welcome goes: the server's system channel, else the first one we may post in."""
        if guild.system_channel is not None:
            return guild.system_channel.id
        me = guild.me
        for channel in sorted(guild.text_channels, key=lambda c: c.position):
            if me is None or channel.permissions_for(me).send_messages:
                return channel.id
        return guild.id

    async def _on_join(self, member: discord.Member) -> None:
        guild = member.guild
        chat = self._chat_ref(guild, self._landing_channel(guild), member.id)
        joined = member.joined_at.isoformat() if member.joined_at else self.clock.now().isoformat()
        self._submit(
            MemberJoined(
                event_id=f"dc:j:{guild.id}:{member.id}:{joined}",
                at=self.clock.now(),
                chat=chat,
                member=self._user_ref(member),
            )
        )

    async def _on_leave(self, payload: discord.RawMemberRemoveEvent) -> None:
        guild = self.client.get_guild(payload.guild_id)
        if guild is None:
            return
        chat = self._chat_ref(guild, self._landing_channel(guild), payload.user.id)
        now = self.clock.now()
        self._submit(
            MemberLeft(
                event_id=f"dc:l:{guild.id}:{payload.user.id}:{now.isoformat()}",
                at=now,
                chat=chat,
                member=self._user_ref(payload.user),
            )
        )

    def _interaction_chat(self, interaction: discord.Interaction[Any]) -> ChatRef:
        channel_id = interaction.channel_id or (interaction.guild_id or interaction.user.id)
        return self._chat_ref(interaction.guild, channel_id, interaction.user.id)

    async def _on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        if interaction.type is not discord.InteractionType.component:
            return  # slash commands reach the command tree's callbacks
        data: dict[str, Any] = dict(interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        if custom_id.startswith(DIGEST_PREFIX):
            button_data = self._long_ids.get(custom_id)
        elif custom_id.startswith(BUTTON_PREFIX):
            button_data = custom_id[len(BUTTON_PREFIX) :]
        else:
            return
        # Always acknowledge within Discord's 3 seconds, or the member sees "interaction failed".
        with contextlib.suppress(discord.HTTPException):
            await interaction.response.defer()
        if button_data is None or interaction.message is None:
            log.info("Discord adapter %s: press on a button from an earlier run (%s)", self.name, custom_id)
            return
        self._submit(
            ButtonPressed(
                event_id=f"dc:i:{interaction.id}",
                at=self.clock.now(),
                chat=self._interaction_chat(interaction),
                user=self._user_ref(interaction.user),
                message_id=str(interaction.message.id),
                data=button_data,
            )
        )

    # ---------------------------------------------------------------- slash commands

    def _slash_command(self, name: str) -> app_commands.Command[Any, Any, None]:
        adapter = self

        @app_commands.rename(args=app_commands.locale_str("args", key="discord.args_name"))
        @app_commands.describe(
            args=app_commands.locale_str(
                "what you would type after the command", key="discord.args_description"
            )
        )
        async def callback(interaction: discord.Interaction, args: str | None = None) -> None:
            await adapter._on_slash(interaction, name, args or "")

        description = self.t("en", f"discord.slash.{name}.description")
        return app_commands.Command(
            name=app_commands.locale_str(name, key=f"discord.slash.{name}.name"),
            description=app_commands.locale_str(description, key=f"discord.slash.{name}.description"),
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
        pending = _Pending(interaction, self.clock.now() + INTERACTION_WINDOW)
        self._pending[key] = pending
        text = f"/{name} {args}".strip()
        mentions = self._mention_refs(interaction.guild, text)
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

    # ---------------------------------------------------------------- outbound

    async def _call(self, chat_key: str, call: Callable[[], Awaitable[T]]) -> T:
        async def guarded() -> T:
            try:
                return await call()
            except discord.Forbidden as exc:
                raise BotLacksPermission(f"Discord {exc.code}: {exc.text or 'Forbidden'}") from exc
            except discord.NotFound as exc:
                raise TargetNotFound(f"Discord {exc.code}: {exc.text or 'Not Found'}") from exc
            except discord.RateLimited as exc:
                raise RateLimited(exc.retry_after) from exc
            except discord.DiscordServerError as exc:
                raise TransportError(f"Discord {exc.status}: {exc.text}") from exc
            except discord.HTTPException as exc:
                if exc.status == 429:
                    raise RateLimited(1.0) from exc
                raise DiscordRequestRejected(f"Discord {exc.status}/{exc.code}: {exc.text}") from exc
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                raise TransportError(str(exc) or type(exc).__name__) from exc

        return await self.queue.run(chat_key, guarded)

    def _allowed(self, message: OutgoingMessage) -> discord.AllowedMentions:
        """Only the members the message lists in ``notify`` are pinged; never everyone, never roles.

        A mention outside ``notify`` still shows as a clickable name but sends no notification:
        features say whom to ping (a recall post, an escalated alert), so an alert that names the
        offender does not ping them, and a reply still notifies the member it answers.
        """
        users = [discord.Object(id=int(u.user_id)) for u in message.notify if u.user_id.isdigit()]
        return discord.AllowedMentions(
            everyone=False, roles=False, users=users, replied_user=not message.silent
        )

    def _custom_id(self, button: Button) -> str:
        custom_id = BUTTON_PREFIX + button.data
        if len(custom_id) <= MAX_CUSTOM_ID:
            return custom_id
        # Too long for Discord: a digest stands in. Only this run knows it, so say so.
        digest = DIGEST_PREFIX + hashlib.sha256(button.data.encode()).hexdigest()[:40]
        self._long_ids[digest] = button.data
        log.warning(
            "button data longer than %d characters will not survive a restart: %r",
            MAX_CUSTOM_ID - len(BUTTON_PREFIX),
            button.data[:40],
        )
        return digest

    def _view(self, message: OutgoingMessage) -> discord.ui.View | None:
        if not message.buttons:
            return None
        view = _StaticView(timeout=None)
        if len(message.buttons) > 5 or any(len(row) > 5 for row in message.buttons):
            # Discord shows at most 5 rows of 5 buttons; say so rather than drop them unnoticed.
            log.warning("Discord adapter %s: only 5 rows of 5 buttons fit; the rest are left out", self.name)
        for row, buttons in enumerate(message.buttons[:5]):
            for button in buttons[:5]:
                view.add_item(
                    discord.ui.Button(
                        label=button.text[:80] or "·",
                        row=row,
                        style=discord.ButtonStyle.secondary,
                        custom_id=self._custom_id(button),
                    )
                )
        return view

    def _file(self, message: OutgoingMessage) -> discord.File | None:
        return discord.File(message.image) if message.image else None

    def _live_pending(self, message_id: str | None) -> _Pending | None:
        if message_id is None:
            return None
        pending = self._pending.get(message_id)
        if pending is None or self.clock.now() >= pending.expires:
            return None
        return pending

    async def send(self, chat: ChatRef, message: OutgoingMessage) -> SentMessage:
        """Post (or reply), split at 2000 characters; buttons and a file ride on the last part."""
        chunks = render_chunks(message.parts)
        pending = self._live_pending(message.reply_to)
        allowed = self._allowed(message)
        last_id = 0
        if chunks == [""] and not message.image and not message.buttons:
            raise DiscordRequestRejected("an empty message: Discord refuses to post nothing")
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            view = self._view(message) if last else None
            file = self._file(message) if last else None
            if pending is not None:
                sent_id = await self._followup(chat, pending, chunk, allowed, view, file, message.silent)
            else:
                sent_id = await self._channel_send(
                    chat, message, chunk, allowed, view, file, first=index == 0
                )
            last_id = sent_id
        return SentMessage(chat=chat, message_id=str(last_id))

    async def _channel_send(
        self,
        chat: ChatRef,
        message: OutgoingMessage,
        chunk: str,
        allowed: discord.AllowedMentions,
        view: discord.ui.View | None,
        file: discord.File | None,
        *,
        first: bool,
    ) -> int:
        channel = self.client.get_partial_messageable(_snowflake(chat.channel_id), guild_id=_guild_id(chat))
        reference = None
        if first and message.reply_to and message.reply_to.isdigit():
            # A reply to a message deleted meanwhile (say, by moderation) still goes out, unthreaded.
            reference = discord.MessageReference(
                message_id=int(message.reply_to), channel_id=channel.id, fail_if_not_exists=False
            )
        kwargs: dict[str, Any] = {"allowed_mentions": allowed, "silent": message.silent}
        if reference is not None:
            kwargs["reference"] = reference
        if view is not None:
            kwargs["view"] = view
        if file is not None:
            kwargs["file"] = file

        async def call() -> int:
            sent = await channel.send(chunk or None, **kwargs)
            return sent.id

        return await self._call(chat.channel_id, call)

    async def _followup(
        self,
        chat: ChatRef,
        pending: _Pending,
        chunk: str,
        allowed: discord.AllowedMentions,
        view: discord.ui.View | None,
        file: discord.File | None,
        silent: bool,
    ) -> int:
        kwargs: dict[str, Any] = {"allowed_mentions": allowed, "wait": True, "silent": silent}
        if view is not None:
            kwargs["view"] = view
        if file is not None:
            kwargs["file"] = file

        async def call() -> int:
            sent = await pending.interaction.followup.send(chunk or "\u200b", **kwargs)
            assert sent is not None  # wait=True always returns the message
            return sent.id

        sent_id = await self._call(chat.channel_id, call)
        pending.replied = True
        pending.followups.add(sent_id)
        return sent_id

    async def edit(self, chat: ChatRef, message_id: str, message: OutgoingMessage) -> None:
        """Replace text and buttons (no buttons removes them); longer text is cut at 2000."""
        content = render(message.parts)
        if len(content) > MAX_CONTENT:
            content = render_chunks(message.parts, MAX_CONTENT - 1)[0] + "…"
        view = self._view(message)
        mid = _snowflake(message_id)
        owner = next((p for p in self._pending.values() if mid in p.followups), None)
        if owner is not None:
            # An answer to a slash command is the interaction's webhook message: edit it there.
            followup = owner.interaction.followup

            async def via_webhook() -> None:
                await followup.edit_message(
                    mid, content=content, view=view, allowed_mentions=self._allowed(message)
                )

            await self._call(f"{chat.channel_id}:edit", via_webhook)
            return
        partial = self.client.get_partial_messageable(_snowflake(chat.channel_id), guild_id=_guild_id(chat))

        async def call() -> None:
            await partial.get_partial_message(mid).edit(
                content=content, view=view, allowed_mentions=self._allowed(message)
            )

        await self._call(f"{chat.channel_id}:edit", call)

    async def delete(self, chat: ChatRef, message_id: str) -> None:
        """Delete a message (a slash command's id removes the bot's answer to it).

        Deletes queue apart from the channel's posts (Discord buckets them apart too), so removing
        a red hit never waits behind a burst of replies.
        """
        pending = self._pending.get(message_id)
        if pending is not None:
            interaction = pending.interaction

            async def remove_answer() -> None:
                await interaction.delete_original_response()

            await self._call(f"{chat.channel_id}:delete", remove_answer)
            return
        partial = self.client.get_partial_messageable(_snowflake(chat.channel_id), guild_id=_guild_id(chat))
        mid = _snowflake(message_id)

        async def call() -> None:
            await partial.get_partial_message(mid).delete()

        await self._call(f"{chat.channel_id}:delete", call)

    async def _guild(self, chat: ChatRef) -> discord.Guild:
        if chat.is_private:
            raise TargetNotFound("a private chat has no server")
        gid = _snowflake(chat.scope_id)
        guild = self.client.get_guild(gid)
        if guild is not None:
            return guild
        return await self._call(_members_key(chat), lambda: self.client.fetch_guild(gid))

    async def _member(self, chat: ChatRef, user_id: str) -> discord.Member:
        guild = await self._guild(chat)
        uid = _snowflake(user_id)
        member = guild.get_member(uid)
        if member is not None:
            return member
        return await self._call(_members_key(chat), lambda: guild.fetch_member(uid))

    async def mute(self, chat: ChatRef, user_id: str, until: datetime | None) -> None:
        """Time the member out. Discord caps a timeout at 28 days: longer or indefinite is refused."""
        now = self.clock.now()
        if until is None or until - now > MAX_TIMEOUT:
            raise TimeoutTooLong(self.name, self.t(self.default_language, "discord.timeout_too_long"))
        member = await self._member(chat, user_id)
        if until <= now:
            await self._call(_members_key(chat), lambda: member.timeout(None, reason="Qunyou: mute ended"))
            return
        await self._call(_members_key(chat), lambda: member.timeout(until, reason="Qunyou moderation"))

    async def unmute(self, chat: ChatRef, user_id: str) -> None:
        """Lift the timeout."""
        member = await self._member(chat, user_id)
        await self._call(_members_key(chat), lambda: member.timeout(None, reason="Qunyou: unmuted"))

    async def ban(self, chat: ChatRef, user_id: str, until: datetime | None) -> None:
        """Ban. Discord bans do not expire: a temporary ban is lifted by the core's scheduled unban."""
        guild = await self._guild(chat)
        target = discord.Object(id=_snowflake(user_id))
        await self._call(
            _members_key(chat),
            lambda: guild.ban(target, reason="Qunyou moderation", delete_message_seconds=0),
        )

    async def unban(self, chat: ChatRef, user_id: str) -> None:
        """Lift a ban."""
        guild = await self._guild(chat)
        target = discord.Object(id=_snowflake(user_id))
        await self._call(_members_key(chat), lambda: guild.unban(target, reason="Qunyou: unbanned"))

    async def kick(self, chat: ChatRef, user_id: str) -> None:
        """Remove the member; they may rejoin with an invite."""
        guild = await self._guild(chat)
        target = discord.Object(id=_snowflake(user_id))
        await self._call(_members_key(chat), lambda: guild.kick(target, reason="Qunyou moderation"))

    async def get_role(self, chat: ChatRef, user_id: str) -> Role:
        """Owner → owner; Administrator or Manage Server → admin; Moderate Members or Manage
        Messages → moderator; everyone else (and anyone in a DM) → member."""
        if chat.is_private:
            return Role.MEMBER
        member = await self._member(chat, user_id)
        if member.guild.owner_id == member.id:
            return Role.OWNER
        perms = member.guild_permissions
        if perms.administrator or perms.manage_guild:
            return Role.ADMIN
        if perms.moderate_members or perms.manage_messages:
            return Role.MODERATOR
        return Role.MEMBER

    async def send_private(self, user_id: str, message: OutgoingMessage) -> SentMessage:
        """Open (or reuse) the DM channel and post there."""
        uid = _snowflake(user_id)
        user = self.client.get_user(uid)
        if user is None:
            user = await self._call(f"dm:{user_id}", lambda: self.client.fetch_user(uid))
        dm = user.dm_channel
        if dm is None:
            dm = await self._call(f"dm:{user_id}", user.create_dm)
        chat = ChatRef(PLATFORM, self.name, user_id, str(dm.id), kind="private")
        return await self.send(chat, message)

    def default_moderator_chat(self, chat: ChatRef) -> ChatRef | None:
        """The configured moderator channel, when it belongs to this server (an id or a name)."""
        wanted = self.config.moderator_channel.strip().lstrip("#")
        if not wanted or chat.is_private:
            return None
        guild = self.client.get_guild(_snowflake(chat.scope_id))
        if guild is None:
            return None
        channel: discord.abc.GuildChannel | None
        if wanted.isdigit():
            channel = guild.get_channel(int(wanted))
        else:
            channel = discord.utils.get(guild.text_channels, name=wanted)
        if channel is None:
            return None
        return ChatRef(PLATFORM, self.name, chat.scope_id, str(channel.id), kind="group", title=guild.name)

    async def level_reached(self, chat: ChatRef, user_id: str, level: int) -> None:
        """Give the role configured for the highest level reached, and take back the other ones."""
        if not self.config.level_roles or chat.is_private:
            return
        reached = [lv for lv in self.config.level_roles if lv <= level]
        if not reached:
            return
        member = await self._member(chat, user_id)
        target = self.config.level_roles[max(reached)]
        others = {rid for lv, rid in self.config.level_roles.items() if rid != target}
        have = {str(r.id) for r in member.roles}
        if target not in have:
            role = discord.Object(id=int(target))
            reason = f"Qunyou level {level}"
            await self._call(_members_key(chat), lambda: member.add_roles(role, reason=reason))
        stale = [discord.Object(id=int(r)) for r in others & have]
        if stale:
            why = f"Qunyou level {level}"
            await self._call(_members_key(chat), lambda: member.remove_roles(*stale, reason=why))


def _parts(text: str) -> tuple[Any, ...]:
    return OutgoingMessage.of(text).parts


def _members_key(chat: ChatRef) -> str:
    # Member actions have their own rate-limit buckets on Discord: keep them out of the channel's
    # message queue, so a timeout never waits behind a burst of replies.
    return f"members:{chat.scope_id}"


def _guild_id(chat: ChatRef) -> int | None:
    return None if chat.is_private or not chat.scope_id.isdigit() else int(chat.scope_id)


def _snowflake(value: str) -> int:
    """A Discord id from our string id; a garbled one is a target that cannot exist."""
    if not value.isdigit():
        raise TargetNotFound(f"not a Discord id: {value!r}")
    return int(value)
