"""Core errors: adapters map platform failures onto these; handlers catch only these."""

from __future__ import annotations

from bot.capability import Capability


class QunyouError(Exception):
    """Base of every error the core defines."""


class CapabilityNotSupported(QunyouError):
    """The platform cannot do this action at all (never a silent no-op)."""

    def __init__(self, capability: Capability, adapter: str = "") -> None:
        self.capability = capability
        self.adapter = adapter
        super().__init__(f"{adapter or 'adapter'} cannot {capability.value}")


class BotLacksPermission(QunyouError):
    """The platform could do it, but the bot has not been given the right."""


class TargetNotFound(QunyouError):
    """The chat, member or message no longer exists on the platform."""


class RateLimited(QunyouError):
    """The platform asked us to wait ``retry_after`` seconds."""

    def __init__(self, retry_after: float, message: str = "") -> None:
        self.retry_after = retry_after
        super().__init__(message or f"rate limited, retry after {retry_after}s")


class TransportError(QunyouError):
    """The network or the platform failed in a way that may pass."""


class ConfigError(QunyouError):
    """The configuration is invalid; the message names the key path and the reason."""
