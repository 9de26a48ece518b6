"""The stats feature's runtime state, kept in ``services.state['stats']``."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from bot.services import Services
from handlers.stats import report
from handlers.stats.recorder import Recorder
from storage.models import Group
from storage.stats import StatsRepo

STATE_KEY = "stats"
#: Sleeping members named by one recall post.
RECALL_LIMIT = 10
#: Members listed by ``/lifecycle <stage>``.
LIST_LIMIT = 20
#: Characters of one ``/feedback``.
FEEDBACK_MAX = 1000


@dataclass
class StatsState:
    """The feature's runtime state, kept in ``services.state['stats']``."""

    repo: StatsRepo
    recorder: Recorder
    hot: report.HotWordCache = field(default_factory=report.HotWordCache)
    counts: report.MemberCounts = field(default_factory=report.MemberCounts)
    scheduled: set[int] = field(default_factory=set)
    #: Groups whose retained text was dropped since keeping text was turned off.
    text_dropped: set[int] = field(default_factory=set)
    chart_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "qunyou-charts")


def stats_state(services: Services) -> StatsState:
    """The feature's state (made by the startup hook)."""
    state: StatsState = services.state[STATE_KEY]
    return state


def group_t(services: Services, group: Group) -> report.T:
    """Translation into the group's language."""
    return partial(services.i18n.t, group.language)
