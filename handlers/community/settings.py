"""The community feature's per-chat settings (``/set community.<key>``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from bot.settings import WORD, FeatureSettings, OnOff


class CommunitySettings(FeatureSettings):
    """What this chat takes from its community and federation."""

    SECTION = "community"

    receive_shared_bans: OnOff = Field(
        True, description="apply bans and mutes made in the community's other chats here too"
    )
    federation_bans_on_join: OnOff = Field(
        True, description="ban at once a newcomer on this chat's federation's ban list"
    )
    share_points: OnOff = Field(
        True,
        description="share points, levels, badges and check-ins with the community's chats that share them",
    )
    leaderboards: Annotated[Literal["both", "chat", "community"], WORD] = Field(
        "both",
        description="leaderboards offered: both (/rank this chat, /rank community), chat or community only",
    )
    share_lexicon: OnOff = Field(
        True,
        description="share the moderation lexicon with the community's chats that share it "
        "(/kw add … here keeps a term in this chat)",
    )
    cas_check: OnOff = Field(
        False,
        description="check Telegram newcomers against Combot Anti-Spam (cas.chat) online and ban listed ones",
    )
