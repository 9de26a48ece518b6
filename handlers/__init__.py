"""Features, listed explicitly: no globbing, no import-time registration.

The order is the order handlers run in inside each band.
"""

from bot.feature import Feature
from handlers import (
    activities,
    antispam,
    checkin,
    circles,
    community,
    core,
    dashboard,
    desk,
    engage,
    media,
    message_counts,
    modchat,
    moderation,
    onboarding,
    schedules,
    stats,
    topics,
)

FEATURES: list[Feature] = [
    core.FEATURE,
    # Before moderation: a newcomer's link or a spam wave is handled here, in front of the lexicon.
    antispam.FEATURE,
    moderation.FEATURE,
    modchat.FEATURE,
    # Before onboarding: a federation-banned newcomer is banned, not welcomed.
    community.FEATURE,
    message_counts.FEATURE,
    stats.FEATURE,
    checkin.FEATURE,
    topics.FEATURE,
    schedules.FEATURE,
    activities.FEATURE,
    onboarding.FEATURE,
    dashboard.FEATURE,
    engage.FEATURE,
    circles.FEATURE,
    # Last: an FAQ answer comes after everything else a message does.
    desk.FEATURE,
    # No handlers: pictures for posts (the MediaLibrary port), wherever it stands.
    media.FEATURE,
]
