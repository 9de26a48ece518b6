"""The activities feature's settings (``[events]`` in config.toml, ``/set events.<key>``)."""

from __future__ import annotations

from pydantic import Field

from bot.settings import FeatureSettings, Number


class EventsSettings(FeatureSettings):
    """Points for attending an activity in one group."""

    SECTION = "events"

    attend_points: Number = Field(20, ge=0, le=10000, description="points for /here at an activity")
