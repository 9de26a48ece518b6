"""The connection to Discord: discord.py's client, command tree and button view, and the state
the adapter's parts share (a pending slash command, the custom-id prefixes).

The client forwards gateway events to the adapter's inbound handlers (``normalize.py``); the tree
answers its own failures through the command-sync part (``commands.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

if TYPE_CHECKING:
    from adapters.discord.adapter import DiscordAdapter

PLATFORM = "discord"
#: Prefix of every button custom id the bot posts; anything else belongs to someone else.
BUTTON_PREFIX = "qy:"
#: Custom ids longer than Discord's 100 characters are replaced by a digest under this prefix.
DIGEST_PREFIX = "qy#"
MAX_CUSTOM_ID = 100
#: An interaction token (for followups) lives 15 minutes; stop using it a little before.
INTERACTION_WINDOW = timedelta(minutes=14)


def wanted_intents() -> discord.Intents:
    """The intents the adapter asks for: message content and members (both privileged), and
    the default ones, which include poll votes (``guild_polls``) for native polls."""
    intents = discord.Intents.default()
    intents.message_content = True
    intents.members = True
    return intents


@dataclass(slots=True)
class Pending:
    """A slash command awaiting its answer: the reply goes back as the interaction's followup."""

    interaction: discord.Interaction[Any]
    expires: datetime
    replied: bool = False
    followups: set[int] = field(default_factory=set)


class StaticView(discord.ui.View):
    """Buttons only. Presses are handled from the raw interaction stream by custom id, so the
    view must not be stored in discord.py's view store (that would keep every message's view in
    memory forever, and it would not survive a restart anyway)."""

    def is_dispatchable(self) -> bool:
        return False


# A text bot never joins voice: discord.py's start-up warnings that PyNaCl and davey (voice
# encryption) are not installed only alarm operators. Both flags are discord.py's own switches
# for printing that warning once; turning them off before the first client is built silences it.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False


class Client(discord.Client):
    """discord.py's client with its gateway events forwarded to the adapter."""

    def __init__(self, adapter: DiscordAdapter, *, intents: discord.Intents, **options: Any) -> None:
        super().__init__(
            intents=intents,
            # Nobody is pinged unless a message says so explicitly (see DiscordAdapter._mentions).
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
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

    async def on_raw_poll_vote_add(self, payload: discord.RawPollVoteActionEvent) -> None:
        await self._qy._on_poll_vote(payload, True)

    async def on_raw_poll_vote_remove(self, payload: discord.RawPollVoteActionEvent) -> None:
        await self._qy._on_poll_vote(payload, False)

    async def on_guild_available(self, guild: discord.Guild) -> None:
        self._qy.check_permissions(guild)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        self._qy.check_permissions(guild)

    # The gateway session, for ``DiscordAdapter.connected``: discord.py dispatches ``connect`` on
    # READY, ``resumed`` on RESUMED and ``disconnect`` whenever the websocket is lost (before it
    # reconnects on its own).
    async def on_connect(self) -> None:
        self._qy.gateway.up(None)

    async def on_resumed(self) -> None:
        self._qy.gateway.up(None)

    async def on_disconnect(self) -> None:
        self._qy.gateway.lost(None)


class GatewayState:
    """Whether the gateway sessions are up: none has been seen yet, or some shard is lost.

    Kept by the adapter (a fresh client after a restart starts from "not yet").
    """

    def __init__(self) -> None:
        self.seen = False
        #: Shards whose session dropped and has not come back (``None``: the unsharded one).
        self.down: set[int | None] = set()

    def up(self, shard: int | None) -> None:
        self.seen = True
        self.down.discard(shard)

    def lost(self, shard: int | None) -> None:
        self.down.add(shard)

    @property
    def ok(self) -> bool:
        return self.seen and not self.down


class Tree(app_commands.CommandTree[Any]):
    """The command tree, answering its own failures instead of leaving "interaction failed"."""

    def __init__(self, client: discord.Client, adapter: DiscordAdapter) -> None:
        super().__init__(client)
        self._qy = adapter

    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError, /
    ) -> None:
        await self._qy._on_tree_error(interaction, error)


class ShardedClient(Client, discord.AutoShardedClient):
    """The same client over several shards in one process (discord.py's ``AutoShardedClient``).

    Each shard's session is tracked by its id (``shard_*`` events); the shard-less ``connect`` /
    ``disconnect`` that discord.py also dispatches are ignored here.
    """

    async def on_connect(self) -> None:
        return None

    async def on_resumed(self) -> None:
        return None

    async def on_disconnect(self) -> None:
        return None

    async def on_shard_connect(self, shard_id: int) -> None:
        self._qy.gateway.up(shard_id)

    async def on_shard_resumed(self, shard_id: int) -> None:
        self._qy.gateway.up(shard_id)

    async def on_shard_disconnect(self, shard_id: int) -> None:
        self._qy.gateway.lost(shard_id)
