"""``python -m bot export stats``: exact rows, both formats, and every bad request."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from handlers.stats.export import ExportError, add_arguments, main, run_export
from tests.harness import Harness

START = "2026-03-02T09:00:00+08:00"
ROOT = Path(__file__).resolve().parent.parent.parent


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


async def _two_days(h: Harness) -> None:
    first = (await h.say("demo", "a", "早"))[0]["id"]
    await h.say("demo", "b", "早啊", reply_to=first)
    await h.join("demo", "c")
    await h.advance(86400)
    await h.say("demo", "a", "又是一天")
    await h.advance(86400)
    await h.flush()


async def test_export_csv_and_json_exact(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url, clock=START) as h:
        await _two_days(h)
        db, clock = h.services.db, h.services.clock
        csv_text = await run_export(
            db, _args("--group", "demo", "--from", "2026-03-01", "--to", "2026-03-10"), clock
        )
        doc = json.loads(
            await run_export(
                db,
                _args("--group", "1", "--from", "2026-03-02", "--to", "2026-03-02", "--format", "json"),
                clock,
            )
        )
        out = tmp_path / "s.csv"
        code = await main(
            db,
            ["--group", "console:demo", "--from", "2026-03-02", "--to", "2026-03-03", "--out", str(out)],
            clock,
        )
    assert csv_text.splitlines() == [
        "day,messages,replies,commands,joins,leaves,checkins,dau,wau,mau",
        "2026-03-01,0,0,0,0,0,0,0,0,0",
        "2026-03-02,2,1,0,1,0,0,2,2,2",
        "2026-03-03,1,0,0,0,0,0,1,2,2",  # today (03-04) is not complete: clipped
    ]
    assert doc["group"]["scope_id"] == "demo"
    assert doc["days"] == [
        {
            "day": "2026-03-02",
            "messages": 2,
            "replies": 1,
            "commands": 0,
            "joins": 1,
            "leaves": 0,
            "checkins": 0,
            "dau": 2,
            "wau": 2,
            "mau": 2,
        }
    ]
    assert code == 0
    assert out.read_text(encoding="utf-8").count("\n") == 3


async def test_export_bad_requests(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async with Harness(tmp_path, clock=START) as h:
        await _two_days(h)
        db, clock = h.services.db, h.services.clock
        with pytest.raises(ExportError, match="swap them"):
            await run_export(
                db, _args("--group", "demo", "--from", "2026-03-03", "--to", "2026-03-01"), clock
            )
        with pytest.raises(ExportError, match="unknown group 'nowhere'; known groups: 1 \\(console:demo\\)"):
            await run_export(
                db, _args("--group", "nowhere", "--from", "2026-03-01", "--to", "2026-03-02"), clock
            )
        with pytest.raises(ExportError, match="no complete day"):
            await run_export(
                db, _args("--group", "demo", "--from", "2026-03-04", "--to", "2026-03-09"), clock
            )
        assert await main(db, ["--group", "demo", "--from", "2026-03-05", "--to", "2026-03-01"], clock) == 2
        with pytest.raises(SystemExit):
            await main(db, ["--group", "demo", "--from", "yesterday", "--to", "2026-03-01"], clock)
        with pytest.raises(SystemExit):
            await main(
                db,
                ["--group", "demo", "--from", "2026-03-01", "--to", "2026-03-02", "--format", "xml"],
                clock,
            )
    err = capsys.readouterr().err
    assert "export stats: --from 2026-03-05 is after --to 2026-03-01; swap them" in err
    assert "'yesterday' is not a date like 2026-03-01" in err
    assert date(2026, 3, 1).isoformat() in err


def _cli(args: list[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_export_from_the_command_line(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    script = "\n".join(
        json.dumps(line, ensure_ascii=False)
        for line in (
            {"type": "message", "chat": "demo", "user": "a", "text": "早"},
            {"type": "message", "chat": "demo", "user": "b", "text": "早啊"},
            {"type": "advance", "seconds": 86400},
        )
    )
    played = _cli(["console", "--script", "-", "--clock", START, "--db", str(db)], script)
    assert played.returncode == 0, played.stderr
    out = _cli(
        ["export", "stats", "--db", str(db), "--group", "demo", "--from", "2026-03-02", "--to", "2026-03-02"]
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "day,messages,replies,commands,joins,leaves,checkins,dau,wau,mau",
        "2026-03-02,2,0,0,0,0,0,2,2,2",
    ]
    bad = _cli(
        ["export", "stats", "--db", str(db), "--group", "demo", "--from", "2026-03-09", "--to", "2026-03-02"]
    )
    assert bad.returncode == 2
    assert "swap them" in bad.stderr
