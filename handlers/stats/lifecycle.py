"""Lifecycle stages and the churn warning rule.

A member's stage comes from three instants we record (joined, last active, left) and the clock:

* **left** — left the group and has not come back;
* **new** — joined at most 7 days ago (newcomers are their own layer even if they post, so a
  moderator can welcome them);
* **active** — showed a sign of life (a post, a command, a button press) in the last 7 days;
* **sleeping** — the last sign of life (or the join, for members who never did anything) was
  7–30 days ago;
* **churned** — the last sign of life was more than 30 days ago.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction

NEW_DAYS = 7
ACTIVE_DAYS = 7
SLEEPING_DAYS = 30

#: Churn warning: the recent window's average DAU against the baseline window before it.
CHURN_RECENT_DAYS = 7
CHURN_BASELINE_DAYS = 28
CHURN_THRESHOLD = 0.8


class Stage(StrEnum):
    """A lifecycle layer; the order is the order shown to moderators."""

    NEW = "new"
    ACTIVE = "active"
    SLEEPING = "sleeping"
    CHURNED = "churned"
    LEFT = "left"


STAGES: tuple[Stage, ...] = tuple(Stage)


def classify(
    now: datetime,
    *,
    joined_at: datetime | None,
    last_active_at: datetime | None,
    left_at: datetime | None,
) -> Stage:
    """The member's stage at ``now``.

    ``last_active_at`` is the last sign of life: a post, a command, a button press. A member
    who never did anything is judged by ``joined_at``. ``left_at`` is cleared by a new join.
    """
    if left_at is not None:
        return Stage.LEFT
    if joined_at is not None and now - joined_at <= timedelta(days=NEW_DAYS):
        return Stage.NEW
    sign = max((t for t in (last_active_at, joined_at) if t is not None), default=None)
    if sign is None:
        return Stage.CHURNED
    if now - sign <= timedelta(days=ACTIVE_DAYS):
        return Stage.ACTIVE
    if now - sign <= timedelta(days=SLEEPING_DAYS):
        return Stage.SLEEPING
    return Stage.CHURNED


@dataclass(frozen=True, slots=True)
class ChurnCheck:
    """The outcome of the daily churn check."""

    recent_avg: float
    baseline_avg: float
    #: recent ÷ baseline; None without a baseline.
    ratio: float | None
    warn: bool
    enough_data: bool


def churn_check(daily_dau: Sequence[int], threshold: float = CHURN_THRESHOLD) -> ChurnCheck:
    """Apply the churn rule to DAU values, oldest first, ending with yesterday.

    The last 7 values are the recent window and the 28 before them the baseline. Warn when the
    recent average is below ``threshold`` × the baseline average. With fewer than 35 days, or a
    baseline of zero, there is nothing to compare and no warning.
    """
    need = CHURN_RECENT_DAYS + CHURN_BASELINE_DAYS
    if len(daily_dau) < need:
        return ChurnCheck(0.0, 0.0, None, warn=False, enough_data=False)
    window = list(daily_dau[-need:])
    baseline = window[:CHURN_BASELINE_DAYS]
    recent = window[CHURN_BASELINE_DAYS:]
    base_avg = sum(baseline) / len(baseline)
    recent_avg = sum(recent) / len(recent)
    if base_avg == 0:
        return ChurnCheck(recent_avg, base_avg, None, warn=False, enough_data=False)
    r = recent_avg / base_avg
    # Exact rational arithmetic so a drop of exactly 20 % never flips on float noise.
    recent_exact = Fraction(sum(recent), len(recent))
    warn = recent_exact < Fraction(str(threshold)) * Fraction(sum(baseline), len(baseline))
    return ChurnCheck(recent_avg, base_avg, r, warn=warn, enough_data=True)
