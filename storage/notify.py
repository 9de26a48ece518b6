"""PostgreSQL LISTEN/NOTIFY: one channel that tells every worker a cached thing changed.

The listening connection is taken from the engine and kept for the worker's life; asyncpg calls
the listener when a notification arrives, even while the connection is idle. Notifications are
delivered after the notifying transaction commits, to every listening session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.database import Database


class PgChannel:
    """LISTEN on ``channel`` and NOTIFY on it (PostgreSQL only)."""

    def __init__(self, db: Database, channel: str) -> None:
        self.db = db
        self.channel = channel
        self._conn: AsyncConnection | None = None
        self._driver: Any = None
        self._listener: Callable[..., None] | None = None

    async def listen(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(payload)`` for every notification on the channel from now on."""
        conn = await self.db.engine.connect()
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection  # the asyncpg connection, whose add_listener does LISTEN

        def on_notify(_connection: Any, _pid: int, _channel: str, payload: str) -> None:
            callback(payload)

        assert driver is not None
        await driver.add_listener(self.channel, on_notify)
        self._conn, self._driver, self._listener = conn, driver, on_notify

    async def notify(self, payload: str) -> None:
        """Tell every listening worker (this one included) ``payload``."""
        async with self.db.engine.begin() as conn:
            await conn.execute(text("SELECT pg_notify(:c, :p)"), {"c": self.channel, "p": payload})

    async def stop(self) -> None:
        """Stop listening and give the connection back."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if self._driver is not None and self._listener is not None:
                await self._driver.remove_listener(self.channel, self._listener)
        finally:
            await conn.close()
