"""Whether a database's schema is current, without loading Alembic.

Alembic and its imports cost about 0.4 s of every start, and on every start but the first the
answer is "nothing to do". The migration files declare ``revision`` and ``down_revision`` as
plain literals; read with ``ast`` (no import, no Alembic) they give the heads, and a database
whose ``alembic_version`` rows are exactly those heads needs no migration. Anything unusual (a
file whose revision is not a literal) answers None, and the caller runs Alembic as before.
``tests/test_cliops.py`` checks these heads against Alembic's own.
"""

from __future__ import annotations

import ast
from pathlib import Path


def _literal(node: ast.Module, name: str) -> tuple[bool, object]:
    for statement in node.body:
        target = None
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
        if isinstance(target, ast.Name) and target.id == name:
            try:
                return True, ast.literal_eval(value)
            except ValueError:
                return False, None
    return False, None


def declared_heads(versions: Path) -> frozenset[str] | None:
    """The head revisions the migration files in ``versions`` declare (None: cannot tell)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted(versions.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found, revision = _literal(tree, "revision")
        has_down, down = _literal(tree, "down_revision")
        if not found or not isinstance(revision, str) or not has_down:
            return None
        revisions.add(revision)
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple | list):
            if not all(isinstance(d, str) for d in down):
                return None
            parents.update(down)
        elif down is not None:
            return None
        _, depends = _literal(tree, "depends_on")
        if depends is not None:
            return None  # cross-branch dependencies: leave the reasoning to Alembic
    heads = frozenset(revisions - parents)
    return heads or None
