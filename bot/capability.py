"""What a platform can do: the ``Capability`` values an adapter declares.

Its own module, below both ``bot.adapter`` and ``bot.errors`` (``CapabilityNotSupported`` names
one), so neither has to import the other.
"""

from __future__ import annotations

from enum import StrEnum


class Capability(StrEnum):
    """What a platform can do; features degrade or alert when one is missing."""

    SEND = "send"
    REPLY = "reply"
    EDIT = "edit"
    DELETE = "delete"
    MUTE = "mute"
    UNMUTE = "unmute"
    BAN = "ban"
    UNBAN = "unban"
    KICK = "kick"
    ROLE_LOOKUP = "get_role"
    PRIVATE = "send_private"
    BUTTONS = "buttons"
    IMAGES = "images"
    MENTIONS = "mentions"
    EDIT_EVENTS = "edit_events"
    INBOUND = "inbound"
    #: Answering join requests (``JoinRequested``): OneBot and the console.
    JOIN_REQUESTS = "join_requests"
    #: Granting and taking back platform roles on request (``Adapter.grant_role``): Discord,
    #: whose self-assigned roles back the interest circles.
    ROLES = "roles"
    #: The platform's own poll (``Adapter.send_poll`` / ``stop_poll``), whose answers come back
    #: as ``PollAnswered``: Telegram and Discord. Elsewhere polls are a post with buttons.
    NATIVE_POLLS = "native_polls"


#: Every capability Telegram and Discord have (their join requests are not screened by the bot;
#: only Discord has roles a member can be given, so it adds ``ROLES`` itself).
ALL_CAPABILITIES: frozenset[Capability] = frozenset(Capability) - {
    Capability.JOIN_REQUESTS,
    Capability.ROLES,
    Capability.NATIVE_POLLS,
}
