"""Discord failures as core errors, and the id helpers every request goes through."""

from __future__ import annotations

from bot.capability import Capability
from bot.errors import CapabilityNotSupported, QunyouError, TargetNotFound
from bot.events import ChatRef


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


def members_key(chat: ChatRef) -> str:
    # Member actions have their own rate-limit buckets on Discord: keep them out of the channel's
    # message queue, so a timeout never waits behind a burst of replies.
    return f"members:{chat.scope_id}"


def guild_id(chat: ChatRef) -> int | None:
    return None if chat.is_private or not chat.scope_id.isdigit() else int(chat.scope_id)


def snowflake(value: str) -> int:
    """A Discord id from our string id; a garbled one is a target that cannot exist."""
    if not value.isdigit():
        raise TargetNotFound(f"not a Discord id: {value!r}")
    return int(value)
