"""The onboarding feature's settings (``[welcome]`` in config.toml, ``/set welcome.<key>``)."""

from __future__ import annotations

from bot.settings import SettingSpec

SETTINGS = [
    SettingSpec("welcome.template", str, "", "welcome template with {name} {group} {rules}; off to disable"),
    SettingSpec("welcome.rules", str, "", "the group's rules, shown by /rules"),
    SettingSpec("welcome.onboarding", bool, False, "send the 7-day onboarding nudges to newcomers"),
    SettingSpec("welcome.onboarding_private", bool, False, "send onboarding nudges privately"),
]
