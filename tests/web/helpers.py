"""A dashboard over a running console harness, reached through an in-process ASGI client."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from tests.harness import Harness
from web import create_app
from web.app import dashboard_routes

BASE = "http://127.0.0.1:8080"
_LINK = re.compile(r"http://127\.0\.0\.1:\d+/login/([A-Za-z0-9_-]+)")
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def link_token(records: list[dict[str, object]]) -> str:
    """The login token in the bot's private message among ``records``."""
    for record in records:
        found = _LINK.search(str(record.get("text", "")))
        if found and record["action"] == "send" and "chat" not in record:
            return found.group(1)
    raise AssertionError(f"no private login link in {records}")


def csrf_of(html: str) -> str:
    """The CSRF token of a page's forms."""
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


@asynccontextmanager
async def dashboard(h: Harness, address: str = "203.0.113.7") -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client at ``address`` of the dashboard served over ``h``'s running bot."""
    app = create_app(h.app, extra_routes=dashboard_routes(h.services))
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        yield client


async def log_in(h: Harness, client: httpx.AsyncClient, chat: str, user: str, role: str | None = None) -> str:
    """Ask for a link with ``/dashboard`` in ``chat`` (None: privately), use it; returns the
    session's CSRF token."""
    records = await h.say(chat, user, "/dashboard", role=role) if chat else await h.dm(user, "/dashboard")
    token = link_token(records)
    assert (await client.get(f"/login/{token}")).status_code == 200
    answer = await client.post(f"/login/{token}")
    assert answer.status_code == 303, answer.text
    home = await client.get("/")
    assert home.status_code == 200
    return csrf_of(home.text)
