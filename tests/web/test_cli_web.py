"""``python -m bot web``: a separate process on a console's database accepts its links."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from tests.harness import Harness
from tests.web.helpers import csrf_of, link_token

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot", "web", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_bad_arguments_are_one_line_errors(tmp_path: Path) -> None:
    missing = _cli("--db", str(tmp_path / "none.db"))
    assert missing.returncode == 2 and "no database at" in missing.stderr
    assert "Traceback" not in missing.stderr
    folder = _cli("--db", str(tmp_path))
    assert folder.returncode == 2 and "is a directory" in folder.stderr
    (tmp_path / "x.db").write_bytes(b"")
    port = _cli("--db", str(tmp_path / "x.db"), "--port", "70000")
    assert port.returncode == 2 and "--port" in port.stderr
    both = _cli("--db", "a.db", "--config", "b.toml")
    assert both.returncode == 2 and "not allowed with" in both.stderr


async def test_a_separate_web_process_on_the_console_database(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[bot]\nsuperusers = {{ console = ["root"] }}\n[storage]\nurl = "sqlite+aiosqlite:///{db}"\n'
    )
    # The separate process runs on the system clock: so does this console, as `bot console` does.
    start = datetime.now(UTC).isoformat()
    settings = {"bot": {"superusers": {"console": ["root"]}}}
    async with Harness(tmp_path, clock=start, config=settings, db_url=f"sqlite+aiosqlite:///{db}") as h:
        await h.say("demo", "bob", "hi")
        await h.say("demo", "bob", "来玩百家乐")
        await h.say("demo", "eve", "加我微信代刷流水")
        token = link_token(await h.dm("root", "/dashboard"))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "web", "--config", str(config), "--port", "0",
            cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            assert process.stdout is not None
            line = (await asyncio.wait_for(process.stdout.readline(), 120)).decode()
            found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
            assert found, line
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{found.group(1)}") as client:
                assert (await client.get("/healthz")).status_code == 200
                assert (await client.post(f"/login/{token}")).status_code == 303
                home = await client.get("/")
                assert home.status_code == 200 and 'href="/g/1"' in home.text
                csrf = csrf_of(home.text)
                desk = await client.get("/g/1/desk")
                assert 'id="alert-1"' in desk.text and 'id="alert-2"' in desk.text
                acked = await client.post("/g/1/desk/1/ack", data={"csrf": csrf})
                assert acked.status_code == 200 and "告警 #1 已确认" in acked.text
                # Without a platform connection a ban cannot be carried out: it says so.
                banned = await client.post("/g/1/desk/2/ban", data={"csrf": csrf})
                assert banned.status_code == 400 and "bot web" in banned.text
                added = await client.post(
                    "/g/1/lexicon/add",
                    data={"csrf": csrf, "term": "团购接龙", "level": "red", "mode": "text"},
                )
                assert added.status_code == 200
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 60)
        assert process.returncode == 0
        # The console sees what the browser did: the alert is handled, and the new term is
        # screened once the console rebuilds the group's matcher (as after a restart).
        alerts = [a.status for a in await h.services.state["moderation"].repos.alerts.alerts(1, limit=10)]
        assert sorted(alerts) == ["acked", "open"]
        await h.restart()
        assert [r for r in await h.say("demo", "bob", "团购接龙来了") if r["action"] == "delete"]


def test_bot_run_with_web_enabled_serves_the_pages(tmp_path: Path) -> None:
    from tests.scaleout.test_web import _free_port, _get, _start

    port = _free_port()
    config = tmp_path / "bot.toml"
    config.write_text(
        f'[storage]\nurl = "sqlite+aiosqlite:///{tmp_path / "bot.db"}"\n'
        f'[web]\nenabled = true\nport = {port}\n[adapters.local]\ntype = "console"\n',
        encoding="utf-8",
    )
    proc = _start(config)
    try:
        for _ in range(300):
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            try:
                if _get(port, "/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        assert _get(port, "/").status_code == 401
        assert _get(port, "/login/not-a-link").status_code == 400
        style = _get(port, "/static/dashboard.css")
        assert style.status_code == 200 and "--accent" in style.text
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
