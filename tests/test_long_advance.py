"""Issue 25, item 4: long ``advance`` lines are capped alike and cost a bounded number of runs.

``to`` near the year 9999 raised OverflowError and ended the process; ``to`` 100 years ahead was
accepted (only ``seconds`` was capped) and then fired a daily schedule 36,500 times (~40 min).
Now both are capped at ten years (an ``error`` record beyond), and recurring schedules run only
through the last ``CATCH_UP`` of a jump: before that the bot is idle, as after an outage, and a
schedule is moved past it in one step.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from adapters.console.script import CATCH_UP
from tests.harness import Harness, texts


async def test_ten_years_with_a_daily_schedule_runs_only_the_last_month(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("g", "mod", "/schedule add daily 09:00 Good morning", role="moderator")
        started = time.monotonic()
        out = await h.advance(seconds=10 * 365 * 86400)
        elapsed = time.monotonic() - started
        posts = [r for r in out if r["action"] == "send" and r["text"] == "Good morning"]
        days = [datetime.fromisoformat(r["at"]).date() for r in posts]
        # At most once per local day, and only in the window the jump runs through.
        assert len(days) == len(set(days))
        assert 1 <= len(days) <= CATCH_UP.days + 1
        assert days[-1] == h.now.astimezone(datetime.fromisoformat(out[-1]["at"]).tzinfo).date()
        assert elapsed < 120, elapsed  # was ~15 minutes (3,650 runs of each daily job)
        # The schedule is still alive after the jump.
        later = await h.advance(seconds=86400)
        assert texts(later).count("Good morning") == 1


async def test_advance_caps_and_overflow_give_error_records(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        lines = [
            '{"type":"advance","to":"9999-12-31T23:00:00-05:00"}',
            '{"type":"advance","to":"2126-03-02T09:00:00+08:00"}',
            '{"type":"advance","seconds":1e308}',
            '{"type":"advance","seconds":NaN}',
            '{"type":"message","chat":"g","user":"a","text":"/ping"}',
        ]
        before = h.now
        await h.session.run(lines)
        out = h.adapter.take()
        errors = [r for r in out if r["action"] == "error"]
        assert [e["line"] for e in errors] == [1, 2, 3, 4]
        assert "ten years" in errors[1]["error"] and "ten years" in errors[2]["error"]
        assert h.now == before
        assert any(r["action"] == "send" for r in out)  # the run went on
