"""The shared adapter contract: every adapter's tests call these with its own harness.

1. every action the adapter does not declare raises ``CapabilityNotSupported``;
2. every action it declares reaches the platform (the caller passes a probe that tells whether a
   platform call was made since the last probe);
3. a canonical inbound message becomes the expected ``MessageEvent``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.adapter import Adapter, Capability
from bot.errors import CapabilityNotSupported
from bot.events import ChatRef, MessageEvent
from bot.messages import OutgoingMessage

UNTIL = datetime(2030, 1, 1, tzinfo=UTC) + timedelta(hours=1)


def _actions(
    adapter: Adapter, chat: ChatRef, user_id: str, message_id: str
) -> dict[Capability, Callable[[], Awaitable[object]]]:
    msg = OutgoingMessage.of("contract")
    return {
        Capability.SEND: lambda: adapter.send(chat, msg),
        Capability.EDIT: lambda: adapter.edit(chat, message_id, msg),
        Capability.DELETE: lambda: adapter.delete(chat, message_id),
        Capability.MUTE: lambda: adapter.mute(chat, user_id, UNTIL),
        Capability.UNMUTE: lambda: adapter.unmute(chat, user_id),
        Capability.BAN: lambda: adapter.ban(chat, user_id, UNTIL),
        Capability.UNBAN: lambda: adapter.unban(chat, user_id),
        Capability.KICK: lambda: adapter.kick(chat, user_id),
        Capability.ROLE_LOOKUP: lambda: adapter.get_role(chat, user_id),
        Capability.PRIVATE: lambda: adapter.send_private(user_id, msg),
    }


async def check_undeclared_raise(adapter: Adapter, chat: ChatRef, user_id: str, message_id: str) -> int:
    """Every action outside ``adapter.capabilities`` raises; returns how many were checked."""
    checked = 0
    for capability, call in _actions(adapter, chat, user_id, message_id).items():
        if capability in adapter.capabilities:
            continue
        with pytest.raises(CapabilityNotSupported):
            await call()
        checked += 1
    return checked


async def check_declared_reach_platform(
    adapter: Adapter,
    chat: ChatRef,
    user_id: str,
    message_id: str,
    platform_called: Callable[[], bool],
) -> int:
    """Every declared action makes a platform call; returns how many were checked."""
    checked = 0
    for capability, call in _actions(adapter, chat, user_id, message_id).items():
        if capability not in adapter.capabilities:
            continue
        platform_called()  # reset the probe
        await call()
        assert platform_called(), f"{adapter.name}: {capability.value} made no platform call"
        checked += 1
    return checked


def check_inbound_text(event: object, *, chat: ChatRef, user_id: str, text: str) -> None:
    """A canonical inbound text message normalized as the core expects."""
    assert isinstance(event, MessageEvent)
    assert event.chat.platform == chat.platform
    assert event.chat.scope_id == chat.scope_id
    assert event.chat.channel_id == chat.channel_id
    assert event.sender.user_id == user_id
    assert event.text == text
    assert event.at.tzinfo is not None
    assert event.event_id
