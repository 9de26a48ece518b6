"""The ``[adapters.<name>]`` section for a Discord bot."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from bot.adapter import AdapterConfig


class DiscordConfig(AdapterConfig):
    """Settings of one Discord bot account. The token itself comes from the environment."""

    type: Literal["discord"] = "discord"
    #: The environment variable holding the bot token (never the token itself).
    token_env: str = "DISCORD_BOT_TOKEN"
    #: Prefix for typed commands (``!checkin``); ``/`` and the plain-word aliases always work too.
    command_prefix: str = "!"
    #: Default moderator channel: a channel id, or a channel name looked up in each server.
    moderator_channel: str = ""
    #: Level → role id, granted on level-up (the highest level reached wins).
    level_roles: dict[int, str] = Field(default_factory=dict)

    @field_validator("level_roles", mode="before")
    @classmethod
    def _role_ids(cls, value: object) -> object:
        # TOML users write role ids as bare integers; keep them as strings like every other id.
        if isinstance(value, dict):
            out: dict[object, object] = {}
            for level, role in value.items():
                text = str(role).strip()
                if not text.isdigit():
                    raise ValueError(f"role id for level {level} must be a number, got {role!r}")
                out[level] = text
            return out
        return value

    @field_validator("command_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not value.strip() or len(value) > 5:
            raise ValueError("command_prefix must be 1 to 5 non-blank characters")
        return value
