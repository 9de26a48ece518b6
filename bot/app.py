"""The app: the one place that wires config, storage, services, features and adapters."""

from __future__ import annotations

import difflib
import importlib
import logging
import os
import secrets
import socket
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from pydantic import ValidationError

from bot import metrics
from bot.adapter import Adapter
from bot.batcher import Batcher
from bot.buttons import ButtonFallback
from bot.changes import CHANNEL as CHANGES_CHANNEL
from bot.changes import ChangeFeed
from bot.clock import Clock, SystemClock
from bot.config import CORE_SECTIONS, Settings, format_validation_error, model_at, unknown_key_message
from bot.cooldowns import Cooldowns, Counts
from bot.dedupe import Deduper
from bot.directory import Directory
from bot.dispatcher import Dispatcher
from bot.errors import ConfigError, QunyouError
from bot.feature import Feature
from bot.i18n import I18n
from bot.permissions import Permissions
from bot.router import CommandTable
from bot.scheduler import Scheduler
from bot.services import Services
from bot.settings import SettingsService
from storage import (
    Database,
    EventLogRepo,
    GroupRepo,
    JobRepo,
    LeaseRepo,
    MemberRepo,
    MessageCountRepo,
    RoleRepo,
    SettingsRepo,
    health,
)
from storage.cooldowns import CooldownRepo, CountRepo
from storage.dashboard.changes import ChangeLog
from storage.notify import PgChannel
from storage.workers import SingleWorkerLock, WorkerPresence, WorkerRefused, migrate_exclusively

log = logging.getLogger(__name__)

#: Adapter type → the package that implements it (imported only when configured).
ADAPTER_TYPES: dict[str, str] = {
    "console": "adapters.console",
    "discord": "adapters.discord",
    "onebot": "adapters.onebot",
    "telegram": "adapters.telegram",
    "wecom_robot": "adapters.wecom",
}


#: The worker name on SQLite, where one worker runs per file (``bot.scheduler.DEFAULT_OWNER``).
DEFAULT_WORKER = "main"


def _pool_counter(db: Database) -> Any:
    """The engine pool's checked-out count, for the ``/metrics`` gauge (0 where not pooled)."""
    pool = db.engine.sync_engine.pool

    def count() -> int:
        checked = getattr(pool, "checkedout", None)
        return int(checked()) if callable(checked) else 0

    return count


def default_features() -> list[Feature]:
    """The explicit feature list of ``handlers``."""
    from handlers import FEATURES

    return list(FEATURES)


def build_adapters(settings: Settings, env: Mapping[str, str]) -> list[Adapter]:
    """Build every ``[adapters.<name>]`` section; a bad section raises ``ConfigError``."""
    built: list[Adapter] = []
    for name, section in settings.adapters.items():
        kind = section.get("type")
        module_name = ADAPTER_TYPES.get(str(kind))
        if module_name is None:
            known = ", ".join(sorted(ADAPTER_TYPES))
            raise ConfigError(f"adapters.{name}.type: unknown adapter type {kind!r} (known: {known})")
        module = importlib.import_module(module_name)
        try:
            config = module.CONFIG_MODEL(**section)
        except ValidationError as exc:
            raise ConfigError(
                format_validation_error(exc, f"adapters.{name}", model=module.CONFIG_MODEL)
            ) from None
        built.append(module.build(name, config, env))
    return built


class App:
    """A running bot: ``await start()``, events flow, ``await stop()``."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        adapters: Sequence[Adapter] | None = None,
        features: Sequence[Feature] | None = None,
        env: Mapping[str, str] | None = None,
        flush_interval: float = 1.0,
        serve_only: bool = False,
    ) -> None:
        self.settings = settings
        #: ``bot web``: the services for the dashboard, on a database a worker (``bot run`` or
        #: the console) may be using at the same time. No adapters, no scheduler, no batcher,
        #: and no claim on the SQLite file: the worker running beside it keeps doing that work.
        self.serve_only = serve_only
        self.clock: Clock = clock or SystemClock()
        self._env = env if env is not None else os.environ
        self._given_adapters = list(adapters) if adapters is not None else None
        self.features = list(features) if features is not None else default_features()
        self._flush_interval = flush_interval
        self.services: Services | None = None
        self.dispatcher: Dispatcher | None = None
        self.db: Database | None = None
        self.started = False
        #: This worker's name in job leases (``docs/scale-out.md``).
        self.worker = DEFAULT_WORKER
        self._file_lock: SingleWorkerLock | None = None
        self._presence: WorkerPresence | None = None

    def _apply_feature_config(self, settings_service: SettingsService) -> None:
        """Validate every non-core section against the features that own it."""
        owners: dict[str, Feature] = {f.name: f for f in self.features}
        for section, value in self.settings.features.items():
            feature = owners.get(section)
            extra_owner = next(
                (f for f in self.features if section in getattr(f.config_model, "model_fields", {})), None
            )
            if feature is None and extra_owner is None:
                known = [*CORE_SECTIONS, *owners]
                close = difflib.get_close_matches(section, known, n=1, cutoff=0.6)
                hint = f" — did you mean `[{close[0]}]`?" if close else ""
                raise ConfigError(f"unknown section `[{section}]`{hint}")
            leftover: dict[str, Any] | Any = value
            if isinstance(value, dict) and feature is not None:
                leftover = {}
                # A feature's section sets its own settings, prefixed ("checkin.base_points")
                # or not (the core's "mod_chat").
                own = set(settings_service.keys_of(feature.settings)) if feature.settings else set()
                for key, raw in value.items():
                    full = key if key in own else f"{section}.{key}"
                    if full in settings_service.specs:
                        try:
                            settings_service.set_default(full, raw)
                        except ValueError as exc:
                            raise ConfigError(f"{full}: {exc}") from None
                    else:
                        leftover[key] = raw
            owner = feature if feature is not None and feature.config_model is not None else extra_owner
            # Every key this section could hold, for "did you mean" on a misspelled one.
            known = [
                spec.key.removeprefix(f"{section}.")
                for spec in settings_service.specs.values()
                if feature is not None and (spec.key.startswith(f"{section}.") or spec.key in own)
            ]
            section_model = model_at(owner.config_model, (section,)) if owner is not None else None
            checked = owner is None or (
                section_model is not None and section_model.model_config.get("extra") == "forbid"
            )
            if isinstance(leftover, dict) and checked:
                fields = list(section_model.model_fields) if section_model is not None else []
                for key in leftover:
                    if key not in fields:
                        raise ConfigError(unknown_key_message(f"{section}.{key}", str(key), known + fields))
            if owner is None or owner.config_model is None:
                if leftover:
                    raise ConfigError(f"{section}: must be a table")
                continue
            payload = dict(owner.config or {})
            payload[section] = leftover
            owner.config = payload
        for feature in self.features:
            if feature.config_model is None:
                continue
            try:
                feature.config = feature.config_model(**(feature.config or {}))
            except ValidationError as exc:
                raise ConfigError(format_validation_error(exc, model=feature.config_model)) from None

    async def start(self) -> None:
        """Migrate, build services, start features, the scheduler and the adapters."""
        settings = self.settings
        db = Database(settings.storage.url)
        self.db = db
        if db.sqlite_path is not None and not self.serve_only:
            self._file_lock = SingleWorkerLock(db.sqlite_path)
            try:
                self._file_lock.acquire()
            except WorkerRefused as exc:
                self._file_lock = None
                await db.close()
                self.db = None
                raise QunyouError(str(exc)) from None
        await migrate_exclusively(db)
        if self.serve_only:
            # Its own name, so the worker beside it does not take its changes for its own.
            self.worker = f"web:{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        if not db.is_sqlite and not self.serve_only:
            # Several workers may share PostgreSQL: each needs its own name in the leases, and the
            # advisory lock that tells the others it is alive.
            self.worker = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
            self._presence = WorkerPresence(db, self.worker)
            await self._presence.start()
        metrics.watch_pool(_pool_counter(db))
        clock = self.clock
        i18n = I18n.load()
        settings_service = SettingsService(SettingsRepo(db))
        for feature in self.features:
            feature.config = None
            if feature.settings is not None:
                settings_service.register(feature.settings)
        self._apply_feature_config(settings_service)
        groups, members = GroupRepo(db), MemberRepo(db)
        commands = CommandTable([f.router for f in self.features], settings.bot.command_prefixes)
        services = Services(
            config=settings,
            clock=clock,
            db=db,
            groups=groups,
            members=members,
            roles=RoleRepo(db),
            jobs=JobRepo(db),
            message_counts=MessageCountRepo(db),
            event_log=EventLogRepo(db),
            i18n=i18n,
            settings=settings_service,
            scheduler=Scheduler[Services](
                JobRepo(db),
                LeaseRepo(db),
                clock,
                timedelta(seconds=settings.scheduler.misfire_grace_seconds),
                owner=self.worker,
                presence=self._presence,
            ),
            permissions=Permissions(settings.bot, RoleRepo(db), clock),
            directory=Directory(groups, members, clock, settings.bot.timezone, settings.bot.language),
            batcher=Batcher(self._flush_interval),
            buttons=ButtonFallback(i18n),
            features=self.features,
            commands=commands,
            started_at=clock.now(),
            changes=ChangeFeed(self.worker),
        )
        if not db.is_sqlite:
            await services.changes.connect(PgChannel(db, CHANGES_CHANNEL))
        else:
            # A `bot web` process may share the file: changes go through a polled log instead.
            await services.changes.attach_log(ChangeLog(db), clock.now)
            if clock.moves_on_its_own:
                services.changes.start_polling()
        settings_service.changed = lambda group_id: services.changes.publish("settings", group_id)
        services.changes.subscribe("settings", lambda key: settings_service.invalidate(int(key)))
        if self._presence is not None:
            services.cooldowns = Cooldowns(CooldownRepo(db))
            services.counts = Counts(CountRepo(db))
            # Role grants and groups (language, timezone) are cached per worker: a change made
            # through one worker drops the others' copies.
            services.permissions.changed = lambda group_id: services.changes.publish_soon("roles", group_id)
            services.changes.subscribe("roles", lambda key: services.permissions.forget_grants(int(key)))
            services.directory.changed = lambda group_id: services.changes.publish("group", group_id)
            services.changes.subscribe("group", lambda key: services.directory.forget_group(int(key)))
        adapters = self._given_adapters
        if self.serve_only:
            adapters = []
        elif adapters is None:
            adapters = build_adapters(settings, self._env)
            for adapter in adapters:
                # Adapters built from config start on the system clock; under a virtual clock
                # (tests, console) their mute end times must come from the app's clock.
                if hasattr(adapter, "clock"):
                    adapter.clock = clock
        services.adapters = {a.name: a for a in adapters}
        deduper = Deduper(services.event_log, clock, shared=self._presence is not None)
        await deduper.load(list(services.adapters))
        services.batcher.register("dedupe", deduper.flush)
        services.batcher.register("notices", services.notices.flush)
        self.services = services
        self.dispatcher = Dispatcher(services, commands, deduper, [f.router for f in self.features])
        for feature in self.features:
            if feature.provides is not None:
                for port, implementation in feature.provides(services).items():
                    services.ports.provide(port, implementation, feature.name)
        services.ports.check(self.features)
        for feature in self.features:
            if feature.startup is not None:
                await feature.startup(services)
        if self.serve_only:
            self.started = True
            log.info("Qunyou serving the dashboard only: %d features", len(self.features))
            return
        await services.scheduler.start(services)
        if clock.moves_on_its_own:
            services.batcher.start()  # else the scheduler flushes as the virtual clock moves
        for adapter in adapters:
            log.info("adapter %s (%s): connecting", adapter.name, adapter.platform)
            await adapter.start(self.dispatcher)
            log.info("adapter %s (%s): connected", adapter.name, adapter.platform)
        self.started = True
        if clock.is_virtual:
            # Catch up on runs missed while the bot was down (within the grace window).
            await services.scheduler.run_due(clock.now())
        log.info("Qunyou ready: %d adapters, %d features", len(adapters), len(self.features))

    async def readiness(self) -> dict[str, bool]:
        """``/readyz``: database reachable, migrations current, every adapter connected."""
        if self.db is None or self.services is None or not self.started:
            return {"started": False}
        checks = {
            "database": await health.reachable(self.db),
            "migrations": await health.migrations_current(self.db),
        }
        for adapter in self.services.adapters.values():
            checks[f"adapter:{adapter.name}"] = adapter.connected
        return checks

    async def stop(self) -> None:
        """Refuse new events, drain, flush batches, stop the scheduler, then adapters and database.

        Adapters stop last: the final flush may announce something (a badge earned by the last
        batched activity), and a connected platform (a OneBot WebSocket) can only deliver it
        while it is still connected.
        """
        if self.services is None:
            return
        services = self.services
        if self.dispatcher is not None:
            self.dispatcher.closing = True
            await self.dispatcher.drain()
        await services.batcher.stop()
        await services.scheduler.stop()
        for feature in self.features:
            if feature.shutdown is not None:
                try:
                    await feature.shutdown(services)
                except Exception:
                    log.exception("feature %s failed to shut down", feature.name)
        await services.batcher.flush()
        if self.dispatcher is not None:
            await self.dispatcher.drain()
        for adapter in services.adapters.values():
            try:
                await adapter.stop()
            except Exception:
                log.exception("adapter %s failed to stop cleanly", adapter.name)
        await services.changes.close()
        if self._presence is not None:
            try:
                await self._presence.stop()
            except Exception:
                log.exception("could not release the worker lock (closing the database does)")
            self._presence = None
        if self.db is not None:
            await self.db.close()
        if self._file_lock is not None:
            self._file_lock.release()
            self._file_lock = None
        self.started = False
        self.services = None
