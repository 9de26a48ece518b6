"""KOL nominations (星火计划): a documented composite over the last 30 days.

Each factor is divided by the best value among the candidates, so every factor runs from 0 to 1
whatever the group's size, and then weighted:

=====================  ======  ==============================================================
factor                 weight  why
=====================  ======  ==============================================================
replies received       0.30    others answering you is the clearest sign of influence
topic replies          0.20    taking part in the group's prompts and discussions
messages               0.20    presence; weighted low so volume alone cannot win
activities attended    0.15    showing up offline / in events
check-in streak        0.15    steadiness (current streak, capped at 30 days)
=====================  ======  ==============================================================

Moderators and bots are excluded by the caller. Ties break by replies received, then messages,
then member id, so the list is stable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

WEIGHTS: dict[str, float] = {
    "replies_received": 0.30,
    "topic_replies": 0.20,
    "messages": 0.20,
    "activities": 0.15,
    "streak": 0.15,
}
STREAK_CAP = 30


@dataclass(frozen=True, slots=True)
class KolInput:
    """One candidate's raw figures."""

    member_id: int
    name: str
    messages: int = 0
    topic_replies: int = 0
    replies_received: int = 0
    activities: int = 0
    streak: int = 0


@dataclass(frozen=True, slots=True)
class KolScore:
    """A candidate with the composite score (0–100)."""

    member_id: int
    name: str
    score: float
    figures: KolInput


def rank(candidates: Iterable[KolInput], limit: int = 10) -> list[KolScore]:
    """The best ``limit`` candidates by the composite; members with no activity are left out."""
    pool = [
        c
        for c in candidates
        if c.messages or c.topic_replies or c.replies_received or c.activities or c.streak
    ]
    if not pool:
        return []

    def value(c: KolInput, factor: str) -> float:
        raw = float(getattr(c, factor))
        return min(raw, STREAK_CAP) if factor == "streak" else raw

    best = {f: max(value(c, f) for c in pool) for f in WEIGHTS}
    scored = []
    for c in pool:
        total = sum(w * (value(c, f) / best[f] if best[f] else 0.0) for f, w in WEIGHTS.items())
        scored.append(KolScore(c.member_id, c.name, round(total * 100, 1), c))
    scored.sort(key=lambda s: (-s.score, -s.figures.replies_received, -s.figures.messages, s.member_id))
    return scored[:limit]
