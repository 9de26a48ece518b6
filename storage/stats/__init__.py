"""Community-health storage: group-level daily counters, hour-of-day counters, lifecycle state,
retained message text for hot words, recall tracking, feedback and NPS polls, one module per
aggregate.

The per-member daily counters belong to the foundation (``activity_daily``); this package only
reads them. Counters that come from the per-message path arrive here in batches (``record``),
never one round trip per message.

Rollups: the distinct-member figures (DAU, WAU, MAU) of a *complete* local day never change,
so they are computed once from ``activity_daily`` and kept on the day's ``stats_group_daily``
row. That is what lets ``/stats`` answer in milliseconds for a large group with a long history.

Callers hold one ``StatsRepo``, composed of the per-aggregate repositories on one instance: the
hot path (``recorder``), recalls (``members``) and forgetting (``privacy``) share the in-memory
set of recalled members still awaited, so they must share one object.
"""

from __future__ import annotations

from storage.stats.bulk import BulkLoader
from storage.stats.feedback import FeedbackRepo
from storage.stats.markers import MarkerRepo
from storage.stats.members import MemberRepo
from storage.stats.privacy import StatsPrivacyRepo
from storage.stats.recorder import RecorderRepo
from storage.stats.rollups import RollupRepo
from storage.stats.text import TextRepo
from storage.stats.values import (
    Batch,
    CheckinCounter,
    DailyRow,
    Feedback,
    JoinDay,
    KolRow,
    KpiInputs,
    MemberCount,
    NpsPoll,
    StageMember,
)


class StatsRepo(
    RecorderRepo,
    RollupRepo,
    MemberRepo,
    TextRepo,
    FeedbackRepo,
    MarkerRepo,
    StatsPrivacyRepo,
):
    """Every query of the stats feature: the aggregates' repositories on one shared state."""


__all__ = [
    "Batch",
    "BulkLoader",
    "CheckinCounter",
    "DailyRow",
    "Feedback",
    "FeedbackRepo",
    "JoinDay",
    "KolRow",
    "KpiInputs",
    "MarkerRepo",
    "MemberCount",
    "MemberRepo",
    "NpsPoll",
    "RecorderRepo",
    "RollupRepo",
    "StageMember",
    "StatsPrivacyRepo",
    "StatsRepo",
    "TextRepo",
]
