"""A scheduled post cut short by a crash between its claim and its send is sent once after restart.

The crash is injected in process at the exact point: the console platform's ``send`` raises a
``BaseException`` (which no handler catches, as a SIGKILL would not let anything run), and the app is
then abandoned without its orderly stop: no flush, no lease completion, the engine simply dropped.
A fresh app on the same database file plays the restarted process.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from bot.feature import Feature
from bot.messages import OutgoingMessage
from bot.router import Router
from bot.scheduler import At
from bot.services import Services
from handlers import FEATURES
from storage import LeaseRepo
from storage.models import Job
from tests.harness import Harness, texts


class Crash(BaseException):
    """The process dies here: nothing after this point runs."""


async def _abandon(app: App) -> None:
    """Drop a crashed app's resources without running anything a killed process would not run."""
    assert app.services is not None and app.db is not None
    task = app.services.batcher._task
    if task is not None:
        task.cancel()
    await app.db.engine.dispose()
    if app.db._writer is not None:
        await app.db._writer.close()


def _crash_on_send(h: Harness, *, after: bool) -> None:
    """Kill the bot at its next send: before the message goes out, or right after it went out."""
    real = h.adapter.send

    async def send(chat: Any, message: Any) -> Any:
        if after:
            await real(chat, message)
        raise Crash

    h.adapter.send = send  # type: ignore[method-assign]


async def _plan(h: Harness) -> None:
    out = await h.say("demo", "mod", "/schedule add daily 09:30 早上好", role="moderator")
    assert texts(out) and "09:30" in texts(out)[0]


async def test_crash_between_claim_and_send_posts_once_after_restart(tmp_path: Path) -> None:
    first = Harness(tmp_path)
    await first.__aenter__()
    await _plan(first)
    _crash_on_send(first, after=False)
    with pytest.raises(Crash):
        await first.advance(to="2026-03-02T09:31:00+08:00")
    assert texts(first.adapter.take()) == []  # the claim was committed, the post never went out
    await _abandon(first.app)

    # Back two minutes later, well within the 10-minute grace window: the run is made up, once.
    async with Harness(tmp_path, clock="2026-03-02T09:33:00+08:00") as second:
        assert texts(second.adapter.take()) == ["早上好"]
        assert texts(await second.advance(to="2026-03-02T10:00:00+08:00")) == []
        assert await LeaseRepo(second.services.db).open() == []
    async with Harness(tmp_path, clock="2026-03-02T10:00:00+08:00") as third:
        assert texts(third.adapter.take()) == []
        assert texts(await third.advance(to="2026-03-03T10:00:00+08:00")) == ["早上好"]


def _crash_after_record(h: Harness) -> None:
    """Kill the bot once the message went out and its id was recorded, before the run completes."""
    scheduler = h.services.scheduler
    real = scheduler.record_sent

    async def record_sent(job_id: str, fire_time: Any, message_id: str) -> None:
        await real(job_id, fire_time, message_id)
        raise Crash

    scheduler.record_sent = record_sent  # type: ignore[method-assign]


async def test_crash_after_the_send_was_recorded_does_not_post_twice(tmp_path: Path) -> None:
    first = Harness(tmp_path)
    await first.__aenter__()
    await _plan(first)
    _crash_after_record(first)
    with pytest.raises(Crash):
        await first.advance(to="2026-03-02T09:31:00+08:00")
    assert texts(first.adapter.take()) == ["早上好"]
    await _abandon(first.app)

    async with Harness(tmp_path, clock="2026-03-02T09:33:00+08:00") as second:
        assert texts(second.adapter.take()) == []
        assert texts(await second.advance(to="2026-03-02T10:00:00+08:00")) == []
        assert await LeaseRepo(second.services.db).open() == []


async def test_the_one_window_left_a_crash_before_the_id_is_recorded_posts_twice(tmp_path: Path) -> None:
    # The platform accepted the message, then the process died before its id was committed. No
    # platform we speak to can be asked whether a message went out, so the re-run sends it again.
    # README ("Restarts and crashes") documents this window; this test pins it down.
    first = Harness(tmp_path)
    await first.__aenter__()
    await _plan(first)
    _crash_on_send(first, after=True)
    with pytest.raises(Crash):
        await first.advance(to="2026-03-02T09:31:00+08:00")
    assert texts(first.adapter.take()) == ["早上好"]
    await _abandon(first.app)

    async with Harness(tmp_path, clock="2026-03-02T09:33:00+08:00") as second:
        assert texts(second.adapter.take()) == ["早上好"]
        assert texts(await second.advance(to="2026-03-02T10:00:00+08:00")) == []


async def test_crash_past_the_grace_window_is_given_up(tmp_path: Path) -> None:
    first = Harness(tmp_path)
    await first.__aenter__()
    await _plan(first)
    _crash_on_send(first, after=False)
    with pytest.raises(Crash):
        await first.advance(to="2026-03-02T09:31:00+08:00")
    await _abandon(first.app)

    # Back at 09:45: 15 minutes after the fire time, past the grace window. Skipped, and logged.
    async with Harness(tmp_path, clock="2026-03-02T09:45:00+08:00") as second:
        assert texts(second.adapter.take()) == []
        assert await LeaseRepo(second.services.db).open() == []
        assert texts(await second.advance(to="2026-03-03T10:00:00+08:00")) == ["早上好"]


def _ticker(rerun: bool) -> Feature:
    """A job kind that sends one message per run through the console, re-run safe or not."""
    router = Router("ticker")

    async def tick(services: Services, job: Job, fire_time: datetime) -> None:
        group = await services.directory.group_by_id(job.group_id or 0)
        assert group is not None
        await services.send(services.directory.chat_for(group), OutgoingMessage.of("tick"))

    async def startup(services: Services) -> None:
        services.scheduler.register("tick", tick, rerun=rerun)

    return Feature(name="ticker", router=router, startup=startup)


@pytest.mark.parametrize("rerun", [False, True])
async def test_only_kinds_registered_rerun_are_run_again(tmp_path: Path, rerun: bool) -> None:
    features = [*FEATURES, _ticker(rerun)]
    first = Harness(tmp_path, features=features)
    await first.__aenter__()
    await first.say("demo", "alice", "hello")
    group = await first.services.groups.find("console", "demo")
    assert group is not None
    await first.services.scheduler.schedule(
        "tick:1", "tick", At(first.now + timedelta(minutes=5)), {}, group_id=group.id
    )
    await first.flush()  # alice's welcome badge goes out now, so the crash hits the tick's send
    first.adapter.take()
    _crash_on_send(first, after=False)
    with pytest.raises(Crash):
        await first.advance(600)
    await _abandon(first.app)

    async with Harness(tmp_path, clock="2026-03-02T09:12:00+08:00", features=features) as second:
        assert texts(second.adapter.take()) == (["tick"] if rerun else [])
        assert second.services.scheduler.given_up == (0 if rerun else 1)
        assert await LeaseRepo(second.services.db).open() == []
