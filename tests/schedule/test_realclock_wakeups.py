"""Under the real clock, every due job fires even while messages keep the loop busy.

Regression: a wake-up re-armed while the previous one was still running was skipped by APScheduler
(same job id, max_instances=1) and never armed again. This checks *that* jobs fire, not how fast:
the deadline is generous, speed is measured by ``python -m bot bench``.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.console.adapter import ConsoleAdapter
from bot.app import App
from bot.clock import SystemClock
from bot.config import Settings
from bot.scheduler import At


async def test_every_probe_fires_under_message_load(tmp_path: Path) -> None:
    settings = Settings()
    settings = settings.model_copy(
        update={
            "storage": settings.storage.model_copy(update={"url": f"sqlite+aiosqlite:///{tmp_path / 'b.db'}"})
        }
    )
    clock = SystemClock()
    adapter = ConsoleAdapter("console", clock=clock)
    app = App(settings, clock=clock, adapters=[adapter])
    await app.start()
    try:
        assert app.services is not None
        fired: list[datetime] = []

        async def probe(_services: Any, _job: Any, fire_time: datetime) -> None:
            fired.append(fire_time)

        app.services.scheduler.register("test-probe", probe)
        base = clock.now() + timedelta(milliseconds=300)
        planned = [base + timedelta(milliseconds=40 * i) for i in range(30)]
        for i, at in enumerate(planned):
            await app.services.scheduler.schedule(f"test-probe:{i}", "test-probe", At(at.astimezone(UTC)))
        loop = asyncio.get_running_loop()
        give_up = loop.time() + 20.0
        n = 0
        while len(fired) < len(planned) and loop.time() < give_up:
            await adapter.message("load", f"user{n % 50}", f"plain message {n}")
            n += 1
            await asyncio.sleep(0.001)
        adapter.take()
        assert sorted(fired) == planned
    finally:
        await app.stop()
