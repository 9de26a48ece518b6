"""What ``/readyz`` asks of the database: is it reachable, and is its schema the code's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from storage.database import MIGRATIONS_DIR, Database


async def reachable(db: Database) -> bool:
    """True when one trivial query round-trips."""
    try:
        async with db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


async def migrations_current(db: Database) -> bool:
    """True when the database is at every head of the migrations this code ships (Alembic's own
    script directory and migration context answer; nothing is compared by hand)."""
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    heads = set(ScriptDirectory.from_config(cfg).get_heads())

    def _current(sync_conn: Any) -> set[str]:
        return set(MigrationContext.configure(sync_conn).get_current_heads())

    try:
        async with db.engine.connect() as conn:
            current = await conn.run_sync(_current)
    except Exception:
        return False
    return current == heads
