"""Small SQL helpers shared by repositories (portable upserts)."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import ColumnElement

T = TypeVar("T")


def dialect_insert(conn: Connection | AsyncConnection, table: Table) -> Any:
    """An INSERT that knows ON CONFLICT for the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def upsert_statement(
    conn: Connection | AsyncConnection,
    table: Table,
    keys: Sequence[str],
    update: Mapping[str, Any] | Sequence[str] | None = None,
) -> Any:
    """INSERT … ON CONFLICT (keys) DO UPDATE (or DO NOTHING when ``update`` is empty).

    ``update`` is either column names to take from the new row, or a mapping of column to an
    expression (which may refer to ``excluded``, see ``excluded()``).
    """
    if isinstance(update, Mapping):
        stmt = dialect_insert(conn, table)
        return stmt.on_conflict_do_update(index_elements=list(keys), set_=dict(update))
    return named_upsert(conn.dialect.name, table, tuple(keys), tuple(update or ()))


@functools.lru_cache(maxsize=256)
def named_upsert(dialect: str, table: Table, keys: tuple[str, ...], update: tuple[str, ...]) -> Any:
    """The upsert that takes ``update``'s columns from the new row, built once per shape.

    Building it is not free (``excluded`` assembles a column collection, about half a
    millisecond): a member upsert per join of a raid paid that every time. Statements are
    immutable, so one object serves every call.
    """
    stmt = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    if update:
        return stmt.on_conflict_do_update(
            index_elements=list(keys), set_={name: stmt.excluded[name] for name in update}
        )
    return stmt.on_conflict_do_nothing(index_elements=list(keys))


async def upsert(
    conn: AsyncConnection,
    table: Table,
    rows: Sequence[Mapping[str, Any]] | Mapping[str, Any],
    keys: Sequence[str],
    update: Mapping[str, Any] | Sequence[str] | None = None,
) -> None:
    """Run ``upsert_statement`` for one row or many."""
    stmt = upsert_statement(conn, table, keys, update)
    if isinstance(rows, Mapping):
        await conn.execute(stmt, dict(rows))
    elif rows:
        await conn.execute(stmt, [dict(r) for r in rows])


#: Rows per transaction in a batched flush: each is a few milliseconds of the write lock, and
#: other transactions (a check-in) get their turn between two of them.
CHUNK = 200


def chunked(rows: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """``rows`` in consecutive slices of at most ``size``."""
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def increment(table: Table, stmt: Any, column: str) -> ColumnElement[Any]:
    """``column = column + excluded.column`` for an ON CONFLICT DO UPDATE."""
    return table.c[column] + stmt.excluded[column]
