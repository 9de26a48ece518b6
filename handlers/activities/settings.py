"""The activities feature's settings (``[events]`` in config.toml, ``/set events.<key>``)."""

from __future__ import annotations

from pydantic import Field

from bot.settings import FeatureSettings, Number


class EventsSettings(FeatureSettings):
    """Points for attending an activity, and how often a sign-up list's post is edited, in one group."""

    SECTION = "events"

    attend_points: Number = Field(20, ge=0, le=10000, description="points for /here at an activity")
    signup_edit_seconds: Number = Field(
        5, ge=1, le=600, description="a sign-up list's post is edited at most this often while people join"
    )
