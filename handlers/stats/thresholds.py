"""Thresholds that colour the dashboard's overview figures (the ``stats.thresholds`` setting).

A rule reads ``KEY>=GOOD/BAD`` (higher is better) or ``KEY<=GOOD/BAD`` (lower is better),
rules separated by blanks or commas. For ``>=``: at or above GOOD the figure is ``good``, below
BAD it is ``bad``, between them ``warn``; ``<=`` mirrors it. Ratios are fractions (``0.2`` is
20 %), hours are hours. ``off`` (or an empty value) colours nothing.

The defaults follow the community-operations playbook the project uses: stickiness (DAU/MAU)
of 20 % is healthy and under 10 % is a problem; the churn warning fires at a 20 % drop of the
recent DAU against its baseline (``churn_ratio`` below 0.8); a report should be handled within
4 hours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.params import OFF_WORDS

DEFAULT = (
    "stickiness>=0.2/0.1 interaction_rate>=0.3/0.1 checkin_rate>=0.3/0.1 net_growth>=0/-10 "
    "churn_ratio>=0.9/0.8 alerts_red<=0/3 handling_median_hours<=4/8 handling_p90_hours<=4/12 "
    "nps>=30/0 topic_participation>=0.1/0.03 attendance_rate>=0.7/0.4"
)

_RULE = re.compile(r"([a-z][a-z0-9_]*)(>=|<=)(-?\d+(?:\.\d+)?)/(-?\d+(?:\.\d+)?)")


@dataclass(frozen=True, slots=True)
class Rule:
    """One threshold: ``higher`` is better for ``>=`` rules."""

    key: str
    higher: bool
    good: float
    bad: float

    def tone(self, value: float) -> str:
        """``good``, ``warn`` or ``bad`` for ``value``."""
        if self.higher:
            return "good" if value >= self.good else "bad" if value < self.bad else "warn"
        return "good" if value <= self.good else "bad" if value > self.bad else "warn"

    def __str__(self) -> str:
        return f"{self.key}{'>=' if self.higher else '<='}{self.good:g}/{self.bad:g}"


def parse_rules(text: str) -> dict[str, Rule]:
    """The rules of a setting's text; raises ``ValueError`` naming the part it cannot read."""
    cleaned = text.strip().lower()
    if not cleaned or cleaned in OFF_WORDS:
        return {}
    rules: dict[str, Rule] = {}
    for part in re.split(r"[\s,，]+", cleaned):
        if not part:
            continue
        m = _RULE.fullmatch(part)
        if m is None:
            raise ValueError(f"KEY>=GOOD/BAD or KEY<=GOOD/BAD, not “{part[:40]}”")
        key, op, good, bad = m.group(1), m.group(2), float(m.group(3)), float(m.group(4))
        higher = op == ">="
        if (higher and bad > good) or (not higher and bad < good):
            raise ValueError(f"“{part[:40]}”: BAD must be on the far side of GOOD")
        rules[key] = Rule(key, higher, good, bad)
    return rules


def normalize(value: Any) -> str:
    """The setting's canonical text (``off`` or the rules), for ``/set``'s validation."""
    rules = parse_rules(str(value))
    return " ".join(str(r) for r in rules.values()) if rules else "off"
