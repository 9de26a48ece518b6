"""Data rights are complete by construction: every table with a member column declares how
``/mydata`` exports it and how ``/forgetme`` forgets it (``storage/rights.py``)."""

from __future__ import annotations

import importlib
from pathlib import Path

from sqlalchemy import Column, Table

from storage.rights import declarations
from storage.schema import metadata

ROOT = Path(__file__).resolve().parents[1]

#: Column names that hold a platform user id (who someone is) without a foreign key.
USER_COLUMNS = {"user_id", "actor"}


def _load_every_table() -> None:
    """Import every storage module, so the metadata holds every table the migrations create."""
    for path in sorted((ROOT / "storage").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        rel = path.relative_to(ROOT).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        importlib.import_module(".".join(parts))


def member_columns(table: Table) -> list[Column[object]]:
    """Columns naming a member: a foreign key to ``members.id``, a platform user id, or who did
    something (``actor``, ``*_by``)."""
    found = []
    for column in table.columns:
        if any(fk.target_fullname == "members.id" for fk in column.foreign_keys):
            found.append(column)
        elif column.name in USER_COLUMNS or column.name.endswith("_by"):
            found.append(column)
    return found


def test_every_table_with_a_member_column_declares_its_data_rights() -> None:
    _load_every_table()
    declared = declarations()
    problems = []
    for table in sorted(metadata.tables.values(), key=lambda t: t.name):
        columns = member_columns(table)
        if not columns:
            continue
        rights = declared.get(table.name)
        if rights is None:
            where = ", ".join(c.name for c in columns)
            problems.append(
                f"table {table.name} holds member data ({where}) but declares no data rights: add "
                f"`declare({table.name}, erase(...) | clear(...) | rewrite(...), why=...)` from "
                "storage.rights beside the table, and say in docs/privacy.md what is kept and why"
            )
            continue
        linked = {link.column for link in rights.links}
        for column in columns:
            if column.name not in linked:
                problems.append(
                    f"table {table.name}: column {column.name} names a member but no link of its "
                    "declaration covers it: add erase/clear/rewrite for it"
                )
    assert problems == [], "\n".join(problems)


def test_declarations_can_be_carried_out() -> None:
    """Every cleared column may be NULL, and every user-id link knows its group."""
    _load_every_table()
    problems = []
    for name, rights in declarations().items():
        for link in rights.links:
            for column, value in (link.replace or {}).items():
                if value is None and not rights.table.c[column].nullable:
                    problems.append(f"{name}.{column} cannot be NULL: use rewrite() or erase()")
    assert problems == []
    assert {"members", "points_ledger", "mod_alerts", "stats_text"} <= set(declarations())


def test_docs_privacy_names_every_declared_table() -> None:
    """docs/privacy.md says what happens to each table's rows: a new declaration needs a line."""
    _load_every_table()
    text = (ROOT / "docs" / "privacy.md").read_text(encoding="utf-8")
    missing = sorted(name for name in declarations() if f"`{name}`" not in text)
    assert missing == [], f"say in docs/privacy.md what is kept of these tables, and why: {missing}"
