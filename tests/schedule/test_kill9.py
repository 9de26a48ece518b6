"""kill -9 at random points, mid-burst included: every fire within the grace window goes out once.

Real ``python -m bot console --script -`` processes run 50 posts due every minute on one database
(a SQLite file, or a throwaway PostgreSQL database) and are killed with SIGKILL at random moments:
after a random number of posts of a burst went out, or a random time after the start (during
start-up, recovery, or between bursts). Each is restarted on the same database at the last clock
time it showed. Their output is read as it goes (one flushed JSON line per record), so every post a
killed process made is counted.

Expected: no fire is lost; a fire is posted twice only in the one documented window (the console
wrote the line, and the process died before the message id was committed), which shows as the last
post of a killed process being posted again. ``QUNYOU_KILL_ROUNDS`` sets the number of kills per
engine (default 5; the README's figures come from a longer run).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import select
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
POSTS = 50
#: Minutes each killed process is asked to run (it rarely gets through them all).
BURSTS = 3
START = "2026-03-02T09:00:00+08:00"
TIMEOUT = 120.0


class Bot:
    """One bot process reading script lines from a pipe; its output is collected as it comes."""

    def __init__(self, args: list[str], clock: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "console", "--script", "-", "--clock", clock, *args],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.records: list[dict[str, Any]] = []
        self._buffer = b""

    def feed(self, **line: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(line, ensure_ascii=False) + "\n").encode())
        self.proc.stdin.flush()

    def _read(self, timeout: float) -> bool:
        """Read what is there within ``timeout``; False at end of output."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return True
        chunk = os.read(fd, 65536)
        if not chunk:
            return False
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        self.records.extend(json.loads(line) for line in lines if line.strip())
        return True

    def wait_for(self, count: int, action: str = "send") -> None:
        """Read until ``count`` records of ``action`` have come out in all."""
        deadline = time.monotonic() + TIMEOUT
        while sum(r["action"] == action for r in self.records) < count:
            assert time.monotonic() < deadline, f"stuck at {len(self.records)} records"
            assert self._read(deadline - time.monotonic()), "the bot exited early"

    def wait_seconds(self, seconds: float) -> None:
        """Read output for ``seconds`` of real time."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if not self._read(left):
                return

    def kill(self) -> None:
        """SIGKILL, then collect every line the process wrote before it died."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=TIMEOUT)
        while self._read(TIMEOUT):
            pass

    def finish(self) -> None:
        """Close the input and read everything until a clean exit."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        while self._read(TIMEOUT):
            pass
        assert self.proc.wait(timeout=TIMEOUT) == 0

    def sends(self) -> list[tuple[str, str]]:
        return [(r["text"], r["at"]) for r in self.records if r["action"] == "send" and r["text"][0] == "p"]


@dataclass
class Tally:
    """What the kill run measured."""

    kills: int = 0
    mid_burst: int = 0
    fires: int = 0
    lost: list[tuple[str, str]] = field(default_factory=list)
    duplicated: list[tuple[str, str]] = field(default_factory=list)
    #: The last post of each killed process: a duplicate of one of these is the documented window.
    last_before_kill: set[tuple[str, str]] = field(default_factory=set)


def run_kills(args: list[str], rounds: int, seed: int) -> Tally:
    """Plan 50 posts a minute, then kill and restart ``rounds`` times; count what went out."""
    rng = random.Random(seed)
    tally = Tally()
    sent: list[tuple[str, str]] = []
    setup = Bot(args, START)
    for n in range(1, POSTS + 1):
        setup.feed(
            type="message",
            chat="demo",
            user="mod",
            role="moderator",
            text=f"/schedule add * * * * * p{n:02d}",
        )
    setup.finish()
    assert any(f"#{POSTS}：" in r.get("text", "") for r in setup.records)  # the 50th is planned
    clock = START
    for _ in range(rounds):
        bot = Bot(args, clock)
        for _ in range(BURSTS):
            bot.feed(type="advance", seconds=60)
        if rng.random() < 0.75:
            # Into a burst: after some posts went out, then a little later, so the kill does not
            # land just after a write more often than a kill at a random instant would.
            tally.mid_burst += 1
            bot.wait_for(rng.randint(1, BURSTS * POSTS - 1))
            bot.wait_seconds(rng.uniform(0.0, 0.1))
        else:
            bot.wait_seconds(rng.uniform(0.0, 4.0))
        bot.kill()
        tally.kills += 1
        posts = bot.sends()
        sent.extend(posts)
        if posts:
            tally.last_before_kill.add(posts[-1])
        clock = max((r["at"] for r in bot.records), default=clock, key=datetime.fromisoformat)
    final = Bot(args, clock)
    final.feed(type="advance", seconds=120)
    final.finish()
    sent.extend(final.sends())

    counts = Counter(sent)
    last = max(datetime.fromisoformat(at) for _, at in sent)
    minute = datetime.fromisoformat(START) + timedelta(minutes=1)
    while minute <= last:
        for n in range(1, POSTS + 1):
            key = (f"p{n:02d}", minute.isoformat())
            tally.fires += 1
            if counts[key] == 0:
                tally.lost.append(key)
            elif counts[key] > 1:
                tally.duplicated.extend([key] * (counts[key] - 1))
        minute += timedelta(minutes=1)
    assert len(counts) == tally.fires - len(tally.lost)  # nothing posted at any other time
    return tally


def _check(tally: Tally, engine: str) -> None:
    print(
        f"\n{engine}: {tally.kills} kills ({tally.mid_burst} mid-burst), {tally.fires} fires, "
        f"{len(tally.lost)} lost, {len(tally.duplicated)} duplicated"
    )
    assert tally.fires >= POSTS * 2
    assert tally.lost == []
    # A duplicate only in the documented window: the post in flight when a process was killed.
    assert set(tally.duplicated) <= tally.last_before_kill
    assert len(tally.duplicated) <= tally.kills


def _rounds() -> int:
    return int(os.environ.get("QUNYOU_KILL_ROUNDS", "5"))


@pytest.mark.parametrize("seed", [24])
async def test_kill9_mid_burst_loses_nothing_on_sqlite(tmp_path: Path, seed: int) -> None:
    tally = await asyncio.to_thread(run_kills, ["--db", str(tmp_path / "bot.db")], _rounds(), seed)
    _check(tally, "sqlite")


# Only the PostgreSQL instance of the two-engine ``db_url`` fixture: SQLite has its own test above.
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_kill9_mid_burst_loses_nothing_on_postgresql(tmp_path: Path, db_url: str) -> None:
    config = tmp_path / "pg.toml"
    config.write_text(f'[storage]\nurl = "{db_url}"\n', encoding="utf-8")
    tally = await asyncio.to_thread(run_kills, ["--config", str(config)], _rounds(), 25)
    _check(tally, "postgresql")
