"""The topics feature's settings (``[topics]`` in config.toml, ``/set topics.<key>``)."""

from __future__ import annotations

from pydantic import Field

from bot.settings import FeatureSettings, Number


class TopicsSettings(FeatureSettings):
    """Points for topic replies and suggestions in one group."""

    SECTION = "topics"

    reply_points: Number = Field(2, ge=0, le=1000, description="points per reply to a topic post")
    reply_cap: Number = Field(3, ge=0, le=100, description="replies per member and topic that earn points")
    suggest_points: Number = Field(10, ge=0, le=10000, description="points for an approved suggestion")
