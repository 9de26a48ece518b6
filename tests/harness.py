"""The console adapter as an in-process test harness: inject events, read the actions."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.console.adapter import ConsoleAdapter, Record
from adapters.console.script import ScriptSession
from bot.adapter import Capability
from bot.app import App
from bot.clock import parse_instant
from bot.config import parse_settings
from bot.feature import Feature
from bot.services import Services


class Harness:
    """A real bot on a real SQLite file (or a given URL) with a virtual clock."""

    def __init__(
        self,
        tmp_path: Path,
        *,
        clock: str = "2026-03-02T09:00:00+08:00",
        config: dict[str, Any] | None = None,
        db_url: str | None = None,
        capabilities: frozenset[Capability] | None = None,
        features: list[Feature] | None = None,
    ) -> None:
        data = dict(config or {})
        data.setdefault("storage", {})
        data["storage"] = {**data["storage"], "url": db_url or f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"}
        self.settings = parse_settings(data)
        self.start_at = datetime.fromisoformat(clock)
        self.session = ScriptSession(
            self.settings, start=self.start_at, write=lambda _r: None, features=features, make_app=App
        )
        if capabilities is not None:
            self.session.adapter.capabilities = capabilities

    async def __aenter__(self) -> Harness:
        await self.session.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.session.stop()

    @property
    def adapter(self) -> ConsoleAdapter:
        """The console platform."""
        return self.session.adapter

    @property
    def app(self) -> App:
        """The running app."""
        return self.session.app

    @property
    def services(self) -> Services:
        """The running app's services."""
        assert self.session.app.services is not None
        return self.session.app.services

    @property
    def now(self) -> datetime:
        """The virtual clock."""
        return self.session.clock.now()

    async def _finish(self, task: Any) -> list[Record]:
        if task is not None:
            await task
        assert self.app.dispatcher is not None
        await self.app.dispatcher.drain()
        return self.adapter.take()

    async def line(self, **fields: Any) -> list[Record]:
        """One console-protocol input line (``type=…``, ``platform=…``), as a script gives it."""
        await self.session.feed(fields)
        return self.adapter.take()

    async def say(self, chat: str, user: str, text: str, **kw: Any) -> list[Record]:
        """A member says ``text``; returns every record the bot produced (``seen`` first)."""
        return await self._finish(self.adapter.message(chat, user, text, **kw))

    async def dm(self, user: str, text: str, **kw: Any) -> list[Record]:
        """A private message."""
        return await self._finish(self.adapter.dm(user, text, **kw))

    async def join(self, chat: str, user: str, **kw: Any) -> list[Record]:
        """A member joins."""
        return await self._finish(self.adapter.join(chat, user, **kw))

    async def request(self, chat: str, user: str, answer: str) -> list[Record]:
        """Someone asks to join, answering the group's question."""
        return await self._finish(self.adapter.request(chat, user, answer))

    async def leave(self, chat: str, user: str) -> list[Record]:
        """A member leaves."""
        return await self._finish(self.adapter.leave(chat, user))

    async def press(self, chat: str, user: str, message: str, data: str) -> list[Record]:
        """A member presses a button."""
        return await self._finish(self.adapter.button(chat, user, message, data))

    async def advance(self, seconds: float | None = None, *, to: str | None = None) -> list[Record]:
        """Move the clock, running due jobs."""
        target = parse_instant(to) if to else self.now + timedelta(seconds=seconds or 0)
        await self.session.advance(target)
        return self.adapter.take()

    async def restart(self) -> list[Record]:
        """Stop and start on the same database."""
        await self.session.restart()
        return self.adapter.take()

    async def flush(self) -> None:
        """Run the batched writes now (instead of waiting a second)."""
        await self.services.batcher.flush()


def sends(records: list[Record]) -> list[Record]:
    """Only the ``send`` records."""
    return [r for r in records if r["action"] == "send"]


def texts(records: list[Record]) -> list[str]:
    """The texts the bot sent."""
    return [r["text"] for r in records if r["action"] == "send"]
