"""``python -m bot console``: chat with the bot in a terminal, no platform account needed."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from adapters.console.adapter import ConsoleAdapter, Record
from adapters.console.runtime import Runtime, RuntimeFactory
from adapters.console.script import CATCH_UP, MAX_ADVANCE
from adapters.console.simulate import MAX_RAID, simulate_raid
from bot.args import BadArgument, UsageError, parse_duration
from bot.clock import SystemClock, TickingClock, zone
from bot.config import Settings
from bot.roles import Role

HELP = """Commands of the console itself:
  /as NAME          speak as NAME            /in CHAT      switch to group CHAT
  /role ROLE        give the speaker a platform role (member, moderator, admin, owner)
  /advance 1d       move the clock forward (10m, 2h, 3d…); due jobs run
  /dm TEXT          say TEXT to the bot privately
  /press MSG DATA   press button DATA under bot message MSG
  /join NAME        NAME joins the group     /leave NAME   NAME leaves
  /simulate raid 50 50 fresh accounts join and spam (then /advance 10m to see the raid end)
  /photo FILE TEXT  send the picture FILE with TEXT as its caption (a command in TEXT gets it:
                    /photo cat.png /schedule add daily 09:00 早安)
  /quit             leave
Anything else is said in the group by the current speaker."""


def pretty_printer(out: TextIO | None = None) -> Callable[[Record], None]:
    """Readable text for a person (not the JSON protocol)."""

    def write(record: Record) -> None:
        stream = out or sys.stdout
        action = record["action"]
        clock = record["at"][11:16]
        if action == "seen":
            return
        if action == "send":
            where = f"[{record['chat']}]" if "chat" in record else f"[private → {record['user']}]"
            stream.write(f"{clock} {where} 🤖 ({record['id']}) {record['text']}\n")
            for row in record.get("buttons") or []:
                stream.write("      " + "  ".join(f"[{b['text']} → {b['data']}]" for b in row) + "\n")
            if record.get("image"):
                stream.write(f"      🖼 {record['image']}\n")
        else:
            details = " ".join(f"{k}={v}" for k, v in record.items() if k not in ("at", "action"))
            stream.write(f"{clock} * {action} {details}\n")
        stream.flush()

    return write


async def _read_line(prompt: str) -> str | None:
    try:
        return await asyncio.to_thread(input, prompt)
    except EOFError:
        return None


async def _ticker(app: Runtime, clock: TickingClock) -> None:
    # Time passes between lines in the interactive console: run jobs as they fall due.
    while True:
        await asyncio.sleep(1)
        if app.services is not None:
            await app.services.scheduler.run_due(clock.now())


async def _simulate(adapter: ConsoleAdapter, app: Runtime, chat: str, rest: str) -> None:
    match rest.split():
        case ["raid"]:
            size = 50
        case ["raid", number] if number.isdigit() and 1 <= int(number) <= MAX_RAID:
            size = int(number)
        case ["raid", number]:
            print(f"a raid of {number!r} accounts? give a number from 1 to {MAX_RAID}: /simulate raid 50")
            return
        case [what, *_] if what != "raid":
            print(f"nothing called {what!r} to simulate; there is one: /simulate raid [1..{MAX_RAID}]")
            return
        case _:
            print(f"/simulate raid [1..{MAX_RAID}] — a synthetic raid on this group")
            return
    assert app.dispatcher is not None
    await simulate_raid(adapter, chat, size, app.dispatcher.drain)
    print(
        f"simulated: {size} accounts joined and posted {2 * size} spam messages; /advance 10m ends the raid"
    )


async def run_repl(
    settings: Settings, *, start: datetime | None, demo: bool, make_app: RuntimeFactory
) -> int:
    """Run the interactive console until /quit or end of input; ``make_app`` builds the bot."""
    clock = TickingClock(start or SystemClock().now())
    adapter = ConsoleAdapter(
        "console",
        clock=clock,
        emit=pretty_printer(),
        out_tz=zone(settings.bot.timezone),
        bot_name=settings.bot.name,
    )
    app = make_app(settings, clock=clock, adapters=[adapter])
    await app.start()
    speaker, chat = "alice", "demo"
    if demo:
        from bot.demo import seed_demo

        assert app.services is not None
        await seed_demo(app.services, adapter, chat)
        speaker = "owner"
    print(
        f"Qunyou console — you are {speaker} in group {chat}. "
        "Type /help for the bot, :help for the console's own commands."
    )
    ticker = asyncio.create_task(_ticker(app, clock))
    try:
        while True:
            line = await _read_line(f"{speaker}@{chat}> ")
            if line is None:
                break
            line = line.strip()
            if not line:
                continue
            head, _, rest = line.partition(" ")
            rest = rest.strip()
            task = None
            if head in (":help", "/console"):
                print(HELP)
            elif head == "/quit":
                break
            elif head == "/as" and rest:
                speaker = rest
            elif head == "/in" and rest:
                chat = rest
            elif head == "/role" and rest:
                try:
                    adapter.set_role(chat, speaker, Role.parse(rest))
                except ValueError:
                    print("roles: member, moderator, admin, owner")
            elif head == "/advance" and rest:
                try:
                    step = parse_duration(rest)
                    if step > MAX_ADVANCE:
                        print("at most ten years at a time")
                        continue
                    target = clock.now() + step
                except (UsageError, BadArgument, OverflowError):
                    print("durations look like 10m, 2h, 3d, 1天")
                    continue
                assert app.services is not None
                await app.services.scheduler.run_due(target, catch_up=CATCH_UP)
            elif head == "/dm" and rest:
                task = adapter.dm(speaker, rest)
            elif head == "/press" and rest:
                message, _, data = rest.partition(" ")
                task = adapter.button(chat, speaker, message, data.strip())
            elif head == "/join" and rest:
                task = adapter.join(chat, rest)
            elif head == "/leave" and rest:
                task = adapter.leave(chat, rest)
            elif head == "/photo" and rest:
                path, _, caption = rest.partition(" ")
                task = adapter.message(chat, speaker, caption.strip(), image=path)
            elif head == "/simulate":
                await _simulate(adapter, app, chat, rest)
            else:
                task = adapter.message(chat, speaker, line)
            if task is not None:
                await task
            assert app.dispatcher is not None
            await app.dispatcher.drain()
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
        await app.stop()
    return 0
