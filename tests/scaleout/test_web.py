"""``/healthz``, ``/readyz`` and ``/metrics``: routes on the real app, and a real ``bot run`` process.

In process: the Starlette app over a running bot (the console harness, both engines), asked
through httpx's ASGI transport. Out of process: ``python -m bot run`` with ``[web] metrics = true``
answers on its port, stops cleanly on SIGTERM (exit 0, no lease left), and a second worker on the
same SQLite file refuses to start with a clear message.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot import logs
from bot.app import App
from bot.config import Settings
from tests.harness import Harness
from web import create_app

ROOT = Path(__file__).resolve().parents[2]


async def test_routes_report_a_running_bot(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "alice", "/checkin")
        transport = httpx.ASGITransport(app=create_app(h.app))
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
            health = await client.get("/healthz")
            ready = await client.get("/readyz")
            metrics = await client.get("/metrics")
            missing = await client.get("/dashboard")
    assert health.status_code == 200 and health.text == "ok\n"
    assert ready.status_code == 200
    assert ready.json() == {
        "ready": True,
        "checks": {"database": True, "migrations": True, "adapter:console": True},
    }
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    body = metrics.text
    assert 'qunyou_messages_in_total{platform="console"}' in body
    assert 'qunyou_messages_out_total{platform="console"}' in body
    assert "qunyou_pipeline_seconds_bucket" in body
    assert "qunyou_db_pool_connections_in_use" in body
    assert missing.status_code == 404  # no dashboard pages pretended


async def test_readyz_says_503_when_the_bot_is_not_running(tmp_path: Path) -> None:
    app = App(Settings())  # never started: no database, no adapters
    transport = httpx.ASGITransport(app=create_app(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"ready": False, "checks": {"started": False}}


def test_json_log_lines_carry_the_update_and_group(capsys: pytest.CaptureFixture[str]) -> None:
    handler = logging.StreamHandler(sys.stderr)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        logs.configure("json")
        token_u, token_g = logs.UPDATE_ID.set("run:demo:m1"), logs.GROUP_ID.set(7)
        logging.getLogger("qunyou.test").warning("hello %s", "群")
        logs.UPDATE_ID.reset(token_u)
        logs.GROUP_ID.reset(token_g)
        logging.getLogger("qunyou.test").warning("outside")
    finally:
        root.removeHandler(handler)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert lines[0]["message"] == "hello 群" and lines[0]["update_id"] == "run:demo:m1"
    assert (
        lines[0]["group_id"] == 7 and lines[0]["level"] == "WARNING" and lines[0]["logger"] == "qunyou.test"
    )
    assert lines[1]["update_id"] is None and lines[1]["group_id"] is None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(config)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _get(port: int, path: str) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5)


def test_bot_run_serves_health_and_stops_gracefully_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    db = tmp_path / "bot.db"
    config = tmp_path / "bot.toml"
    config.write_text(
        f'[storage]\nurl = "sqlite+aiosqlite:///{db}"\n'
        f'[web]\nmetrics = true\nport = {port}\n[logging]\nformat = "json"\n'
        '[adapters.local]\ntype = "console"\n',
        encoding="utf-8",
    )
    proc = _start(config)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            try:
                if _get(port, "/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "bot run never answered /healthz"
            time.sleep(0.2)
        ready = _get(port, "/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": True, "migrations": True, "adapter:local": True}
        assert "qunyou_jobs_claimed" in _get(port, "/metrics").text

        # A second worker on the same SQLite file refuses, saying why.
        second = subprocess.run(
            [sys.executable, "-m", "bot", "run", "--config", str(config)],
            cwd=ROOT,
            capture_output=True,
            timeout=60,
        )
        assert second.returncode == 1
        assert b"another worker is running on the SQLite database" in second.stderr
        assert b"Traceback" not in second.stderr

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert "Traceback" not in err
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM job_leases").fetchone() == (0,)
    with pytest.raises(httpx.HTTPError):
        _get(port, "/healthz")  # the server went with the process
