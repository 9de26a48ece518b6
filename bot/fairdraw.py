"""A provably fair draw: commit to a secret seed, reveal it at the draw, anyone can re-run it.

At the start only ``commitment(seed)`` (its SHA-256) is published. Each entrant's place in the draw
is the SHA-256 of ``"<seed>:<entrant>"`` (the bot uses member numbers); sorting by it ranks every
entrant, and the winners are the first ``k`` of that ranking who have not won before. The order
entrants joined in, their number and the bot's own randomness after the commitment change
nothing, so a member who knows the seed and the entrant list (published with the result) gets
the same winners with
``python -m bot giveaway verify SEED ENTRANTS.csv --winners K`` or the one-liner in
``docs/engagement.md``. Pure functions; no clock, no storage.
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from collections.abc import Iterable, Sequence

#: The first column's name in a published entrant list.
HEADER = "entrant"
#: 32 random bytes, as 64 hex digits: guessing it from the commitment is out of reach.
SEED_BYTES = 32


def new_seed(replayable: str | None = None) -> str:
    """A fresh secret seed (64 hex digits).

    ``replayable``: under a virtual clock only (scripts and tests, where the same script must
    give the same output byte for byte), the seed is derived from this text instead of drawn from
    the system's randomness. Never used under the system clock."""
    if replayable is not None:
        return hashlib.sha256(f"qunyou-virtual-clock-seed:{replayable}".encode()).hexdigest()
    return secrets.token_hex(SEED_BYTES)


def commitment(seed: str) -> str:
    """The SHA-256 of the seed, published before anyone can enter."""
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()


def ticket(seed: str, entrant: str) -> str:
    """One entrant's place in the draw (lower goes first)."""
    return hashlib.sha256(f"{seed}:{entrant}".encode()).hexdigest()


def ranking(seed: str, entrants: Iterable[str]) -> list[str]:
    """Every entrant, in the order the draw picks them (ties impossible: entrants are unique)."""
    return sorted(set(entrants), key=lambda e: (ticket(seed, e), e))


def pick(seed: str, entrants: Iterable[str], count: int, exclude: Iterable[str] = ()) -> list[str]:
    """The next ``count`` winners of the ranking, skipping ``exclude`` (earlier winners)."""
    skip = set(exclude)
    chosen: list[str] = []
    for entrant in ranking(seed, entrants):
        if len(chosen) >= count:
            break
        if entrant not in skip:
            chosen.append(entrant)
    return chosen


def entrants_csv(rows: Sequence[tuple[str, str]]) -> str:
    """The published entrant list: ``entrant,name`` lines (the draw reads the first column)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([HEADER, "name"])
    writer.writerows(rows)
    return out.getvalue()


def read_entrants(text: str) -> list[str]:
    """The entrants in a published list (first column; the header line is skipped)."""
    found = []
    for row in csv.reader(io.StringIO(text)):
        if not row or not row[0].strip() or row[0].strip() == HEADER:
            continue
        found.append(row[0].strip())
    return found
