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
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import aiohttp
import discord
from discord import app_commands

from adapters.discord.actions import ActionsMixin
from adapters.discord.client import (
    PLATFORM,
    Client,
    GatewayState,
    Pending,
    ShardedClient,
    Tree,
    wanted_intents,
)
from adapters.discord.commands import CommandsMixin, SlashSpec, Translator, slash_specs
from adapters.discord.config import DiscordConfig
from adapters.discord.errors import DiscordRequestRejected, TimeoutTooLong
from adapters.discord.normalize import InboundMixin, language_of
from adapters.discord.polls import NativePolls
from adapters.discord.render import MAX_CONTENT
from bot.adapter import ALL_CAPABILITIES, Adapter, AdapterHost, Capability
from bot.clock import Clock, SystemClock
from bot.errors import ConfigError, TransportError
from bot.events import ChatRef, SentMessage
from bot.i18n import DEFAULT_LANGUAGE
from bot.outbound import Limit, OutboundQueue

log = logging.getLogger(__name__)

__all__ = ["DiscordAdapter", "DiscordRequestRejected", "TimeoutTooLong", "language_of"]


#: What the bot needs in every server: timeouts (mute, join verification), kicks (a newcomer who
#: failed verification), bans (spam, raids) and deleting others' messages.
NEEDED_PERMISSIONS: tuple[str, ...] = ("moderate_members", "kick_members", "ban_members", "manage_messages")
#: Discord's own names for them, as server settings show them.
PERMISSION_NAMES: dict[str, str] = {
    "moderate_members": "Timeout Members",
    "kick_members": "Kick Members",
    "ban_members": "Ban Members",
    "manage_messages": "Manage Messages",
    "manage_roles": "Manage Roles",
}


class DiscordAdapter(InboundMixin, CommandsMixin, ActionsMixin, Adapter):
    """One Discord bot account."""

    platform = PLATFORM
    #: Roles too: a circle may be bound to a role that joining grants (the self-role habit);
    #: and Discord's own polls (``adapters/discord/polls.py``).
    capabilities = ALL_CAPABILITIES | {Capability.ROLES, Capability.NATIVE_POLLS}
    max_text_length = MAX_CONTENT

    def __init__(
        self,
        name: str,
        config: DiscordConfig,
        token: str,
        *,
        clock: Clock | None = None,
        default_language: str = DEFAULT_LANGUAGE,
        client_setup: Callable[[discord.Client], None] | None = None,
    ) -> None:
        super().__init__(name)
        self.config = config
        self._token = token
        self.clock: Clock = clock or SystemClock()
        self.default_language = default_language
        #: Called on every client the adapter builds, before it logs in (tests install fakes here).
        self.client_setup = client_setup
        self._host: AdapterHost | None = None
        #: The slash commands offered, from the host's command table (known after ``start``).
        self.slash: list[SlashSpec] = []
        self._gateway: asyncio.Task[None] | None = None
        #: The gateway session(s) as discord.py reports them (``connected``).
        self.gateway = GatewayState()
        self._warnings: list[str] = []
        #: Per server: the permissions the bot lacks there (replaced when the server is seen again).
        self._guild_warnings: dict[int, str] = {}
        self._pending: dict[str, Pending] = {}
        self._long_ids: dict[str, str] = {}
        # Discord allows about 5 messages per 5 s into one channel and 50 requests/s overall;
        # discord.py also obeys the server's buckets, this just keeps our bursts polite.
        self.queue = OutboundQueue(per_chat=Limit(5, 5.0), overall=Limit(50, 1.0))
        self.client = self._make_client(wanted_intents())
        self.polls = NativePolls(name, lambda: self.client, self._call)
        if not config.native_polls:  # the operator keeps polls as posts with buttons
            self.capabilities = self.capabilities - {Capability.NATIVE_POLLS}

    # ---------------------------------------------------------------- lifecycle

    def t(self, lang: str, key: str, /, **values: Any) -> str:
        """The adapter's own strings, from the shared catalogs through the host.

        Before ``start`` there is no host: the key itself stands in (nothing is shown then).
        """
        if self._host is None:
            return key
        return self._host.translate(lang, key, **values)

    def _make_client(self, intents: discord.Intents) -> Client:
        count, ids = self.config.shard_count, self.config.shard_ids
        client: Client
        if count is None:
            client = Client(self, intents=intents)
        elif len(ids) == 1:
            client = Client(self, intents=intents, shard_id=ids[0], shard_count=count)
        else:
            # Every shard (Discord's recommended count when 0), or the listed ones, in this worker.
            client = ShardedClient(self, intents=intents, shard_count=count or None, shard_ids=ids or None)
        self.tree: app_commands.CommandTree[Any] = Tree(client, self)
        self._fill_tree()
        if self.client_setup is not None:
            self.client_setup(client)
        return client

    def _fill_tree(self) -> None:
        """The tree's commands: one per slash spec, and the report message menu."""
        self.tree.clear_commands(guild=None)
        for spec in self.slash:
            self.tree.add_command(self._slash_command(spec))
        self.tree.add_command(self._report_menu())

    async def start(self, host: AdapterHost) -> None:
        """Log in, check the privileged intents, and connect to the gateway in a task.

        The slash commands are generated here, from the host's command table.
        """
        self._host = host
        self._warnings = []
        self.gateway = GatewayState()
        self.slash = slash_specs(host)
        if self.client.is_closed():
            # A discord.py client does not reconnect once closed: a restart gets a fresh one.
            self.client = self._make_client(wanted_intents())
        else:
            self._fill_tree()
        await self.tree.set_translator(Translator(self))
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
            intents = wanted_intents()
            intents.message_content = content_ok
            intents.members = members_ok
            await self.client.close()
            self.client = self._make_client(intents)
            await self.tree.set_translator(Translator(self))
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
            # Close the HTTP session discord.py opened for the attempt: left open, aiohttp
            # prints "Unclosed client session" around the one line that matters.
            await self.client.close()
            raise ConfigError(
                f"adapters.{self.name}.token_env: Discord refused the token in "
                f"{self.config.token_env} ({exc})"
            ) from exc
        except (discord.HTTPException, aiohttp.ClientError, OSError) as exc:
            await self.client.close()
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

    def check_permissions(self, guild: discord.Guild) -> list[str]:
        """The server permissions moderation, spam defence and join verification need that the bot
        lacks in ``guild`` (Discord's names); each server missing some is one warning.

        Called when a server becomes available (after start and on joining one), since the bot's
        roles are only known then.
        """
        me = guild.me
        if me is None:
            return []
        have = me.guild_permissions
        if have.administrator:
            return []
        needed = list(NEEDED_PERMISSIONS)
        if self.config.verified_role:
            needed.append("manage_roles")
        missing = [name for name in needed if not getattr(have, name)]
        if missing:
            names = ", ".join(PERMISSION_NAMES.get(m, m) for m in missing)
            text = self.t(
                self.default_language,
                "discord.missing_permissions",
                name=self.name,
                server=guild.name,
                missing=names,
            )
            log.warning("%s", text)
            self._guild_warnings[guild.id] = text
        else:
            self._guild_warnings.pop(guild.id, None)
        return missing

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

    @property
    def connected(self) -> bool:
        """True while the gateway is up: logged in, the gateway task running, the client not
        closed, a READY seen and no session lost since without a RESUMED or a new READY.

        discord.py reconnects on its own after a drop, so ``/readyz`` and the desk's watchdog see
        the gap; logging in (REST) alone is not being connected.
        """
        task = self._gateway
        return (
            self.me is not None
            and task is not None
            and not task.done()
            and not self.client.is_closed()
            and self.gateway.ok
        )

    def outbound_backlog(self) -> int:
        """Calls waiting in the outbound queue (the desk's watchdog)."""
        return self.queue.pending

    def warnings(self) -> list[str]:
        """Missing privileged intents and permissions, and gateway failures, for ``/status``."""
        return [*self._warnings, *self._guild_warnings.values()]

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

    # ---------------------------------------------------------------- native polls

    async def send_poll(
        self,
        chat: ChatRef,
        question: str,
        options: tuple[str, ...],
        *,
        multi: bool,
        anonymous: bool,
        closes_at: datetime | None = None,
    ) -> SentMessage:
        """Discord's own poll, where its limits fit (see ``adapters.discord.polls``)."""
        now = self.clock.now()
        return await self.polls.send(
            chat, question, options, multi=multi, anonymous=anonymous, now=now, closes_at=closes_at
        )

    async def stop_poll(self, chat: ChatRef, message_id: str) -> None:
        """End the poll: it shows its final counts and takes no more votes."""
        await self.polls.stop(chat, message_id)

    def track_poll(self, chat: ChatRef, message_id: str, poll_id: str) -> None:
        """Remember an open poll after a restart, so its votes are ours to count."""
        self.polls.track(message_id)

    async def _on_poll_vote(self, payload: discord.RawPollVoteActionEvent, added: bool) -> None:
        if payload.guild_id is None or str(payload.message_id) not in self.polls.polls:
            return
        guild = self.client.get_guild(payload.guild_id)
        if guild is None:
            return
        user = guild.get_member(payload.user_id)
        if user is None:
            try:
                user = await guild.fetch_member(payload.user_id)
            except discord.HTTPException:
                log.info("Discord adapter %s: poll vote by unknown member %s", self.name, payload.user_id)
                return
        if user.bot:
            return
        chat = self._chat_ref(guild, payload.channel_id, payload.user_id)
        event = self.polls.event(payload, chat, self._user_ref(user), self.clock.now(), added)
        if event is not None:
            self._submit(event)
