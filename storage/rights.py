"""Data rights: every table that holds a member's data declares how it is exported and forgotten.

``/mydata`` and ``/forgetme`` are complete by construction: they do not list tables, they walk
the declarations made here. Each storage package declares its own tables next to their
definitions (``declare(table, *links, why=...)``), so no feature reads another's tables, and
``tests/test_data_rights.py`` walks the schema and fails, naming the table and the column, when
a table with a member column has no declaration or leaves a member column out.

A *link* is one column that points at a member:

- ``holds="member"``: the internal ``members.id`` (unique per group);
- ``holds="user"``: the platform user id (a string), read within the member's group (the
  table's ``group_id``, or the declaration's own ``scope`` when it has none).

What forgetting does with a row a link matches, per link:

- ``erase(column)``: the row is deleted (it is the member's own data);
- ``clear(column, *also)``: the row stays for the group (an audit trail, another member's
  balance, a shared count) with the link and the listed columns (their words) set to NULL;
- ``rewrite(column, values)``: the same where a column cannot be NULL (``values`` gives the
  stand-in, or a function of the table giving an SQL expression).

``keep`` exempts rows that must stay as they are for now (a ban still in force must still be
liftable); the retention sweep (``MemberData.sweep``) applies the rules again later and reports
how many such rows are left. ``docs/privacy.md`` says what is kept, why and for how long.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Table, delete, false, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from storage.database import Database

Holds = Literal["member", "user"]
#: Rows of a table that belong to one group (for links holding a platform user id).
Scope = Callable[[Table, int], ColumnElement[bool]]
#: Rows a link leaves alone for now (see ``keep`` above).
Keep = Callable[[Table], ColumnElement[bool]]


@dataclass(frozen=True)
class Link:
    """One column of a table that points at a member, and what forgetting does to its rows."""

    column: str
    holds: Holds = "member"
    #: None: delete the row. Otherwise the row is updated with these values (a value may be a
    #: function of the table returning an SQL expression).
    replace: Mapping[str, Any] | None = None
    keep: Keep | None = None


def erase(column: str, *, holds: Holds = "member", keep: Keep | None = None) -> Link:
    """Forgetting deletes the rows whose ``column`` names the member."""
    return Link(column, holds, None, keep)


def clear(column: str, *also: str, holds: Holds = "member", keep: Keep | None = None) -> Link:
    """Forgetting keeps the rows but sets ``column`` and ``also`` (their words) to NULL."""
    return Link(column, holds, {c: None for c in (column, *also)}, keep)


def rewrite(
    column: str, values: Mapping[str, Any], *, holds: Holds = "member", keep: Keep | None = None
) -> Link:
    """Forgetting keeps the rows with ``values`` written over the member's (NOT NULL columns)."""
    return Link(column, holds, dict(values), keep)


@dataclass(frozen=True)
class Rights:
    """How one table gives a member's rows back and forgets them."""

    table: Table
    links: tuple[Link, ...]
    #: Why the rows are kept as they are (shown in docs/privacy.md and in test failures).
    why: str
    scope: Scope | None = None
    order: int = field(default=0)


_DECLARED: dict[str, Rights] = {}


def declare(table: Table, *links: Link, why: str, scope: Scope | None = None) -> Rights:
    """Declare how ``table`` exports and forgets a member's rows (once per table)."""
    if table.name in _DECLARED:
        raise ValueError(f"data rights of table {table.name} are declared twice")
    for link in links:
        for name in (link.column, *(link.replace or {})):
            if name not in table.c:
                raise ValueError(f"data rights of {table.name}: no column {name}")
        if link.holds == "user" and scope is None and "group_id" not in table.c:
            raise ValueError(f"data rights of {table.name}: a user-id link needs group_id or a scope")
    rights = Rights(table, tuple(links), why, scope, len(_DECLARED))
    _DECLARED[table.name] = rights
    return rights


def declarations() -> dict[str, Rights]:
    """Every declaration made so far, by table name (the tables of every imported storage module)."""
    return dict(_DECLARED)


@dataclass(frozen=True)
class Subject:
    """The member whose data is asked for: internal id, group and platform user id."""

    member_id: int
    group_id: int
    user_id: str | None


def _matches(rights: Rights, link: Link, who: Subject) -> ColumnElement[bool]:
    table = rights.table
    if link.holds == "member":
        return table.c[link.column] == who.member_id
    if who.user_id is None:
        return false()
    scope = rights.scope(table, who.group_id) if rights.scope else table.c.group_id == who.group_id
    return (table.c[link.column] == who.user_id) & scope


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _export(conn: Connection, who: Subject) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for name, rights in sorted(_DECLARED.items()):
        stmt = select(rights.table).where(
            or_(false(), *(_matches(rights, link, who) for link in rights.links))
        )
        keys = [c.name for c in rights.table.primary_key.columns] or list(rights.table.c.keys())
        rows = conn.execute(stmt.order_by(*(rights.table.c[k] for k in keys))).all()
        if rows:
            out[name] = [{k: _json(v) for k, v in r._mapping.items()} for r in rows]
    return out


def _forget(conn: Connection, who: Subject) -> int:
    """Apply every rule; returns how many matching rows were kept for later (``keep``)."""
    kept = 0
    # The member's own data first, then what stays anonymised; the members row itself last,
    # since everything else points at it.
    ordered = sorted(_DECLARED.values(), key=lambda r: (r.table.name == "members", r.order))
    for rights in ordered:
        table = rights.table
        for link in sorted(rights.links, key=lambda link: link.replace is not None):
            where = _matches(rights, link, who)
            if link.keep is not None:
                kept += int(
                    conn.execute(
                        select(func.count()).select_from(table).where(where, link.keep(table))
                    ).scalar_one()
                )
                where = where & ~link.keep(table)
            if link.replace is None:
                conn.execute(delete(table).where(where))
            else:
                values = {k: (v(table) if callable(v) else v) for k, v in link.replace.items()}
                conn.execute(update(table).where(where).values(values))
    return kept


class MemberData:
    """Export or forget everything every declared table holds about one member."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def export(self, who: Subject) -> dict[str, list[dict[str, Any]]]:
        """``{table: rows}`` for every declared table with a row that names the member."""
        return await self.db.transact(_export, who)

    async def forget(self, who: Subject) -> int:
        """Delete or anonymise every row that names the member, in one transaction; returns
        the rows kept for now (a sanction still in force), which the retention sweep revisits."""
        return await self.db.transact(_forget, who)

    async def sweep(self, member_id: int, group_id: int) -> int:
        """The retention sweep for a forgotten member: the rules again (for rows written after
        ``/forgetme``, say by a batched flush, and rows that were kept and may go now); when
        nothing is kept any more, the anonymous members row goes too. Returns the rows kept."""
        who = Subject(member_id, group_id, None)
        kept = await self.db.transact(_forget, who)
        if kept == 0:
            await self.db.transact(_drop_member, member_id)
        return kept


def _drop_member(conn: Connection, member_id: int) -> None:
    members = _DECLARED["members"].table
    conn.execute(delete(members).where(members.c.id == member_id, members.c.forgotten.is_(True)))
