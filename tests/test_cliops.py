"""Operator-side rough edges of issue 21: input that killed the console, start-up messages,
``db backup``, config errors, and relative paths. Each test failed before its fix."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from adapters.console.script import run_script
from bot.app import App, build_adapters
from bot.config import Settings, load_settings, parse_settings
from bot.errors import ConfigError
from handlers import FEATURES
from storage import Database, template
from storage.database import MIGRATIONS_DIR
from storage.schema_heads import declared_heads
from tests.harness import Harness

ROOT = Path(__file__).resolve().parent.parent


async def _script(lines: list[str], tmp_path: Path) -> list[dict[str, object]]:
    out = io.StringIO()
    code = await run_script(
        lines, settings=Settings(), start=None, db_path=tmp_path / "s.db", out=out, make_app=App
    )
    assert code == 0
    return [json.loads(x) for x in out.getvalue().splitlines()]


async def test_deeply_nested_json_is_an_error_record_and_the_run_goes_on(tmp_path: Path) -> None:
    nested = "[" * 20_000 + "]" * 20_000
    deep_object = '{"type":"message","chat":"g","user":"u","text":' + "[" * 5000 + "]" * 5000 + "}"
    records = await _script(
        [nested, deep_object, '{"type":"message","chat":"g","user":"u","text":"/ping"}'], tmp_path
    )
    errors = [r for r in records if r["action"] == "error"]
    assert [e["line"] for e in errors] == [1, 2]
    assert "nested too deeply" in str(errors[0]["error"])
    assert records[-1]["action"] == "send" and records[-1]["text"] == "pong 🏓 我在。"


# -- the command line, as a new operator meets it --------------------------------------------------
def _cli(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        input="",
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


def test_run_with_the_example_config_says_no_adapter_is_configured(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text((ROOT / "config.example.toml").read_text("utf-8"), "utf-8")
    result = _cli(["run"], tmp_path)
    assert result.returncode == 2
    assert "no adapter is configured" in result.stderr and "[adapters." in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_backup_of_a_missing_database_fails_with_the_reason(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[storage]\nurl = "sqlite+aiosqlite:///data/live.db"\n', encoding="utf-8")
    result = _cli(["db", "backup", str(tmp_path / "copy.db"), "--config", str(config)], ROOT)
    assert result.returncode == 1
    assert "no database at" in result.stderr and "live.db" in result.stderr
    assert not (tmp_path / "copy.db").exists() and not (tmp_path / "data" / "live.db").exists()


def test_a_directory_for_a_database_file_is_one_clear_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[storage]\nurl = "sqlite+aiosqlite:///live.db"\n', encoding="utf-8")
    assert _cli(["db", "upgrade", "--config", str(config)], ROOT).returncode == 0
    for args in (
        ["console", "--db", str(tmp_path)],
        ["console", "--script", "-", "--db", str(tmp_path)],
        ["db", "backup", str(tmp_path), "--config", str(config)],
    ):
        result = _cli(args, ROOT)
        assert result.returncode == 2, args
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "is a directory" in lines[0], (args, result.stderr[-400:])


def test_relative_sqlite_path_resolves_beside_the_config_file(tmp_path: Path) -> None:
    home = tmp_path / "etc"
    home.mkdir()
    config = home / "config.toml"
    config.write_text('[storage]\nurl = "sqlite+aiosqlite:///state/q.db"\n', encoding="utf-8")
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    assert _cli(["db", "upgrade", "--config", str(config)], elsewhere).returncode == 0
    assert (home / "state" / "q.db").is_file() and not (elsewhere / "state").exists()
    assert load_settings(config).storage.url == f"sqlite+aiosqlite:///{home / 'state' / 'q.db'}"


# -- config errors ----------------------------------------------------------------------------------
def test_misspelled_keys_get_a_suggestion() -> None:
    with pytest.raises(ConfigError) as err:
        parse_settings({"bot": {"languge": "en"}})
    assert str(err.value) == "unknown key `bot.languge` — did you mean `bot.language`?"
    with pytest.raises(ConfigError, match=r"did you mean `storage\.url`"):
        parse_settings({"storage": {"ulr": "x"}})


async def test_misspelled_feature_keys_and_sections_get_a_suggestion(tmp_path: Path) -> None:
    cases = {
        "did you mean `checkin.base_points`": {"checkin": {"base_point": 3}},
        "did you mean `core.mod_chat`": {"core": {"mod_chta": ""}},
        "did you mean `moderation.lexicon_files`": {"moderation": {"lexicon_file": []}},
        "did you mean `[checkin]`": {"chekin": {}},
    }
    for expected, config in cases.items():
        with pytest.raises(ConfigError, match=re.escape(expected)):
            async with Harness(tmp_path, config=config):
                pass


def test_a_token_in_the_file_points_to_token_env() -> None:
    settings = parse_settings({"adapters": {"tg": {"type": "telegram", "token": "123:AA"}}})
    with pytest.raises(ConfigError, match=r"`adapters\.tg\.token_env`") as err:
        build_adapters(settings, {})
    assert "123:AA" not in str(err.value)
    settings = parse_settings({"adapters": {"qq": {"type": "onebot", "access_token": "s3cret"}}})
    with pytest.raises(ConfigError, match=r"access_token_env"):
        build_adapters(settings, {})


def test_storage_url_from_an_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql+asyncpg://qunyou:pw@127.0.0.1:5432/qunyou"
    monkeypatch.setenv("QUNYOU_TEST_DB_URL", url)
    settings = parse_settings({"storage": {"url_env": "QUNYOU_TEST_DB_URL"}})
    assert settings.storage.url == url and "url" in settings.storage.model_fields_set
    with pytest.raises(ConfigError, match=r"storage\.url_env: .*QUNYOU_UNSET_VAR"):
        parse_settings({"storage": {"url_env": "QUNYOU_UNSET_VAR"}})
    with pytest.raises(ConfigError, match="not both"):
        parse_settings({"storage": {"url_env": "QUNYOU_TEST_DB_URL", "url": url}})


def test_url_env_runs_a_script_on_that_database(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[storage]\nurl_env = "QUNYOU_TEST_DB_URL"\n', encoding="utf-8")
    db = tmp_path / "from-env.db"
    result = _cli(
        ["console", "--script", "-", "--config", str(config)],
        ROOT,
        env={"QUNYOU_TEST_DB_URL": f"sqlite+aiosqlite:///{db}"},
    )
    assert result.returncode == 0, result.stderr
    assert db.is_file()


# -- start-up logging -------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_until_ready(tmp_path: Path, *flags: str) -> str:
    """``python -m bot [flags] run`` with one adapter that starts offline (OneBot, reverse),
    stopped by SIGTERM once it is ready; returns what it logged on standard error."""
    config = tmp_path / "config.toml"
    config.write_text(
        f'[adapters.qq]\ntype = "onebot"\nmode = "reverse"\nlisten = "127.0.0.1:{_free_port()}"\n',
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", *flags, "run", "--config", str(config)],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr or []), daemon=True)
    reader.start()
    deadline = time.monotonic() + 90
    settled = None
    while time.monotonic() < deadline and proc.poll() is None:
        if any("Qunyou ready" in line for line in lines):
            break
        if settled is None and (tmp_path / "qunyou.db").exists():
            settled = time.monotonic() + 8  # -q logs no "ready" line to wait for
        if settled is not None and time.monotonic() > settled:
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    reader.join(timeout=10)
    err = "".join(lines)
    assert proc.returncode == 0, err[-2000:]
    return err


def test_run_logs_start_up_and_adapters_at_info_by_default(tmp_path: Path) -> None:
    err = _run_until_ready(tmp_path)
    assert "INFO bot.app: adapter qq (onebot): connected" in err
    assert "Qunyou ready" in err and "Traceback" not in err
    assert "alembic" not in err  # migration chatter is not start-up news


def test_run_quiet_logs_no_info(tmp_path: Path) -> None:
    err = _run_until_ready(tmp_path, "-q")
    assert " INFO " not in err


async def test_each_chat_is_logged_once_with_its_id(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.directory")
    async with Harness(tmp_path) as h:
        await h.say("g-4242", "alice", "hello")
        await h.say("g-4242", "bob", "hello again")
    seen = [r.getMessage() for r in caplog.records if r.name == "bot.directory"]
    assert len([m for m in seen if "chat g-4242" in m]) == 1, seen


# -- start-up cost ----------------------------------------------------------------------------------
def test_declared_heads_are_alembics_heads() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert declared_heads(MIGRATIONS_DIR / "versions") == frozenset(
        ScriptDirectory.from_config(cfg).get_heads()
    )


_MIGRATE_TWICE = """
import asyncio, sys
from storage import Database

async def main(url: str) -> None:
    db = Database(url)
    await db.migrate()
    await db.close()

asyncio.run(main(sys.argv[1]))
print("alembic loaded" if "alembic" in sys.modules else "alembic not loaded")
"""


def test_a_current_schema_starts_without_alembic(db_url: str) -> None:
    def migrate() -> str:
        result = subprocess.run(
            [sys.executable, "-c", _MIGRATE_TWICE, db_url],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            # No schema template: the first run must migrate from nothing.
            env={**os.environ, "PYTHONPATH": str(ROOT), "QUNYOU_SCHEMA_CACHE": "off"},
        )
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout.strip()

    assert migrate() == "alembic loaded"  # a fresh database is migrated
    assert migrate() == "alembic not loaded"  # a current one needs no Alembic at all


async def _schema(url: str) -> list[tuple[str, str]]:
    db = Database(url)
    try:
        await db.migrate()
    finally:
        await db.close()
    path = url.removeprefix("sqlite+aiosqlite:///")
    with contextlib.closing(sqlite3.connect(path)) as conn:
        rows = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name"
        ).fetchall()
        versions = conn.execute("SELECT version_num FROM alembic_version ORDER BY 1").fetchall()
    return [(str(n), str(s)) for n, s in rows] + [("version", str(v[0])) for v in versions]


async def test_a_fresh_sqlite_database_from_the_template_is_the_migrated_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("QUNYOU_SCHEMA_CACHE", "off")
    migrated = await _schema(f"sqlite+aiosqlite:///{tmp_path / 'plain.db'}")
    monkeypatch.delenv("QUNYOU_SCHEMA_CACHE")
    first = await _schema(f"sqlite+aiosqlite:///{tmp_path / 'first.db'}")  # migrates, keeps the template
    template_file = template.template_for(MIGRATIONS_DIR)
    assert template_file is not None and template_file.is_file()
    assert template_file.stat().st_mode & 0o077 == 0  # private to its user
    copied = await _schema(f"sqlite+aiosqlite:///{tmp_path / 'copied.db'}")
    assert migrated == first == copied and any(n == "groups" for n, _ in copied)


async def test_a_template_others_could_write_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    await _schema(f"sqlite+aiosqlite:///{tmp_path / 'first.db'}")
    template_file = template.template_for(MIGRATIONS_DIR)
    assert template_file is not None
    template_file.chmod(0o666)
    assert not template.restore(tmp_path / "other.db", MIGRATIONS_DIR)
    template_file.chmod(0o600)
    assert template.restore(tmp_path / "other.db", MIGRATIONS_DIR)


async def test_issue_21_killer_lines_answer_quietly(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """NaN, Infinity, an unknown role, a lone surrogate and forged presses under every feature's
    button prefix: error records or quiet answers, never a traceback or "something went wrong"."""
    caplog.set_level(logging.INFO)
    lines = [
        '{"type":"message","chat":"g","user":"u","text":"/ping","role":"owner"}',
        '{"type":"advance","seconds":NaN}',
        '{"type":"advance","seconds":Infinity}',
        '{"type":"message","chat":"g","user":"u","text":"hi","role":"god"}',
        '{"type":"message","chat":"g","user":"u","text":"x\\ud800"}',
    ]
    prefixes = sorted({b.prefix for f in FEATURES for b in f.router.buttons})
    assert "core:forget:" in prefixes
    for prefix in prefixes:
        for tail in ("", ":", "yes", "yes:", "x:y:z", "9" * 50):
            data = json.dumps(prefix + tail)
            lines.append(f'{{"type":"button","chat":"g","user":"u","message":"b1","data":{data}}}')
    lines.append('{"type":"message","chat":"g","user":"u","text":"/ping"}')
    records = await _script(lines, tmp_path)
    assert [r["line"] for r in records if r["action"] == "error"] == [2, 3, 4]
    texts = [str(r.get("text")) for r in records if r["action"] == "send"]
    assert texts.count("pong 🏓 我在。") == 2  # before and after every bad line
    assert not any("出了点问题" in t or "went wrong" in t for t in texts)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


#: Libraries the first answer does not need, each loaded by the first use that does (issue 21):
#: datasketch pulls in SciPy (about a second), jieba's dictionary takes a second, the charts'
#: matplotlib and NumPy, the sentiment models, the dashboard's web stack, platform libraries.
LAZY_AT_START = (
    "scipy",
    "numpy",
    "datasketch",
    "jieba",
    "matplotlib",
    "snownlp",
    "vaderSentiment",
    "bm25s",
    "wordfreq",
    "starlette",
    "uvicorn",
    "telegram",
    "discord",
    "aiohttp",
    "httpx",
)


def test_the_console_answers_without_importing_scipy_or_jieba() -> None:
    """Start-up imports only what the first answer needs (issue 21): none of ``LAZY_AT_START``."""
    import subprocess
    import sys

    script = (
        "import sys, asyncio, io\n"
        "from adapters.console.script import run_script\n"
        "from bot.app import App\n"
        "from bot.config import Settings\n"
        'lines = [\'{"type":"message","chat":"demo","user":"a","text":"/ping"}\']\n'
        "asyncio.run(run_script(lines, settings=Settings(), start=None, db_path=None, out=io.StringIO(), make_app=App))\n"
        f"print(sorted(m for m in {LAZY_AT_START!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parent.parent,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
