"""Inbound: discord.py messages, edits, joins, leaves and button presses as core events.

Mentions (``<@id>``) read as ``@username`` with matching segments; a typed custom prefix reads
as ``/``; every event is made encodable (``clean_event``) before it reaches the host.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from adapters.discord.client import BUTTON_PREFIX, DIGEST_PREFIX, PLATFORM
from bot.events import ButtonPressed, ChatRef, MemberJoined, MemberLeft, MessageEvent, Segment, UserRef
from bot.text import clean_event

if TYPE_CHECKING:
    from adapters.discord.config import DiscordConfig
    from bot.clock import Clock
    from bot.host import AdapterHost

log = logging.getLogger("adapters.discord.adapter")

#: Languages we ship, and the Discord locales that map to each.
LOCALES: dict[str, tuple[discord.Locale, ...]] = {
    "zh-CN": (discord.Locale.chinese, discord.Locale.taiwan_chinese),
    "en": (discord.Locale.american_english, discord.Locale.british_english),
}
#: Message types that carry something a member said (default and reply); joins, pins… do not.
CHAT_TYPES = (discord.MessageType.default, discord.MessageType.reply)
MENTION = re.compile(r"<@!?(\d{15,21})>")


def language_of(locale: discord.Locale | None) -> str | None:
    """Our language code for a Discord locale, or None when we ship no such language."""
    if locale is None:
        return None
    for lang, locales in LOCALES.items():
        if locale in locales:
            return lang
    return None


class InboundMixin:
    """The adapter's inbound half: gateway events in, core events out through the host."""

    name: str
    config: DiscordConfig
    clock: Clock
    client: discord.Client
    _host: AdapterHost | None
    _long_ids: dict[str, str]

    if TYPE_CHECKING:

        async def _maybe_sync(self, message: discord.Message) -> bool: ...

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
        for user_id in MENTION.findall(text):
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
        for match in MENTION.finditer(text):
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
        reply_image: str | None = None
        ref = message.reference
        if ref is not None and ref.message_id is not None and message.type == discord.MessageType.reply:
            reply_to = str(ref.message_id)
            if isinstance(ref.resolved, discord.Message):
                reply_user = self._user_ref(ref.resolved.author)
                reply_image = next(
                    (a.url for a in ref.resolved.attachments if (a.content_type or "").startswith("image/")),
                    None,
                )
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
            reply_to_image=reply_image,
        )

    def _submit(self, event: Any) -> asyncio.Task[None] | None:
        if self._host is None:
            log.debug("Discord adapter %s: event before start, dropped", self.name)
            return None
        # Made encodable here, once, for every inbound event: a lone surrogate (a client bug)
        # would otherwise fail far inside the core (the database, the log).
        return self._host.submit(clean_event(event))

    # ---------------------------------------------------------------- inbound

    async def _on_message(self, message: discord.Message) -> None:
        me = self.client.user
        if me is not None and message.author.id == me.id:
            return
        if message.type not in CHAT_TYPES or message.webhook_id is not None:
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
        if message.type not in CHAT_TYPES or message.webhook_id is not None:
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
