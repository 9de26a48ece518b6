"""A migrated, empty SQLite schema kept per user, copied into each new SQLite database.

Every ``python -m bot console`` run starts on a fresh temporary database, and migrating one from
nothing costs Alembic's imports plus every migration (about 0.4 s of a start-up whose goal is
1 s, issue 21). The result is the same file every time, so the first fresh database migrated
by this user's current migration files is copied aside, and later fresh databases start as a
copy of it (SQLite's backup API); ``Database.migrate`` then finds the schema current.

Safe by construction: the copy's name carries a hash of the migration files (and the SQLite
version), so a changed migration makes a new template, never a stale schema; it lives in the
user's own cache directory, created private, and a template not owned by this user or writable
by others is ignored (it could otherwise hand a crafted database to every fresh start). Set
``QUNYOU_SCHEMA_CACHE=off`` to migrate every fresh database from nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sqlite3
import stat
from pathlib import Path

log = logging.getLogger(__name__)


def _key(migrations: Path) -> str:
    digest = hashlib.sha256(sqlite3.sqlite_version.encode())
    for path in sorted(migrations.rglob("*.py")):
        digest.update(path.relative_to(migrations).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def _cache_dir() -> Path | None:
    if os.environ.get("QUNYOU_SCHEMA_CACHE", "").lower() in ("off", "0", "no", "false"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qunyou"


def _trusted(path: Path, *, directory: bool = False) -> bool:
    """Ours and writable by no one else (a file, or with ``directory`` a directory)."""
    try:
        info = path.stat()
    except OSError:
        return False
    kind = stat.S_ISDIR(info.st_mode) if directory else stat.S_ISREG(info.st_mode)
    return kind and info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def template_for(migrations: Path) -> Path | None:
    """Where the template for the current migration files is (or would be) kept."""
    cache = _cache_dir()
    return cache / f"schema-{_key(migrations)}.db" if cache is not None else None


def copy_database(source: str | Path, target: Path, *, read_only: bool = False) -> None:
    """Copy SQLite database ``source`` into ``target`` with SQLite's online backup API (safe on a
    live database); ``read_only`` opens the source through a ``mode=ro`` URI, so a shared
    template is never written."""
    src = (
        sqlite3.connect(f"{Path(source).as_uri()}?mode=ro", uri=True)
        if read_only
        else sqlite3.connect(source)
    )
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        finally:
            dst.close()
    finally:
        src.close()


def restore(target: Path, migrations: Path) -> bool:
    """Fill the new, empty database ``target`` from the template; False when there is none."""
    template = template_for(migrations)
    if template is None or not _trusted(template) or not _trusted(template.parent, directory=True):
        return False
    try:
        copy_database(template, target, read_only=True)
    except sqlite3.Error as exc:
        log.info("schema template %s not used: %s", template, exc)
        return False
    return True


def save(source: Path, migrations: Path) -> None:
    """Keep a copy of the just-migrated, still empty database ``source`` as the template."""
    template = template_for(migrations)
    if template is None or template.exists():
        return
    partial = template.with_name(f"{template.name}.{os.getpid()}.tmp")
    try:
        template.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _trusted(template.parent, directory=True):
            return
        copy_database(source, partial)
        partial.chmod(0o600)
        os.replace(partial, template)  # atomic: a concurrent start sees all of it or none
    except (OSError, sqlite3.Error) as exc:
        log.info("schema template not saved: %s", exc)
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()
