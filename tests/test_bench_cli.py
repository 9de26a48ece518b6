"""``python -m bot bench SECTION --help`` and bad section options: a usage text or one clear line.

The positional figures of ``core``, ``checkin``, ``startup`` and ``schedule`` used to be parsed
by hand with ``int(argv[0])``, so ``--help`` (or a typo) ended in a ``ValueError`` traceback.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.runner import SECTIONS

ROOT = Path(__file__).resolve().parent.parent


def _run_section(name: str, argv: list[str]) -> None:
    result = SECTIONS[name]()(argv)
    if inspect.isawaitable(result):
        asyncio.run(result)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_every_section_answers_help_with_its_usage(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        _run_section(name, ["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: "), out
    assert f"bench {name}" in out.splitlines()[0]


@pytest.mark.parametrize(
    ("name", "argv", "said"),
    [
        ("core", ["many"], "'many' is not a whole number"),
        ("checkin", ["100", "0"], "'0' must be above zero"),
        ("startup", ["-3"], "'-3' must be above zero"),
        ("schedule", ["10", "5", "3", "nan"], "'nan' must be a finite number above zero"),
        ("schedule", ["1", "2", "3", "4", "5"], "unrecognized arguments: 5"),
    ],
)
def test_bad_section_options_are_one_usage_error(
    name: str, argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        _run_section(name, argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert said in err
    assert "Traceback" not in err


def test_bench_help_through_the_command_line() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "bench", "checkin", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python -m bot bench checkin")
    assert "Traceback" not in result.stderr
