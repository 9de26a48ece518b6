"""What every stats repository shares: the database, the check-in counter of the rollups, and the
set of recalled members still awaited (the hot path, recalls and forgetting all touch it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection

from storage.database import Database
from storage.stats.values import CheckinCounter


class StatsBase:
    """The state the stats repositories share; ``StatsRepo`` composes them on one instance."""

    def __init__(self, db: Database, checkins: CheckinCounter | None = None) -> None:
        self.db = db
        #: Where the day rollups get check-in counts; None when no check-in feature is installed
        #: (the rollups then record none, and ``/stats`` shows no check-in rate).
        self._checkins = checkins
        #: Members named in a recall who have not posted since; None until first loaded. Kept in
        #: memory so the per-second flush touches ``stats_recall`` only for them (usually nobody).
        self._awaiting: set[int] | None = None

    @asynccontextmanager
    async def _tx(self, conn: AsyncConnection | None) -> AsyncIterator[AsyncConnection]:
        """The caller's transaction when given (one snapshot for many reads), else a new one."""
        if conn is not None:
            yield conn
        else:
            async with self.db.begin() as new:
                yield new

    def checkins_tracked(self) -> bool:
        """True when a check-in feature feeds the rollups (so a 0 % rate means something)."""
        return self._checkins is not None
