"""Read-only views over the moderation feature's tables, for other features' statistics.

Published through the moderation feature's ``ModerationFacts`` port (``bot.ports``): the weekly
report reads alert figures here instead of querying ``mod_alerts`` itself.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from storage.database import Database
from storage.moderation.tables import mod_alerts


class ModerationViews:
    """Alert figures of a group, each read in its own transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def alert_summary(
        self, group_id: int, since: datetime, until: datetime
    ) -> tuple[dict[str, int], list[float]]:
        """Alerts raised in ``[since, until)`` by level (``other`` when it has none), and the
        seconds each handled one took from raising to handling."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(mod_alerts.c.level, mod_alerts.c.created_at, mod_alerts.c.handled_at).where(
                        mod_alerts.c.group_id == group_id,
                        mod_alerts.c.created_at >= since,
                        mod_alerts.c.created_at < until,
                    )
                )
            ).all()
        levels: dict[str, int] = {}
        handling: list[float] = []
        for r in rows:
            key = str(r.level or "other")
            levels[key] = levels.get(key, 0) + 1
            if r.handled_at is not None and r.created_at is not None:
                handling.append((r.handled_at - r.created_at).total_seconds())
        return levels, handling
