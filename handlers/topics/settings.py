"""The topics feature's settings (``[topics]`` in config.toml, ``/set topics.<key>``)."""

from __future__ import annotations

from bot.settings import SettingSpec, int_range

SETTINGS = [
    SettingSpec("topics.reply_points", int_range(0, 1000), 2, "points per reply to a topic post"),
    SettingSpec("topics.reply_cap", int_range(0, 100), 3, "replies per member and topic that earn points"),
    SettingSpec("topics.suggest_points", int_range(0, 10_000), 10, "points for an approved suggestion"),
]
