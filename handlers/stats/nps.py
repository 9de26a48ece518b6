"""Net Promoter Score: % promoters (9–10) − % detractors (0–6)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NpsResult:
    """The score with its parts; ``score`` is None when nobody answered."""

    count: int
    promoters: int
    passives: int
    detractors: int
    score: float | None


def parse_score(text: str) -> int | None:
    """A 0–10 answer typed as text (full-width digits allowed), or None."""
    cleaned = text.strip().translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if not cleaned.isdecimal() or len(cleaned) > 2:
        return None
    value = int(cleaned)
    return value if 0 <= value <= 10 else None


def nps(scores: Iterable[int]) -> NpsResult:
    """Compute the NPS of 0–10 answers (one per member; the caller keeps only the last)."""
    values = list(scores)
    for v in values:
        if not 0 <= v <= 10:
            raise ValueError(f"NPS answers are 0–10, got {v}")
    n = len(values)
    promoters = sum(1 for v in values if v >= 9)
    detractors = sum(1 for v in values if v <= 6)
    passives = n - promoters - detractors
    score = None if n == 0 else (promoters - detractors) * 100 / n
    return NpsResult(n, promoters, passives, detractors, score)
