"""Level 3 of the response: the bot itself failing → the superusers alerted on every other
platform that still works.

A job on the scheduler (so on the virtual clock in tests and console scripts) looks every minute
at three signals:

* an adapter **disconnected** (``Adapter.connected`` false, what ``/readyz`` reads) at two checks
  ``watchdog_offline_seconds`` (60) apart — so it has been down longer than a minute;
* the **error rate**: more than ``watchdog_errors`` exceptions counted by the dispatcher and the
  scheduler (``bot.metrics.ERRORS``) in the last five minutes;
* an outbound **backlog**: more than ``watchdog_backlog`` calls waiting in one adapter's outbound
  queue (``Adapter.outbound_backlog``).

A signal that trips opens an incident: one private message to each superuser (``[bot]
superusers``, per platform) on every connected adapter except the failing one; when it clears,
one "recovered" message. An incident no adapter could deliver stays unsent and is tried again.

**Shared and kept** (``storage/desk/watch.py``): every worker writes what it sees of its own
adapters (connected, since when not, backlog) and its error count to ``desk_watch_reports``
about once a minute (``report``, from the batcher and the check); the minute's check, a job
claimed by one worker, decides from every worker's fresh reports — an adapter is down when no
worker running it sees it connected, or when the workers that ran it stopped reporting (killed)
— and writes the incidents (``desk_incidents``). So several workers make one incident and one
alert, not one per worker. Each worker then tells the superusers on its own connected adapters,
claiming each (incident, adapter) in ``desk_incident_notices`` first, so each platform tells
once. Incidents and notices survive a restart: a failure already told is not told again, and a
recovery that happened while the bot was down is still announced.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot import metrics
from bot.errors import QunyouError
from bot.messages import OutgoingMessage, Text
from bot.services import Services
from bot.triggers import Every
from handlers.desk.state import get_state
from storage.desk import IncidentRow, WatchReport

log = logging.getLogger(__name__)

JOB_KIND = "desk.watchdog"
JOB_ID = "desk:watchdog"
#: How often the signals are looked at.
PERIOD = timedelta(minutes=1)
#: The window of the error rate.
ERROR_WINDOW = timedelta(minutes=5)
#: A worker's report older than this is not fresh: the worker stopped reporting (killed, hung).
STALE = timedelta(minutes=3)
#: Reports this old are dropped (a worker removed from the deployment without a clean stop).
FORGET = timedelta(days=1)
#: A cleared incident is kept this long for every worker to announce the recovery.
KEEP_CLEARED = timedelta(hours=1)
STATE_KEY = "desk.watchdog"


class WatchdogConfig(BaseModel):
    """The watchdog's keys in ``[desk]`` of config.toml (bot-wide: the failure is the bot's,
    not a group's, so these are not ``/set`` settings)."""

    model_config = ConfigDict(extra="forbid")

    watchdog: bool = True
    watchdog_offline_seconds: int = Field(default=60, ge=0, le=86400)
    watchdog_errors: int = Field(default=10, ge=0, le=1_000_000)
    watchdog_backlog: int = Field(default=100, ge=0, le=1_000_000)


class DeskConfig(BaseModel):
    """The desk's part of config.toml beyond the group settings' defaults."""

    desk: WatchdogConfig = Field(default_factory=lambda: WatchdogConfig())


@dataclass(frozen=True)
class Signal:
    """A tripped signal: ``key`` names the incident, ``adapter`` the failing one (skipped)."""

    key: str
    adapter: str | None
    what: str
    values: dict[str, Any]
    #: When the trouble was first seen, where that is before the check that trips it.
    since: datetime | None = None


@dataclass
class Watch:
    """What this worker remembers between reports."""

    config: WatchdogConfig
    worker: str
    #: adapter → the report that first saw it disconnected (read back from the table at start).
    offline_since: dict[str, datetime] = field(default_factory=dict)
    #: (time, ``errors_so_far``) at each report within the error window, oldest first.
    errors: deque[tuple[datetime, float]] = field(default_factory=deque)
    #: When this worker last reported and delivered (the batcher runs every second).
    last: datetime | None = None
    active: bool = False


def get_watch(services: Services) -> Watch:
    """The watchdog's state (made at the desk's start)."""
    watch = services.state[STATE_KEY]
    assert isinstance(watch, Watch)
    return watch


async def start(services: Services, config: WatchdogConfig) -> None:
    """Read back what this worker saw before a restart and schedule the check (or drop it when
    off or when nobody is there to tell)."""
    now = services.clock.now()
    watch = Watch(config=config, worker=services.scheduler.owner)
    watch.errors.append((now, metrics.errors_so_far()))
    services.state[STATE_KEY] = watch
    services.scheduler.register(JOB_KIND, check_job)
    if not config.watchdog or not any(services.config.bot.superusers.values()):
        # Nobody to tell: no job. It matters under a virtual clock, where a console script's
        # jump over a day would otherwise run 1,440 checks (about 3 s on the dev machine).
        await services.scheduler.cancel(JOB_ID)
        return
    watch.active = True
    repo = get_state(services).repos.watch
    for row in await repo.reports():
        if row.worker == watch.worker and row.offline_since is not None:
            watch.offline_since[row.adapter] = row.offline_since
    services.batcher.register("desk.watchdog", lambda: tick(services))
    job = await services.scheduler.get(JOB_ID)
    if job is None:
        start_at = now.replace(second=0, microsecond=0) + PERIOD
        await services.scheduler.schedule(JOB_ID, JOB_KIND, Every(int(PERIOD.total_seconds()), start_at))


async def stop(services: Services) -> None:
    """A clean stop: this worker's adapters are no longer reported (no false "down")."""
    watch = services.state.get(STATE_KEY)
    if isinstance(watch, Watch) and watch.active:
        watch.active = False  # the last batcher flush after this must not report again
        await get_state(services).repos.watch.forget_worker(watch.worker)


async def report(services: Services, watch: Watch, now: datetime) -> None:
    """Write what this worker sees of its adapters and its errors of the last five minutes."""
    rows = []
    for name, adapter in services.adapters.items():
        if adapter.connected:
            watch.offline_since.pop(name, None)
        else:
            watch.offline_since.setdefault(name, now)
        rows.append(
            WatchReport(
                watch.worker,
                name,
                adapter.connected,
                watch.offline_since.get(name),
                adapter.outbound_backlog(),
                0,
                now,
            )
        )
    watch.errors.append((now, metrics.errors_so_far()))
    while len(watch.errors) > 1 and now - watch.errors[1][0] >= ERROR_WINDOW:
        watch.errors.popleft()  # keep one sample at or before the window's start
    errors = max(0, int(watch.errors[-1][1] - watch.errors[0][1]))
    rows.append(WatchReport(watch.worker, "", True, None, 0, errors, now))
    await get_state(services).repos.watch.report(watch.worker, rows)
    watch.last = now


def signals(
    config: WatchdogConfig, reports: list[WatchReport], now: datetime, open_keys: frozenset[str] = frozenset()
) -> list[Signal]:
    """The signals tripped now, from every worker's reports. An adapter whose outage is an open
    incident stays tripped until it is connected again, however short its current gap (after a
    restart the adapter's downtime starts again, and the incident must not clear and reopen)."""
    out: list[Signal] = []
    by_adapter: dict[str, list[WatchReport]] = {}
    errors = 0
    for r in reports:
        fresh = now - r.seen_at < STALE
        if r.adapter == "":
            errors += r.errors if fresh else 0
        else:
            by_adapter.setdefault(r.adapter, []).append(r)
    for name, rows in sorted(by_adapter.items()):
        live = [r for r in rows if now - r.seen_at < STALE]
        since: datetime | None
        if any(r.connected for r in live):
            since = None
        elif live:
            since = max(r.offline_since or r.seen_at for r in live)
        else:
            since = max(r.seen_at for r in rows)  # every worker running it stopped reporting
        long_enough = since is not None and now - since >= timedelta(seconds=config.watchdog_offline_seconds)
        if since is not None and (long_enough or f"offline:{name}" in open_keys):
            minutes = max(1, int((now - since).total_seconds() // 60))
            out.append(
                Signal(f"offline:{name}", name, "offline", {"adapter": name, "minutes": minutes}, since)
            )
        backlog = sum(r.backlog for r in live)
        if backlog > config.watchdog_backlog:
            values = {"adapter": name, "count": backlog, "limit": config.watchdog_backlog}
            out.append(Signal(f"backlog:{name}", name, "backlog", values))
    if errors > config.watchdog_errors:
        out.append(Signal("errors", None, "errors", {"count": errors, "limit": config.watchdog_errors}))
    return out


async def _tell(services: Services, adapter_name: str, text: str) -> int:
    """Send ``text`` privately to every superuser on one adapter; how many got it."""
    adapter = services.adapters[adapter_name]
    delivered = 0
    for user_id in services.config.bot.superusers.get(adapter.platform, ()):
        try:
            await services.send_private(adapter_name, user_id, OutgoingMessage(parts=(Text(text),)))
            delivered += 1
        except QunyouError as exc:
            log.warning("watchdog: could not tell superuser %s on %s: %s", user_id, adapter_name, exc)
    return delivered


def _text(services: Services, incident: IncidentRow, phase: str, now: datetime) -> str:
    lang = services.config.bot.language

    def t(key: str, **values: Any) -> str:
        return services.i18n.t(lang, key, **values)

    if phase == "alert":
        return t("desk.level3.alert", what=t(f"desk.level3.{incident.what}", **incident.values))
    end = incident.cleared_at or now
    minutes = max(1, round((end - incident.since).total_seconds() / 60))
    what = t(f"desk.level3.{incident.what}_ok", **incident.values)
    return t("desk.level3.recovered", what=what, minutes=minutes)


async def deliver(services: Services, now: datetime) -> None:
    """Tell the superusers, on this worker's connected adapters, of the incidents not yet told
    there: an open one's alert (not on the failing adapter), a cleared one's recovery (where it
    was heard of at all). Each (incident, adapter) is claimed first, so it is told once."""
    repo = get_state(services).repos.watch
    superusers = services.config.bot.superusers
    for incident in await repo.incidents():
        phase = "alert" if incident.cleared_at is None else "recovered"
        if incident.cleared_at is not None:
            if not await repo.told(incident.key, incident.since, "alert"):
                await repo.drop(incident.key)  # nobody heard of it: no "recovered" either
                continue
            if now - incident.cleared_at >= KEEP_CLEARED:
                await repo.drop(incident.key)
                continue
        for name, adapter in services.adapters.items():
            if not adapter.connected or not superusers.get(adapter.platform):
                continue
            if phase == "alert" and name == incident.adapter:
                continue
            if not await repo.claim_notice(incident.key, incident.since, phase, name, now):
                continue
            if phase == "alert":
                log.error("watchdog: %s (telling superusers on %s)", incident.key, name)
            if await _tell(services, name, _text(services, incident, phase, now)) == 0:
                await repo.unclaim_notice(incident.key, incident.since, phase, name)


async def check(services: Services, now: datetime) -> None:
    """The minute's check (one worker claims it): report, decide from every worker's reports,
    write the incidents, then tell what this worker can."""
    watch = get_watch(services)
    repo = get_state(services).repos.watch
    await report(services, watch, now)
    await repo.drop_reports_before(now - FORGET)
    known = {i.key: i for i in await repo.incidents()}
    still_open = frozenset(k for k, i in known.items() if i.cleared_at is None)
    tripped = {s.key: s for s in signals(watch.config, await repo.reports(), now, still_open)}
    for key, signal in tripped.items():
        await repo.open(key, signal.what, signal.adapter, signal.values, signal.since or now)
    for key, incident in known.items():
        if incident.cleared_at is None and key not in tripped:
            log.warning("watchdog: %s cleared", key)
            await repo.clear(key, now)
    await deliver(services, now)


async def tick(services: Services) -> None:
    """Every worker, from the batcher: report and tell about once a minute, so a worker that
    never wins the check still reports its adapters and tells on them."""
    watch = get_watch(services)
    now = services.clock.now()
    if not watch.active or (watch.last is not None and now - watch.last < PERIOD):
        return
    await report(services, watch, now)
    await deliver(services, now)


async def check_job(services: Services, job: Any, fire_time: datetime) -> None:
    """The scheduled check (every minute)."""
    await check(services, fire_time)
