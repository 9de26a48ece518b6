"""Golden console scenarios: tests/scenarios/NAME.jsonl against NAME.expected.jsonl.

A scenario's first lines may carry options as comments: ``# clock: ISO-8601``. An optional
``NAME.toml`` next to it is the config. Set QUNYOU_UPDATE_GOLDEN=1 to rewrite the expected
files after a deliberate change (and read the diff before committing it).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from adapters.console.script import run_script
from bot.app import App
from bot.config import Settings, load_settings

SCENARIOS = Path(__file__).with_name("scenarios")
ROOT = Path(__file__).resolve().parent.parent
CASES = sorted(SCENARIOS.glob("*.jsonl"))
CASES = [c for c in CASES if not c.name.endswith(".expected.jsonl")]


def _options(lines: list[str]) -> datetime | None:
    for line in lines:
        if line.startswith("# clock:"):
            return datetime.fromisoformat(line.split(":", 1)[1].strip())
    return None


async def _play(path: Path, db: Path) -> str:
    lines = path.read_text(encoding="utf-8").splitlines()
    config = path.with_suffix(".toml")
    settings = load_settings(config) if config.exists() else Settings()
    out = io.StringIO()
    await run_script(lines, settings=settings, start=_options(lines), db_path=db, out=out, make_app=App)
    return out.getvalue()


@pytest.mark.parametrize("path", CASES, ids=[c.stem for c in CASES])
async def test_scenario_matches_golden_and_is_deterministic(path: Path, tmp_path: Path) -> None:
    first = await _play(path, tmp_path / "one.db")
    second = await _play(path, tmp_path / "two.db")
    assert first == second, "the same script must give the same bytes"
    expected = path.with_name(path.stem + ".expected.jsonl")
    if os.environ.get("QUNYOU_UPDATE_GOLDEN"):
        expected.write_text(first, encoding="utf-8")
    assert expected.exists(), f"missing {expected.name}; run with QUNYOU_UPDATE_GOLDEN=1"
    assert first == expected.read_text(encoding="utf-8")


def test_scenarios_exist() -> None:
    assert len(CASES) >= 2


def _cli(args: list[str], stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_done_when_example_through_the_real_cli() -> None:
    script = '{"type":"message","chat":"demo","user":"alice","text":"/help"}\n'
    args = ["console", "--script", "-", "--clock", "2026-03-02T09:00:00+08:00"]
    first, second = _cli(args, script), _cli(args, script)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    lines = first.stdout.splitlines()
    assert (
        lines[0]
        == '{"at": "2026-03-02T09:00:00+08:00", "action": "seen", "chat": "demo", "user": "alice", "id": "m1"}'
    )
    assert '"action": "send"' in lines[1] and '"reply_to": "m1"' in lines[1] and "可用的命令" in lines[1]


def test_state_survives_two_runs_on_one_db_file(tmp_path: Path) -> None:
    db = tmp_path / "keep.db"
    clock = ["--clock", "2026-03-02T09:00:00+08:00", "--db", str(db)]
    first = _cli(
        ["console", "--script", "-", *clock],
        '{"type":"message","chat":"demo","user":"olga","role":"owner","text":"/lang en"}\n',
    )
    assert first.returncode == 0, first.stderr
    second = _cli(
        ["console", "--script", "-", *clock],
        '{"type":"message","chat":"demo","user":"alice","text":"/ping"}\n',
    )
    assert "pong 🏓 I'm here." in second.stdout
