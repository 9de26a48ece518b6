"""Discord start-up as an operator sees it (issue 21): a bad token is one clear error, with no
"Unclosed client session" after it and no voice (PyNaCl/davey) warnings before it."""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
import warnings

import discord
import pytest

from adapters.discord import build
from bot.errors import ConfigError, TransportError
from tests.fakes import discord_api as fx
from tests.fakes.host import RecordingHost


def _noise(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and ("voice" in r.getMessage() or "Unclosed" in r.getMessage())
    ]


async def _start_and_collect(adapter: object) -> None:
    """Drop the adapter and let the garbage collector report any session left open."""
    del adapter
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    await asyncio.sleep(0)


async def test_a_refused_token_is_one_error_and_closes_the_session(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with fx.LoopbackDiscord() as server:
        server.answer(r"/users/@me", (401, {"message": "401: Unauthorized", "code": 0}, {}))
        adapter = build("dc", {"type": "discord"}, {"DISCORD_BOT_TOKEN": "bad-token"})
        with pytest.raises(ConfigError, match=r"adapters\.dc\.token_env: Discord refused the token"):
            await adapter.start(RecordingHost())
        assert adapter.client.is_closed()
        await _start_and_collect(adapter)
    assert _noise(caplog) == []


async def test_an_unreachable_discord_closes_the_session(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    with socket.socket() as sock:  # a port nobody listens on: connection refused at once
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{port}/api/v10")
    adapter = build("dc", {"type": "discord"}, {"DISCORD_BOT_TOKEN": "token"})
    with pytest.raises(TransportError, match="login failed"):
        await adapter.start(RecordingHost())
    assert adapter.client.is_closed()
    await _start_and_collect(adapter)
    assert _noise(caplog) == []
