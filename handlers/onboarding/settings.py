"""The onboarding feature's settings (``[welcome]`` in config.toml, ``/set welcome.<key>``)."""

from __future__ import annotations

from pydantic import Field

from bot.settings import FeatureSettings, OnOff, String


class WelcomeSettings(FeatureSettings):
    """Welcome, rules and onboarding nudges of one group."""

    SECTION = "welcome"

    template: String = Field("", description="welcome template with {name} {group} {rules}; off to disable")
    rules: String = Field("", description="the group's rules, shown by /rules")
    onboarding: OnOff = Field(False, description="send the 7-day onboarding nudges to newcomers")
    onboarding_private: OnOff = Field(False, description="send onboarding nudges privately")
