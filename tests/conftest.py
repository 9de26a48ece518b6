"""Shared fixtures: the network guard, database backends, the console harness."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from storage import Database

_LOOPBACK = {"localhost", "127.0.0.1", "::1", "ip6-localhost", None, ""}
_real_getaddrinfo = socket.getaddrinfo

POSTGRES_ENV = "QUNYOU_TEST_POSTGRES_URL"


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else host
    if name not in _LOOPBACK and not str(name).startswith("127."):
        raise OSError(f"network access to {name!r} is blocked in tests (use a fake or loopback)")
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True)
def _network_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A test that forgets its fake fails at once instead of hanging on the network."""
    monkeypatch.setattr(socket, "getaddrinfo", _guarded_getaddrinfo)
    yield


async def _create_pg_database(base_url: str) -> tuple[str, str]:
    import asyncpg  # only the tests talk to PostgreSQL directly, to make throwaway databases

    name = f"qunyou_t_{uuid.uuid4().hex[:12]}"
    raw = base_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(raw)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    prefix, _, _db = base_url.rpartition("/")
    return f"{prefix}/{name}", name


async def _drop_pg_database(base_url: str, name: str) -> None:
    import asyncpg

    raw = base_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(raw)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database URL on each backend (PostgreSQL when the env var names one)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        if os.environ.get("QUNYOU_REQUIRE_POSTGRES"):
            pytest.fail(f"{POSTGRES_ENV} is not set but QUNYOU_REQUIRE_POSTGRES is")
        pytest.skip(f"{POSTGRES_ENV} is not set; PostgreSQL storage tests need it")
    url, name = await _create_pg_database(base)
    try:
        yield url
    finally:
        await _drop_pg_database(base, name)


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    """A migrated database on each backend."""
    db = Database(db_url)
    await db.migrate()
    try:
        yield db
    finally:
        await db.close()
