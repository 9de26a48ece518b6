"""The adapter interface every platform implements, and the capabilities it declares.

An action the platform cannot do raises ``CapabilityNotSupported``; it never silently does
nothing. Platform errors are mapped to the core errors in ``bot.errors``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from bot.capability import ALL_CAPABILITIES, Capability
from bot.errors import CapabilityNotSupported
from bot.events import ChatRef, SentMessage, UserRef
from bot.host import AdapterHost, CommandInfo, EventSink
from bot.messages import OutgoingMessage
from bot.roles import Role

__all__ = [
    "ALL_CAPABILITIES",
    "Adapter",
    "AdapterConfig",
    "AdapterFactory",
    "AdapterHost",
    "Capability",
    "CommandInfo",
    "EventSink",
]


class AdapterConfig(BaseModel):
    """Base of every adapter's config section; unknown keys are an error."""

    model_config = ConfigDict(extra="forbid")

    type: str


class Adapter(ABC):
    """A connection to one platform account, named by its config section."""

    platform: str = "unknown"
    capabilities: frozenset[Capability] = frozenset()
    #: The longest text one message may carry; longer text is split by the adapter.
    max_text_length: int = 4096
    #: The most members one message should mention: posts naming many members (a circle's ping)
    #: are split into messages of at most this many. 20 stays under Discord AutoMod's usual
    #: mention-spam threshold and keeps Telegram and QQ posts short; an adapter may lower it.
    max_mentions: int = 20
    #: False when roles change too often to cache (the console); the core then asks every time.
    role_cache_ok: bool = True

    def __init__(self, name: str) -> None:
        self.name = name
        #: The bot's own account on this platform, known after ``start``.
        self.me: UserRef | None = None

    def supports(self, capability: Capability) -> bool:
        """True when the platform can do ``capability``."""
        return capability in self.capabilities

    def _unsupported(self, capability: Capability) -> CapabilityNotSupported:
        return CapabilityNotSupported(capability, self.name)

    @abstractmethod
    async def start(self, host: AdapterHost) -> None:
        """Connect and start delivering events to ``host.submit``; returns without blocking."""

    @abstractmethod
    async def stop(self) -> None:
        """Disconnect, flushing what is queued."""

    @property
    def connected(self) -> bool:
        """True while the platform connection is up, for ``/readyz``; by default, once the bot
        knows its own account (adapters with a connection that can drop say more)."""
        return self.me is not None

    def outbound_backlog(self) -> int:
        """Outbound calls waiting in this adapter's queue (0 for an adapter without one)."""
        return 0

    def warnings(self) -> list[str]:
        """Problems found at start-up (missing rights, privacy mode, intents) for ``/status``."""
        return []

    def status_line(self) -> str:
        """A one-line description for ``/status``."""
        return f"{self.name} ({self.platform})"

    def default_moderator_chat(self, chat: ChatRef) -> ChatRef | None:
        """Where moderator alerts go when a group has not linked a moderator chat."""
        return None

    def moderated_scope(self, chat: ChatRef) -> str | None:
        """The reverse of ``default_moderator_chat``: the scope whose conventional moderator
        chat ``chat`` is, when the platform names one in another scope (else None)."""
        return None

    async def send(self, chat: ChatRef, message: OutgoingMessage) -> SentMessage:
        """Post a message (a reply when ``message.reply_to`` is set)."""
        raise self._unsupported(Capability.SEND)

    async def edit(self, chat: ChatRef, message_id: str, message: OutgoingMessage) -> None:
        """Replace the text (and buttons) of one of the bot's own messages."""
        raise self._unsupported(Capability.EDIT)

    async def delete(self, chat: ChatRef, message_id: str) -> None:
        """Delete a message."""
        raise self._unsupported(Capability.DELETE)

    async def mute(self, chat: ChatRef, user_id: str, until: datetime | None) -> None:
        """Stop a member from posting until ``until`` (None: until unmuted)."""
        raise self._unsupported(Capability.MUTE)

    async def unmute(self, chat: ChatRef, user_id: str) -> None:
        """Let a muted member post again."""
        raise self._unsupported(Capability.UNMUTE)

    async def ban(self, chat: ChatRef, user_id: str, until: datetime | None) -> None:
        """Remove a member and keep them out until ``until`` (None: for good)."""
        raise self._unsupported(Capability.BAN)

    async def unban(self, chat: ChatRef, user_id: str) -> None:
        """Lift a ban."""
        raise self._unsupported(Capability.UNBAN)

    async def kick(self, chat: ChatRef, user_id: str) -> None:
        """Remove a member who may come back."""
        raise self._unsupported(Capability.KICK)

    async def get_role(self, chat: ChatRef, user_id: str) -> Role:
        """The member's role as the platform sees it."""
        raise self._unsupported(Capability.ROLE_LOOKUP)

    async def send_private(self, user_id: str, message: OutgoingMessage) -> SentMessage:
        """Send a one-to-one message."""
        raise self._unsupported(Capability.PRIVATE)

    async def fetch_image(self, ref: str, limit: int) -> bytes:
        """The bytes of a picture members sent (``MessageEvent.image`` / ``reply_to_image``).

        At most ``limit + 1`` bytes are read, so the caller can refuse a picture that is too big
        without holding all of it. Raises ``CapabilityNotSupported`` where pictures cannot be
        fetched, ``TransportError`` when the platform does not give them."""
        raise self._unsupported(Capability.IMAGES)

    async def grant_role(self, chat: ChatRef, user_id: str, role_id: str) -> None:
        """Give the member the platform role ``role_id`` in ``chat``'s server (a circle bound to
        a Discord role); harmless when they have it already."""
        raise self._unsupported(Capability.ROLES)

    async def revoke_role(self, chat: ChatRef, user_id: str, role_id: str) -> None:
        """Take the platform role ``role_id`` back; harmless when they do not have it."""
        raise self._unsupported(Capability.ROLES)

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
        """Post the platform's own poll; ``SentMessage.extra["poll_id"]`` is its id there, the
        one ``PollAnswered.poll_id`` carries back. ``closes_at`` is when the core will close it
        (None: open until closed by hand); a platform whose polls must end sooner, or that
        would refuse this one, raises ``CapabilityNotSupported`` and the core posts buttons."""
        raise self._unsupported(Capability.NATIVE_POLLS)

    async def stop_poll(self, chat: ChatRef, message_id: str) -> None:
        """Close a native poll: nobody can vote any more and the platform shows final counts."""
        raise self._unsupported(Capability.NATIVE_POLLS)

    def track_poll(self, chat: ChatRef, message_id: str, poll_id: str) -> None:
        """Remember where an open native poll lives (after a restart), so its answers, which the
        platform sends without a chat, can be delivered as ``PollAnswered`` in the right group.

        Optional by nature: adapters without native polls have nothing to remember."""
        return None

    async def answer_join_request(self, chat: ChatRef, request_id: str, approve: bool, reason: str) -> None:
        """Let an applicant in, or turn them away with ``reason`` (``JoinRequested``)."""
        raise self._unsupported(Capability.JOIN_REQUESTS)

    async def verified(self, chat: ChatRef, user_id: str) -> None:
        """A newcomer passed join verification: grant what the platform ties to it, where it has
        such a thing (Discord: the configured member role). Lifting the restriction is ``unmute``.

        Optional by nature, so the default has nothing to do rather than raising.
        """
        return None

    async def level_reached(self, chat: ChatRef, user_id: str, level: int) -> None:
        """A member reached ``level``: apply the platform's level rewards, where it has any.

        Optional by nature (Discord grants configured roles; most platforms have no such thing),
        so the default has nothing to do rather than raising.
        """
        return None


class AdapterFactory(Protocol):
    """What an adapter module exports for the app to build it from config."""

    def __call__(self, name: str, config: Any, env: Mapping[str, str]) -> Adapter:
        """Build the adapter; raise ``ConfigError`` for a missing secret."""
        ...
