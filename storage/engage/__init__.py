"""Engagement storage: giveaways (one repository per aggregate)."""

from __future__ import annotations

from storage.engage.giveaways import DrawResult, Entrant, EntryResult, Giveaway, GiveawayRepo
from storage.engage.tables import engage_giveaway_entries, engage_giveaways

__all__ = [
    "DrawResult",
    "Entrant",
    "EntryResult",
    "Giveaway",
    "GiveawayRepo",
    "engage_giveaway_entries",
    "engage_giveaways",
]
