"""Engagement storage: giveaways and polls (one repository per aggregate)."""

from __future__ import annotations

from storage.engage.giveaways import DrawResult, Entrant, EntryResult, Giveaway, GiveawayRepo
from storage.engage.polls import Poll, PollRepo, Tally, VoteOutcome
from storage.engage.tables import engage_giveaway_entries, engage_giveaways, engage_poll_votes, engage_polls

__all__ = [
    "DrawResult",
    "Entrant",
    "EntryResult",
    "Giveaway",
    "GiveawayRepo",
    "Poll",
    "PollRepo",
    "Tally",
    "VoteOutcome",
    "engage_giveaway_entries",
    "engage_giveaways",
    "engage_poll_votes",
    "engage_polls",
]
