"""``python -m bot console --script FILE``: JSON lines in, JSON lines out (CONSOLE_PROTOCOL.md)."""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, TextIO

from adapters.console.adapter import OTHER_PLATFORMS, PLATFORM, ConsoleAdapter, Record, local
from adapters.console.runtime import Runtime, RuntimeFactory
from bot.clock import SystemClock, VirtualClock, parse_instant, zone
from bot.config import Settings
from bot.roles import Role
from bot.text import clean

log = logging.getLogger(__name__)

_MAX_LINE = 1_000_000

#: The longest ``advance``, by ``seconds`` or by ``to`` alike.
MAX_ADVANCE = timedelta(days=10 * 366)

#: How much of a long ``advance`` recurring schedules run through (the end of it); before that
#: the bot is idle, as after an outage (``Scheduler.run_due``). A month: every daily, weekly
#: and monthly schedule still shows, and a ten-year jump costs a month of runs, not ten years.
CATCH_UP = timedelta(days=31)


class ScriptError(ValueError):
    """An input line the protocol does not allow."""


def _need(obj: dict[str, Any], *names: str) -> list[str]:
    values = []
    for name in names:
        value = obj.get(name)
        if not isinstance(value, str) or not value:
            raise ScriptError(f"missing or empty field {name!r}")
        values.append(value)
    return values


def _platform(obj: dict[str, Any]) -> str:
    """The line's ``platform`` (``console`` when absent); an unknown one is the line's error."""
    platform = obj.get("platform", PLATFORM)
    if platform == PLATFORM or platform in OTHER_PLATFORMS:
        return str(platform)
    shown = platform[:20] if isinstance(platform, str) else type(platform).__name__
    raise ScriptError(f"unknown platform {shown!r} (console, {', '.join(OTHER_PLATFORMS)})")


def _opt(obj: dict[str, Any], name: str) -> str | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, str | int):
        raise ScriptError(f"field {name!r} must be a string")
    return str(value)


class ScriptSession:
    """One scripted run: an app on a virtual clock, fed line by line."""

    def __init__(
        self,
        settings: Settings,
        *,
        start: datetime | None,
        write: Callable[[Record], None],
        make_app: RuntimeFactory,
        out_tz: tzinfo | None = None,
        features: Any = None,
    ) -> None:
        self.settings = settings
        #: Builds the bot (``bot.app.App``, handed in by ``bot/cli.py`` or a test harness).
        self._make_app = make_app
        self.clock = VirtualClock(start or SystemClock().now())
        tz = out_tz or (start.tzinfo if start is not None else zone(settings.bot.timezone))
        self.adapter = ConsoleAdapter(
            "console", clock=self.clock, emit=write, out_tz=tz, bot_name=settings.bot.name
        )
        self._features = features
        self.app = self._new_app()

    def _new_app(self) -> Runtime:
        return self._make_app(
            self.settings, clock=self.clock, adapters=[self.adapter], features=self._features
        )

    async def start(self) -> None:
        """Start the bot."""
        await self.app.start()

    async def stop(self) -> None:
        """Stop the bot."""
        await self.app.stop()

    async def restart(self) -> None:
        """Stop and start again on the same database, as after a crash."""
        await self.app.stop()
        self.app = self._new_app()
        await self.app.start()

    async def advance(self, target: datetime) -> None:
        """Move the clock, running every job that falls due, in time order."""
        assert self.app.services is not None and self.app.dispatcher is not None
        if target < self.clock.now():
            raise ScriptError("the clock cannot go backwards")
        await self.app.services.scheduler.run_due(target, catch_up=CATCH_UP)
        await self.app.dispatcher.drain()

    async def feed(self, obj: dict[str, Any]) -> None:
        """Handle one parsed input object and wait until the bot has finished with it."""
        kind = obj.get("type")
        adapter = self.adapter
        task: Any = None
        # Only lines about a chat or a user carry a platform; elsewhere the field is ignored.
        on = _platform(obj) if kind in ("message", "dm", "join", "leave", "button") else PLATFORM
        if kind == "message":
            chat, user = (local(on, name) for name in _need(obj, "chat", "user"))
            text = obj.get("text")
            if not isinstance(text, str):
                raise ScriptError("missing field 'text'")
            role = _opt(obj, "role")
            if role:
                try:
                    Role.parse(role)
                except ValueError:
                    # Found by the protocol fuzzer: an unknown role ended the whole run.
                    raise ScriptError(f"unknown role {role[:20]!r}") from None
            task = adapter.message(
                chat,
                user,
                text,
                id=_opt(obj, "id"),
                reply_to=_opt(obj, "reply_to"),
                role=role,
                name=_opt(obj, "name"),
                lang=_opt(obj, "lang"),
                # Only when given: the platform bridges of the adapter tests play scripts too.
                **({"update": update} if (update := _opt(obj, "update")) else {}),
                **({"image": image} if (image := _opt(obj, "image")) else {}),
            )
        elif kind == "dm":
            user = local(on, _need(obj, "user")[0])
            text = obj.get("text")
            if not isinstance(text, str):
                raise ScriptError("missing field 'text'")
            task = adapter.dm(user, text, id=_opt(obj, "id"), lang=_opt(obj, "lang"))
        elif kind == "join":
            chat, user = (local(on, name) for name in _need(obj, "chat", "user"))
            inviter = _opt(obj, "invited_by")
            task = adapter.join(
                chat, user, invited_by=local(on, inviter) if inviter else None, name=_opt(obj, "name")
            )
        elif kind == "leave":
            chat, user = (local(on, name) for name in _need(obj, "chat", "user"))
            task = adapter.leave(chat, user)
        elif kind == "button":
            chat, user, message, data = _need(obj, "chat", "user", "message", "data")
            task = adapter.button(local(on, chat), local(on, user), message, data)
        elif kind == "advance":
            await self.advance(self._target(obj))
        elif kind == "restart":
            await self.restart()
        else:
            raise ScriptError(f"unknown type {kind!r}")
        if task is not None:
            await task
        assert self.app.dispatcher is not None
        await self.app.dispatcher.drain()

    def _target(self, obj: dict[str, Any]) -> datetime:
        now = self.clock.now()
        if "to" in obj:
            try:
                target = parse_instant(str(obj["to"]))
            except (ValueError, OverflowError) as exc:  # Overflow: near year 1 or 9999 in UTC
                raise ScriptError(f"bad 'to': {exc}") from None
            if target - now > MAX_ADVANCE:
                raise ScriptError("advance of more than ten years")
            return target
        seconds = obj.get("seconds")
        # NaN passes both comparisons below and then fails in timedelta (found by the fuzzer).
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds >= 0:
            raise ScriptError("advance needs 'seconds' (a number ≥ 0) or 'to'")
        if seconds > MAX_ADVANCE.total_seconds():
            raise ScriptError("advance of more than ten years")
        try:
            return now + timedelta(seconds=seconds)
        except OverflowError:  # ten years after a clock started near 9999
            raise ScriptError("advance past the year 9999") from None

    async def run(self, lines: Iterable[str]) -> None:
        """Feed every line; a bad line gives an ``error`` record and the run goes on."""
        for number, raw in enumerate(lines, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            try:
                if len(line) > _MAX_LINE:
                    raise ScriptError(f"line longer than {_MAX_LINE} characters")
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ScriptError(f"not JSON: {exc.msg}") from None
                except RecursionError:
                    # 20,000 nested arrays exhaust the decoder's stack: that line is refused,
                    # not the whole run (issue 21).
                    raise ScriptError("not JSON: nested too deeply") from None
                if not isinstance(obj, dict):
                    raise ScriptError("not a JSON object")
                await self.feed(obj)
            except ScriptError as exc:
                self.adapter.emit("error", line=number, error=str(exc))


def script_lines(stream: Iterable[bytes]) -> Iterator[str]:
    """The lines of a script, read the same way from a file and from standard input.

    Lines end at ``\n`` only (a trailing ``\r`` is stripped with the other whitespace): text
    mode would also end one at ``\r``, and ``str.splitlines`` at U+2028 or U+0085, which are
    valid inside a JSON string, so one valid line failed in a file and worked from stdin.
    Bytes that are not UTF-8 become U+FFFD instead of ending the run before its first line.
    """
    for raw in stream:
        yield raw.decode("utf-8", errors="replace")


def json_writer(out: TextIO) -> Callable[[Record], None]:
    """Write records as JSON lines (UTF-8, unescaped CJK) and flush each one."""

    def write(record: Record) -> None:
        line = json.dumps(record, ensure_ascii=False)
        # Inputs are cleaned at the adapter's edge; this guards the output stream against any
        # lone surrogate still reaching a record (say, from a feature), which would end the run.
        out.write(clean(line) + "\n")
        out.flush()

    return write


async def run_script(
    lines: Iterable[str],
    *,
    settings: Settings,
    start: datetime | None,
    db_path: Path | None,
    out: TextIO,
    make_app: RuntimeFactory,
) -> int:
    """Run a whole script; returns the exit code.

    The database is ``db_path`` when given, else the one ``[storage] url`` names in the config
    file (CONSOLE_PROTOCOL.md: how console workers on one PostgreSQL database are tested), else a
    fresh temporary SQLite file. ``make_app`` builds the bot (``bot.app.App``).
    """
    with tempfile.TemporaryDirectory(prefix="qunyou-") as tmp:
        if db_path is not None or "url" not in settings.storage.model_fields_set:
            path = db_path or Path(tmp) / "console.db"
            storage = settings.storage.model_copy(update={"url": f"sqlite+aiosqlite:///{path}"})
            settings = settings.model_copy(update={"storage": storage})
        session = ScriptSession(settings, start=start, write=json_writer(out), make_app=make_app)
        await session.start()
        try:
            await session.run(lines)
        finally:
            await session.stop()
    return 0
