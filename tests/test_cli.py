"""The command line: the interactive console, `run` without a config, db maintenance."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _cli(args: list[str], stdin: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_interactive_demo_console() -> None:
    result = _cli(
        ["console", "--demo", "--clock", "2026-03-02T09:00:00+08:00"],
        "/ping\n/as alice\n/set language en\n:help\n/advance 1d\n/quit\n",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "you are owner in group demo" in out
    assert "pong 🏓 我在。" in out
    assert "抱歉，这个命令只有管理员可以使用。" in out  # alice is a plain member
    assert "/advance 1d" in out  # the console's own help


def test_run_without_config_uses_the_console_on_qunyou_db(tmp_path: Path) -> None:
    result = _cli(["run"], "/lang en\n/ping\n", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "qunyou.db").exists()
    # alice (the default speaker) is no moderator, so the language stays Chinese
    assert "pong 🏓 我在。" in result.stdout


def test_db_upgrade_and_backup(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\nurl = "sqlite+aiosqlite:///{tmp_path / "live.db"}"\n', encoding="utf-8")
    upgrade = _cli(["db", "upgrade", "--config", str(config)], "")
    assert upgrade.returncode == 0, upgrade.stderr
    backup = _cli(["db", "backup", str(tmp_path / "copy.db"), "--config", str(config)], "")
    assert backup.returncode == 0, backup.stderr
    assert (tmp_path / "copy.db").stat().st_size > 0


def test_missing_script_file_is_a_clear_error() -> None:
    result = _cli(["console", "--script", "/nonexistent/script.jsonl"], "")
    assert result.returncode == 2 and "no such file" in result.stderr
    bad_clock = _cli(["console", "--script", "-", "--clock", "tuesday"], "")
    assert bad_clock.returncode == 2 and "--clock" in bad_clock.stderr
