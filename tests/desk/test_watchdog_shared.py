"""Level 3 kept across restarts and shared by several workers on one database.

Console adapters stand in for platforms here (``Flaky``: one whose connection the test cuts);
what is under test is the watchdog's bookkeeping, not a platform's transport (the real
transports are in ``test_watchdog.py``). The superuser ``root`` is on the console platform, so
each connected console adapter is one place they can be told.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.console.adapter import ConsoleAdapter
from bot.app import App
from bot.clock import VirtualClock, parse_instant
from bot.config import parse_settings

START = parse_instant("2026-03-02T09:00:00+08:00")
ALERT = "🚨 Level 3: the bot is failing — adapter x has been disconnected for {} min."


class Flaky(ConsoleAdapter):
    """A console adapter whose connection the test switches off and on."""

    up = True

    @property
    def connected(self) -> bool:
        return self.up


def _told(*adapters: ConsoleAdapter) -> list[str]:
    """What root was told privately on these adapters since the last look (first sentence)."""
    out = []
    for adapter in adapters:
        for r in adapter.take():
            if r["action"] == "send" and r.get("user") == "root" and "chat" not in r:
                out.append(f"{adapter.name}: {r['text'].split(' Other platforms')[0]}")
    return out


def _app(url: str, clock: VirtualClock, *adapters: ConsoleAdapter) -> App:
    settings = parse_settings(
        {"bot": {"language": "en", "superusers": {"console": ["root"]}}, "storage": {"url": url}}
    )
    return App(settings, clock=clock, adapters=list(adapters), flush_interval=0.05)


async def _minutes(clock: VirtualClock, apps: list[App], n: int, *, alternate: bool = True) -> None:
    """Move the shared clock ``n`` minutes, one at a time; each worker runs what is due (the
    minute's check goes to whichever claims it first, alternating when ``alternate``)."""
    for i in range(n):
        until = clock.now() + timedelta(minutes=1)
        order = apps[::-1] if alternate and i % 2 else apps
        for app in order:
            assert app.services is not None
            await app.services.scheduler.run_due(until)


async def test_an_incident_told_before_a_restart_is_not_told_again_and_its_recovery_is(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    clock = VirtualClock(START)
    x, c = Flaky("x", clock=clock), ConsoleAdapter("c", clock=clock)
    app = _app(url, clock, x, c)
    await app.start()
    x.up = False
    await _minutes(clock, [app], 3)
    assert _told(x, c) == ["c: " + ALERT.format(1)]
    await app.stop()

    # Restarted with x still down: the incident is read back, nobody is told twice.
    x, c = Flaky("x", clock=clock), ConsoleAdapter("c", clock=clock)
    x.up = False
    app = _app(url, clock, x, c)
    await app.start()
    await _minutes(clock, [app], 5)
    assert _told(x, c) == []
    x.up = True
    await _minutes(clock, [app], 1)
    assert _told(x, c) == [
        "x: ✅ Recovered: adapter x is connected again (after about 9 min).",
        "c: ✅ Recovered: adapter x is connected again (after about 9 min).",
    ]
    # Down again, told again; it comes back while the bot is stopped: the recovery is announced
    # after the restart.
    x.up = False
    await _minutes(clock, [app], 2)
    assert _told(x, c) == ["c: " + ALERT.format(1)]
    await app.stop()
    x, c = Flaky("x", clock=clock), ConsoleAdapter("c", clock=clock)
    app = _app(url, clock, x, c)
    await app.start()
    await _minutes(clock, [app], 1)
    assert _told(x, c) == [
        "x: ✅ Recovered: adapter x is connected again (after about 2 min).",
        "c: ✅ Recovered: adapter x is connected again (after about 2 min).",
    ]
    await _minutes(clock, [app], 3)
    assert _told(x, c) == []
    await app.stop()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_two_workers_make_one_incident_told_once_per_platform(db_url: str) -> None:
    """Worker 1 runs x and c, worker 2 runs y and c (one adapter on both, as Telegram webhooks
    behind a load balancer). x drops: whichever worker claims the minute's check, the
    superuser hears it once on c and once on y — nothing from x, nothing twice, although the
    worker that runs y cannot see x at all."""
    clock = VirtualClock(START)
    x, c1 = Flaky("x", clock=clock), ConsoleAdapter("c", clock=clock)
    y, c2 = ConsoleAdapter("y", clock=clock), ConsoleAdapter("c", clock=clock)
    one, two = _app(db_url, clock, x, c1), _app(db_url, clock, y, c2)
    await one.start()
    await two.start()
    try:
        assert one.worker != two.worker
        await _minutes(clock, [one, two], 2)
        assert _told(x, c1, y, c2) == []
        x.up = False
        await _minutes(clock, [one, two], 6)
        told = _told(x, c1, y, c2)
        assert sorted(t.split(": ", 1)[1] for t in told) == [ALERT.format(1)] * 2
        assert sorted(t.split(": ", 1)[0] for t in told) == ["c", "y"]
        x.up = True
        await _minutes(clock, [one, two], 3)
        recovered = _told(x, c1, y, c2)
        assert sorted(t.split(": ", 1)[0] for t in recovered) == ["c", "x", "y"]
        assert {t.split(": ", 1)[1] for t in recovered} == {
            "✅ Recovered: adapter x is connected again (after about 6 min)."
        }
        # Worker 1 is killed (no clean stop: its reports just stop): x, run by nobody now, is
        # down once its last report goes stale, and worker 2 says so on y and c.
        one_services: Any = one.services
        one_services.scheduler._running = False
        await _minutes(clock, [two], 5)
        assert sorted(_told(y, c2)) == ["c: " + ALERT.format(3), "y: " + ALERT.format(3)]
    finally:
        await two.stop()
        await one.stop()
