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
one "recovered" message. An incident no adapter could deliver stays unsent and is tried again at
the next check. Incidents live in memory: after a restart a failure still there is reported
again, which is what an operator wants to hear.
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

log = logging.getLogger(__name__)

JOB_KIND = "desk.watchdog"
JOB_ID = "desk:watchdog"
#: How often the signals are looked at.
PERIOD = timedelta(minutes=1)
#: The window of the error rate.
ERROR_WINDOW = timedelta(minutes=5)
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
class Incident:
    """An open incident; ``alerted`` once at least one superuser got the alert."""

    signal: Signal
    since: datetime
    alerted: bool = False


@dataclass
class Watch:
    """What the watchdog remembers between checks."""

    config: WatchdogConfig
    #: adapter → the check that first saw it disconnected.
    offline_since: dict[str, datetime] = field(default_factory=dict)
    #: (time, ``errors_so_far``) at each check within the error window, oldest first.
    errors: deque[tuple[datetime, float]] = field(default_factory=deque)
    incidents: dict[str, Incident] = field(default_factory=dict)


def get_watch(services: Services) -> Watch:
    """The watchdog's state (made at the desk's start)."""
    watch = services.state[STATE_KEY]
    assert isinstance(watch, Watch)
    return watch


async def start(services: Services, config: WatchdogConfig) -> None:
    """Keep the baseline of the error count and schedule the check (or drop it when off)."""
    now = services.clock.now()
    watch = Watch(config=config)
    watch.errors.append((now, metrics.errors_so_far()))
    services.state[STATE_KEY] = watch
    services.scheduler.register(JOB_KIND, check_job)
    if not config.watchdog or not any(services.config.bot.superusers.values()):
        # Nobody to tell: no job. It matters under a virtual clock, where a console script's
        # jump over a day would otherwise run 1,440 checks (about 3 s on the dev machine).
        await services.scheduler.cancel(JOB_ID)
        return
    job = await services.scheduler.get(JOB_ID)
    if job is None:
        start_at = now.replace(second=0, microsecond=0) + PERIOD
        await services.scheduler.schedule(JOB_ID, JOB_KIND, Every(int(PERIOD.total_seconds()), start_at))


def signals(services: Services, watch: Watch, now: datetime) -> list[Signal]:
    """The signals tripped now (and the bookkeeping of disconnections and errors)."""
    config = watch.config
    out: list[Signal] = []
    for name, adapter in services.adapters.items():
        if adapter.connected:
            watch.offline_since.pop(name, None)
        else:
            since = watch.offline_since.setdefault(name, now)
            if now - since >= timedelta(seconds=config.watchdog_offline_seconds):
                minutes = max(1, int((now - since).total_seconds() // 60))
                values = {"adapter": name, "minutes": minutes}
                out.append(Signal(f"offline:{name}", name, "offline", values, since))
        backlog = adapter.outbound_backlog()
        if backlog > config.watchdog_backlog:
            values = {"adapter": name, "count": backlog, "limit": config.watchdog_backlog}
            out.append(Signal(f"backlog:{name}", name, "backlog", values))
    watch.errors.append((now, metrics.errors_so_far()))
    while len(watch.errors) > 1 and now - watch.errors[1][0] >= ERROR_WINDOW:
        watch.errors.popleft()  # keep one sample at or before the window's start
    errors = int(watch.errors[-1][1] - watch.errors[0][1])
    if errors > config.watchdog_errors:
        out.append(Signal("errors", None, "errors", {"count": errors, "limit": config.watchdog_errors}))
    return out


async def _tell_superusers(services: Services, text: str, skip: str | None) -> int:
    """Send ``text`` privately to every superuser on every connected adapter but ``skip``;
    returns how many got it."""
    delivered = 0
    superusers = services.config.bot.superusers
    for name, adapter in services.adapters.items():
        if name == skip or not adapter.connected:
            continue
        for user_id in superusers.get(adapter.platform, ()):
            try:
                await services.send_private(name, user_id, OutgoingMessage(parts=(Text(text),)))
                delivered += 1
            except QunyouError as exc:
                log.warning("watchdog: could not tell superuser %s on %s: %s", user_id, name, exc)
    return delivered


async def check(services: Services, now: datetime) -> None:
    """One look at the signals: alert new incidents, announce the cleared ones."""
    watch = get_watch(services)
    lang = services.config.bot.language

    def t(key: str, **values: Any) -> str:
        return services.i18n.t(lang, key, **values)

    tripped = {s.key: s for s in signals(services, watch, now)}
    for key, signal in tripped.items():
        incident = watch.incidents.setdefault(key, Incident(signal, signal.since or now))
        if incident.alerted:
            continue
        log.error("watchdog: %s", key)
        text = t("desk.level3.alert", what=t(f"desk.level3.{signal.what}", **signal.values))
        incident.alerted = await _tell_superusers(services, text, signal.adapter) > 0
    for key in [k for k in watch.incidents if k not in tripped]:
        incident = watch.incidents.pop(key)
        log.warning("watchdog: %s cleared", key)
        if not incident.alerted:
            continue  # nobody heard of it: no "recovered" either
        minutes = max(1, round((now - incident.since).total_seconds() / 60))
        what = t(f"desk.level3.{incident.signal.what}_ok", **incident.signal.values)
        await _tell_superusers(services, t("desk.level3.recovered", what=what, minutes=minutes), None)


async def check_job(services: Services, job: Any, fire_time: datetime) -> None:
    """The scheduled check (every minute)."""
    await check(services, fire_time)
