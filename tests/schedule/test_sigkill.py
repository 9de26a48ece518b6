"""Crash safety: the bot process is killed with SIGKILL and started again on the same database.

The console script protocol is driven through a real subprocess (``python -m bot console --script -``),
so nothing in-process can tidy up after the kill: only what was committed survives.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60.0


class Bot:
    """One bot process reading script lines from a pipe."""

    def __init__(self, db: Path, clock: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "console", "--script", "-", "--db", str(db), "--clock", clock],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._buffer = b""

    def feed(self, **line: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(line, ensure_ascii=False) + "\n").encode())
        self.proc.stdin.flush()

    def read_until(self, predicate: Any) -> list[dict[str, Any]]:
        """Output records up to and including the first that satisfies ``predicate``."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        got: list[dict[str, Any]] = []
        deadline = time.monotonic() + TIMEOUT
        while True:
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                record = json.loads(line)
                got.append(record)
                if predicate(record):
                    return got
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no matching output; got {got}"
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                chunk = os.read(fd, 65536)
                assert chunk, f"the bot exited early; got {got}"
                self._buffer += chunk

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=TIMEOUT)
        assert self.proc.returncode == -signal.SIGKILL

    def finish(self) -> list[dict[str, Any]]:
        """Close the input and read everything until a clean exit."""
        out, _ = self.proc.communicate(timeout=TIMEOUT)
        assert self.proc.returncode == 0
        rest = (self._buffer + out).decode().splitlines()
        return [json.loads(line) for line in rest if line.strip()]


def posts(records: list[dict[str, Any]], text: str) -> list[str]:
    return [r["at"] for r in records if r["action"] == "send" and r["text"] == text]


def test_schedule_survives_sigkill_and_posts_exactly_once(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    first = Bot(db, "2026-03-02T09:00:00+08:00")
    first.feed(
        type="message", chat="demo", user="mod", role="moderator", text="/schedule add daily 09:30 早上好"
    )
    first.read_until(lambda r: r["action"] == "send")
    first.kill()  # between the schedule's creation and its time

    # Started again at 09:20 and run past 09:30: the post appears, once. Killed right after it.
    second = Bot(db, "2026-03-02T09:20:00+08:00")
    second.feed(type="advance", seconds=3600)
    seen = second.read_until(lambda r: r["action"] == "send")
    assert posts(seen, "早上好") == ["2026-03-02T09:30:00+08:00"]
    second.kill()

    # Started again later the same morning: nothing is repeated.
    third = Bot(db, "2026-03-02T09:45:00+08:00")
    third.feed(type="advance", seconds=3600)
    assert posts(third.finish(), "早上好") == []

    # The next day it posts again, once.
    fourth = Bot(db, "2026-03-03T09:00:00+08:00")
    fourth.feed(type="advance", seconds=86400)
    assert posts(fourth.finish(), "早上好") == ["2026-03-03T09:30:00+08:00"]


def test_activity_reminder_after_sigkill_is_sent_late_within_grace(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    first = Bot(db, "2026-03-02T09:00:00+08:00")
    first.feed(
        type="message", chat="demo", user="mod", role="moderator", text="/event add 分享会 | 今天 12:00"
    )
    first.read_until(lambda r: r["action"] == "send")
    first.feed(type="message", chat="demo", user="alice", text="/join 1")
    first.read_until(lambda r: r["action"] == "send")
    first.kill()

    # Down across 11:00 (the T−1h reminder); back at 11:05, within the 10-minute grace window.
    second = Bot(db, "2026-03-02T11:05:00+08:00")
    second.feed(type="advance", seconds=7200)
    out = second.finish()
    sent = [(r["at"], r["text"].split("\n")[0]) for r in out if r["action"] == "send"]
    assert sent == [
        ("2026-03-02T11:05:00+08:00", "⏰ 还有 1 小时：#1 分享会 将于 2026-03-02 12:00 开始。"),
        ("2026-03-02T12:00:00+08:00", "🎉 #1 分享会 现在开始！发送 /here 1 签到（截至 2026-03-02 14:00）。"),
    ]
