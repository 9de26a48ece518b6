"""The antispam feature's per-group settings (``[antispam]`` in config.toml, ``/set antispam.<key>``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from bot.settings import WORD, FeatureSettings, Number, OnOff, String


class AntispamSettings(FeatureSettings):
    """What the layer in front of the lexicon does in one group: probation, duplicates, raids."""

    SECTION = "antispam"

    enabled: OnOff = Field(True, description="screen newcomers and duplicate spam")
    training: OnOff = Field(False, description="training mode: detect, log and alert, never act")
    probation: OnOff = Field(True, description="newcomers may not post links, contacts, forwards")
    probation_messages: Number = Field(3, ge=0, le=1000, description="probation lasts this many messages…")
    probation_hours: Number = Field(
        24, ge=0, le=8760, description="…or this many hours, whichever ends later"
    )
    probation_unseen: OnOff = Field(False, description="also put members the bot never saw join on probation")
    max_emoji: Number = Field(5, ge=0, le=1000, description="probation: more emoji than this is spam")
    max_mentions: Number = Field(3, ge=0, le=1000, description="probation: more mentions than this is spam")
    mute_after: Number = Field(2, ge=1, le=100, description="probation breaches before a mute and an alert")
    mute_minutes: Number = Field(1440, ge=1, le=525600, description="mute length after repeated breaches")
    duplicate_accounts: Number = Field(3, ge=2, le=1000, description="near-same text from this many accounts")
    duplicate_groups: Number = Field(3, ge=2, le=1000, description="…or from one account in this many groups")
    duplicate_minutes: Number = Field(10, ge=1, le=1440, description="…within this many minutes is spam")
    similarity: Number = Field(50, ge=30, le=100, description="percent similarity that counts as the same")
    min_chars: Number = Field(10, ge=1, le=1000, description="shorter texts without a link are never spam")
    spam_action: Annotated[Literal["ban", "mute"], WORD] = Field(
        "ban", description="what spam costs its sender"
    )
    raid_joins: Number = Field(10, ge=2, le=100000, description="raid mode on at this many joins…")
    raid_spammers: Number = Field(5, ge=2, le=100000, description="…or this many spam accounts caught…")
    raid_seconds: Number = Field(60, ge=1, le=3600, description="…within this many seconds")
    raid_quiet_minutes: Number = Field(10, ge=1, le=1440, description="raid mode ends after this long quiet")
    welcome_batch_joins: Number = Field(
        3, ge=2, le=100000, description="this many joins in the window: one welcome"
    )
    verification: Annotated[Literal["off", "raid-only", "always"], WORD] = Field(
        "raid-only", description="join challenge: off, raid-only (one standing challenge) or always"
    )
    verification_minutes: Number = Field(
        3, ge=1, le=1440, description="a newcomer who has not passed the challenge by then is removed"
    )
    join_answer: String = Field(
        "", description="join requests (QQ): the answer to the group's question; empty: moderators decide"
    )
    join_answer_in_group: OnOff = Field(
        False,
        description="newcomers without the right join_answer type it in the group in time, or are removed",
    )
