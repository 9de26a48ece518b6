"""The ``[adapters.<name>]`` section for a Discord bot."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

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
    #: Role id granted when a newcomer passes join verification (``antispam.verification``), for
    #: servers where only that role sees the channels. Empty: passing only lifts the timeout.
    verified_role: str = ""
    #: Sharding for large bots (discord.py's own): ``shard_count`` shards in all; this worker runs
    #: ``shard_ids`` of them (every shard when empty, with ``AutoShardedClient``). Unset: no
    #: sharding. ``shard_count = 0`` lets Discord recommend the count (all shards in this worker).
    shard_count: int | None = Field(default=None, ge=0)
    shard_ids: list[int] = Field(default_factory=list)
    #: ``/poll … for DURATION`` (up to 32 days, not anonymous) as Discord's own poll; false
    #: keeps every poll a post with buttons.
    native_polls: bool = True

    @model_validator(mode="after")
    def _shards_in_range(self) -> DiscordConfig:
        if self.shard_ids and not self.shard_count:
            raise ValueError("shard_ids needs shard_count (how many shards there are in all)")
        bad = [i for i in self.shard_ids if not 0 <= i < (self.shard_count or 0)]
        if bad:
            raise ValueError(f"shard_ids {bad} out of range 0..{(self.shard_count or 1) - 1}")
        return self

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

    @field_validator("verified_role", mode="before")
    @classmethod
    def _verified_role(cls, value: object) -> object:
        text = str(value).strip()
        if text and not text.isdigit():
            raise ValueError(f"verified_role must be a role id (a number), got {value!r}")
        return text

    @field_validator("command_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not value.strip() or len(value) > 5:
            raise ValueError("command_prefix must be 1 to 5 non-blank characters")
        return value
