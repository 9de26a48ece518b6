"""The antispam feature's per-group settings (``/set antispam.<key>``)."""

from __future__ import annotations

from bot.settings import SettingSpec, choice, int_range

SETTINGS = [
    SettingSpec("antispam.enabled", bool, True, "screen newcomers and duplicate spam"),
    SettingSpec("antispam.training", bool, False, "training mode: detect, log and alert, never act"),
    SettingSpec("antispam.probation", bool, True, "newcomers may not post links, contacts, forwards"),
    SettingSpec("antispam.probation_messages", int_range(0, 1000), 3, "probation lasts this many messages…"),
    SettingSpec(
        "antispam.probation_hours", int_range(0, 8760), 24, "…or this many hours, whichever ends later"
    ),
    SettingSpec(
        "antispam.probation_unseen", bool, False, "also put members the bot never saw join on probation"
    ),
    SettingSpec("antispam.max_emoji", int_range(0, 1000), 5, "probation: more emoji than this is spam"),
    SettingSpec("antispam.max_mentions", int_range(0, 1000), 3, "probation: more mentions than this is spam"),
    SettingSpec("antispam.mute_after", int_range(1, 100), 2, "probation breaches before a mute and an alert"),
    SettingSpec("antispam.mute_minutes", int_range(1, 525_600), 1440, "mute length after repeated breaches"),
    SettingSpec(
        "antispam.duplicate_accounts", int_range(2, 1000), 3, "near-same text from this many accounts"
    ),
    SettingSpec(
        "antispam.duplicate_groups", int_range(2, 1000), 3, "…or from one account in this many groups"
    ),
    SettingSpec("antispam.duplicate_minutes", int_range(1, 1440), 10, "…within this many minutes is spam"),
    SettingSpec("antispam.similarity", int_range(30, 100), 50, "percent similarity that counts as the same"),
    SettingSpec("antispam.min_chars", int_range(1, 1000), 10, "shorter texts without a link are never spam"),
    SettingSpec("antispam.spam_action", choice("ban", "mute"), "ban", "what spam costs its sender"),
    SettingSpec("antispam.raid_joins", int_range(2, 100_000), 10, "raid mode on at this many joins…"),
    SettingSpec("antispam.raid_spammers", int_range(2, 100_000), 5, "…or this many spam accounts caught…"),
    SettingSpec("antispam.raid_seconds", int_range(1, 3600), 60, "…within this many seconds"),
    SettingSpec(
        "antispam.raid_quiet_minutes", int_range(1, 1440), 10, "raid mode ends after this long quiet"
    ),
    SettingSpec(
        "antispam.welcome_batch_joins", int_range(2, 100_000), 3, "this many joins in the window: one welcome"
    ),
]
