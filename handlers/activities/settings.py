"""The activities feature's settings (``[events]`` in config.toml, ``/set events.<key>``)."""

from __future__ import annotations

from bot.settings import SettingSpec, int_range

SETTINGS = [
    SettingSpec("events.attend_points", int_range(0, 10_000), 20, "points for /here at an activity"),
]
