"""Small SQL helpers shared by repositories (portable upserts)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import ColumnElement


def dialect_insert(conn: AsyncConnection, table: Table) -> Any:
    """An INSERT that knows ON CONFLICT for the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def upsert(
    conn: AsyncConnection,
    table: Table,
    rows: Sequence[Mapping[str, Any]] | Mapping[str, Any],
    keys: Sequence[str],
    update: Mapping[str, Any] | Sequence[str] | None = None,
) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE (or DO NOTHING when ``update`` is empty).

    ``update`` is either column names to take from the new row, or a mapping of column to an
    expression (which may refer to ``excluded``, see ``excluded()``).
    """
    stmt = dialect_insert(conn, table)
    if update:
        if isinstance(update, Mapping):
            values: Mapping[str, Any] = update
        else:
            values = {name: stmt.excluded[name] for name in update}
        stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=dict(values))
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    if isinstance(rows, Mapping):
        await conn.execute(stmt, dict(rows))
    elif rows:
        await conn.execute(stmt, [dict(r) for r in rows])


def increment(table: Table, stmt: Any, column: str) -> ColumnElement[Any]:
    """``column = column + excluded.column`` for an ON CONFLICT DO UPDATE."""
    return table.c[column] + stmt.excluded[column]
