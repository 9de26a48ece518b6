"""The interest circles' settings (``[circles]`` in config.toml, ``/set circles.<key>``)."""

from __future__ import annotations

from pydantic import Field

from bot.settings import FeatureSettings, Number


class CirclesSettings(FeatureSettings):
    """How often and how loudly moderators may ping a circle in one group."""

    SECTION = "circles"

    ping_cooldown: Number = Field(
        60, ge=0, le=10080, description="minutes between two /circle ping posts in the group (0: no limit)"
    )
    ping_chunk: Number = Field(
        20,
        ge=1,
        le=50,
        description="members mentioned per message of a /circle ping (the platform may allow fewer)",
    )
