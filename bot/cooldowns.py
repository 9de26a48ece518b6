"""Cooldowns that hold across the workers sharing one PostgreSQL database.

A feature that must not act twice within some time across workers (answer the same FAQ entry in
the same chat, for instance) asks ``services.cooldowns.claim(scope, name, now, span)`` right
before it acts: True means this worker acts and the cooldown now runs for every worker.

One worker (SQLite, or PostgreSQL without ``shared``) answers True at once, touching nothing:
the feature's own memory decides there, as it always did, so the single-process path gains no
work. Shared, a claim is one statement (``storage.cooldowns``) only when this worker's memory
does not already know that the cooldown runs: a worker that lost a claim remembers until when
the winner holds it, and asks the database again only after that.

``Counts`` does the same for a count over a sliding window (a group's joins in the last
minute): shared, one transaction per event counted; alone, None, and the feature counts in its
own memory as before. For rare events (joins, spam accounts caught), and for a member's
messages only past a few in a window on one worker (``add_many``, moderation's flood windows).
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta

from storage.cooldowns import CooldownRepo, CountRepo

#: Cooldowns remembered per worker; the oldest are forgotten first (the database still has them).
MEMORY = 10_000
#: How often run-out rows are deleted, and how long after their end.
PRUNE_EVERY = timedelta(minutes=10)


class Cooldowns:
    """``claim(scope, name, now, span)``: True when this worker may act now."""

    def __init__(self, repo: CooldownRepo | None = None) -> None:
        self._repo = repo
        self._until: OrderedDict[tuple[str, str], datetime] = OrderedDict()
        self._pruned_at: datetime | None = None
        #: Claims that went to the database, and those of them another worker had won.
        self.asked = 0
        self.lost = 0

    @property
    def shared(self) -> bool:
        """True when the cooldowns are claimed in the database (several workers may run)."""
        return self._repo is not None

    async def claim(self, scope: str, name: str, now: datetime, span: timedelta) -> bool:
        """Start the cooldown ``(scope, name)`` for ``span`` unless one runs: True to act now."""
        repo = self._repo
        if repo is None or span <= timedelta(0):
            return True
        key = (scope, name)
        known = self._until.get(key)
        if known is not None and now < known:
            return False  # this worker knows the cooldown still runs: no round trip
        self.asked += 1
        held = await repo.claim(scope, name, now, now + span)
        self._until[key] = now + span if held is None else held
        self._until.move_to_end(key)
        while len(self._until) > MEMORY:
            self._until.popitem(last=False)
        if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
            self._pruned_at = now
            await repo.prune(now - PRUNE_EVERY)
        if held is not None:
            self.lost += 1
            return False
        return True


class Counts:
    """``add(scope, name, at, n, span)``: events within ``span`` before ``at``, every worker's."""

    def __init__(self, repo: CountRepo | None = None) -> None:
        self._repo = repo
        self._pruned_at: datetime | None = None

    @property
    def shared(self) -> bool:
        """True when the counts are kept in the database (several workers may run)."""
        return self._repo is not None

    async def add(self, scope: str, name: str, at: datetime, n: int, span: timedelta) -> int | None:
        """Count ``n`` events at ``at``; the count over ``span`` across workers, or None alone
        (one worker counts in its own memory, as before: nothing is written)."""
        repo = self._repo
        if repo is None:
            return None
        total = await repo.add(scope, name, at, n, at - span)
        if self._pruned_at is None or at - self._pruned_at >= PRUNE_EVERY:
            self._pruned_at = at
            await repo.prune(at - PRUNE_EVERY)
        return total

    async def add_many(
        self, scope: str, items: list[tuple[str, list[tuple[datetime, int]], datetime]]
    ) -> list[int] | None:
        """For each ``(name, [(at, n), …], since)``: count the events, then every worker's events
        of that name after ``since``; one transaction for all. None alone (nothing written)."""
        repo = self._repo
        if repo is None:
            return None
        totals = await repo.add_many(scope, items)
        now = max((at for _, seconds, _ in items for at, _ in seconds), default=None)
        if now is not None and (self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY):
            self._pruned_at = now
            await repo.prune(now - PRUNE_EVERY)
        return totals

    async def forget(self, scope: str, names: list[str]) -> None:
        """Drop these names' counts (a window that tipped over starts again); nothing alone."""
        if self._repo is not None and names:
            await self._repo.forget(scope, names)
