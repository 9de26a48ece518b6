"""The engagement feature's settings (``[engage]`` in config.toml, ``/set engage.<key>``)."""

from __future__ import annotations

from pydantic import Field

from bot.settings import FeatureSettings, Number, OnOff


class EngageSettings(FeatureSettings):
    """Giveaways and polls in one group."""

    SECTION = "engage"

    giveaway_edit_seconds: Number = Field(
        5, ge=1, le=600, description="a giveaway post is edited at most this often while people join"
    )
    giveaway_dm_winners: OnOff = Field(True, description="tell giveaway winners privately as well")
    poll_chart: OnOff = Field(
        True, description="poll results come with a bar chart image where the platform takes images"
    )
