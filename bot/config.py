"""Configuration: ``config.toml`` read with tomllib, validated with pydantic.

A wrong key or value stops the start with the key path and the reason (a misspelled key with the
key it was probably meant to be). Secrets never live in the file: adapter sections name the
environment variables that hold them, and ``[storage] url_env`` names the one holding the URL.
A relative SQLite path in the file is resolved beside the file, not the working directory.
"""

from __future__ import annotations

import difflib
import logging
import os
import tomllib
import urllib.parse
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.clock import check_timezone
from bot.errors import ConfigError

CORE_SECTIONS = ("bot", "storage", "scheduler", "adapters", "web", "logging")

log = logging.getLogger(__name__)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BotSection(_Strict):
    """``[bot]``: identity, language, time and who may do everything."""

    name: str = "Qunyou"
    language: Literal["zh-CN", "en"] = "zh-CN"
    timezone: str = "Asia/Shanghai"
    command_prefixes: list[str] = Field(default_factory=lambda: ["/", "!"])
    #: platform → user ids that are superusers everywhere on that platform.
    superusers: dict[str, list[str]] = Field(default_factory=dict)
    #: How long a platform role lookup is trusted, in seconds.
    role_cache_seconds: int = Field(default=300, ge=0)

    @field_validator("timezone")
    @classmethod
    def _valid_zone(cls, value: str) -> str:
        return check_timezone(value)

    @field_validator("command_prefixes")
    @classmethod
    def _non_empty(cls, value: list[str]) -> list[str]:
        if not value or any(not p or p.isspace() for p in value):
            raise ValueError("needs at least one non-blank prefix")
        return value


SQLITE_PREFIX = "sqlite+aiosqlite:///"


class StorageSection(_Strict):
    """``[storage]``: where the data lives.

    ``url_env`` names an environment variable holding the URL, so a PostgreSQL password never
    sits in the file; it is read once, when the configuration is loaded, into ``url``.
    """

    url: str = f"{SQLITE_PREFIX}qunyou.db"
    url_env: str = ""

    @field_validator("url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if not (value.startswith("sqlite+aiosqlite://") or value.startswith("postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB")
        return value


class SchedulerSection(_Strict):
    """``[scheduler]``: how late a missed post may still go out."""

    misfire_grace_seconds: int = Field(default=600, ge=0)


class WebSection(_Strict):
    """``[web]``: the HTTP side of ``bot run`` (``/healthz``, ``/readyz``, ``/metrics``; the
    dashboard pages when ``enabled``). Served when ``enabled`` or ``metrics`` is true."""

    enabled: bool = False
    metrics: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    #: Where browsers reach the dashboard: ``/dashboard`` links start with it (behind a reverse
    #: proxy, the public https URL).
    base_url: str = "http://127.0.0.1:8080"
    #: How long a dashboard login lasts, in days.
    session_days: int = Field(default=7, ge=1, le=365)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not (value.startswith("http://") or value.startswith("https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class LoggingSection(_Strict):
    """``[logging]``: ``format = "json"`` writes one JSON object per line (with group and update
    ids where known) for log collectors; ``"text"`` is the readable default."""

    format: Literal["text", "json"] = "text"


class Settings(_Strict):
    """The whole validated configuration."""

    bot: BotSection = Field(default_factory=BotSection)
    storage: StorageSection = Field(default_factory=StorageSection)
    scheduler: SchedulerSection = Field(default_factory=SchedulerSection)
    web: WebSection = Field(default_factory=WebSection)
    logging: LoggingSection = Field(default_factory=LoggingSection)
    #: ``[adapters.<name>]`` sections; each is validated by its adapter type's own model.
    adapters: dict[str, dict[str, Any]] = Field(default_factory=dict)
    #: Every other top-level section, validated by the feature that owns it.
    features: dict[str, Any] = Field(default_factory=dict)
    source: str | None = None


def model_at(model: type[BaseModel] | None, path: tuple[Any, ...]) -> type[BaseModel] | None:
    """The nested model class that ``path`` leads into (None where it leads elsewhere)."""
    for part in path:
        if model is None:
            return None
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field is not None else None
        model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    return model


def unknown_key_message(full: str, key: str, known: list[str]) -> str:
    """``unknown key `a.b` — did you mean `a.c`?``, or where a secret belongs instead."""
    message = f"unknown key `{full}`"
    parent = full[: -len(key)]
    if f"{key}_env" in known:
        return (
            f"{message}: secrets never go in this file. Put the value in an environment variable "
            f"and name that variable with `{parent}{key}_env`"
        )
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f"{message} — did you mean `{parent}{close[0]}`?"
    if known:
        return f"{message} (known keys: {', '.join(sorted(known))})"
    return message


def format_validation_error(
    exc: ValidationError, prefix: str = "", *, model: type[BaseModel] | None = None
) -> str:
    """``key.path: reason`` lines for a pydantic error; ``model`` (the validated class) lets a
    misspelled key be answered with the key it was probably meant to be."""
    lines = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"])
        full = f"{prefix}.{path}" if prefix and path else (prefix or path)
        if err["type"] == "extra_forbidden" and err["loc"]:
            at = model_at(model, tuple(err["loc"][:-1]))
            known = list(at.model_fields) if at is not None else []
            lines.append(unknown_key_message(full, str(err["loc"][-1]), known))
            continue
        lines.append(f"{full}: {err['msg'].removeprefix('Value error, ')}")
    return "; ".join(lines)


def parse_settings(data: dict[str, Any], source: str | None = None) -> Settings:
    """Validate a parsed TOML document."""
    core = {k: v for k, v in data.items() if k in CORE_SECTIONS}
    features = {k: v for k, v in data.items() if k not in CORE_SECTIONS}
    adapters = core.get("adapters", {})
    if not isinstance(adapters, dict):
        raise ConfigError("adapters: must be a table of [adapters.<name>] sections")
    for name, section in adapters.items():
        if not isinstance(section, dict):
            raise ConfigError(f"adapters.{name}: must be a table")
        if "type" not in section:
            raise ConfigError(
                f"adapters.{name}.type: missing (console, telegram, discord, onebot, wecom_robot)"
            )
    storage = core.get("storage")
    if isinstance(storage, dict) and storage.get("url_env"):
        core["storage"] = _url_from_env(storage)
    try:
        settings = Settings(**core, features=features, source=source)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, model=Settings)) from None
    if source is not None and not settings.storage.url_env and _has_password(settings.storage.url):
        log.warning(
            "storage.url in %s holds a password; name an environment variable with storage.url_env "
            "instead, so the password is not in the file",
            source,
        )
    return settings


def _has_password(url: str) -> bool:
    try:
        return bool(urllib.parse.urlsplit(url).password)
    except ValueError:  # a malformed port or netloc: the engine will say so
        return False


def _url_from_env(storage: dict[str, Any]) -> dict[str, Any]:
    """``[storage]`` with ``url`` read from the variable ``url_env`` names."""
    name = str(storage["url_env"])
    if "url" in storage:
        raise ConfigError("storage.url_env: give storage.url or storage.url_env, not both")
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigError(
            f"storage.url_env: the environment variable {name} is empty or not set "
            "(it should hold the database URL, e.g. postgresql+asyncpg://USER:PASSWORD@HOST/DB)"
        )
    return {**storage, "url": value}


def sqlite_file(url: str) -> Path | None:
    """The file a ``sqlite+aiosqlite:///PATH`` URL names (None for other URLs and memory)."""
    if not url.startswith(SQLITE_PREFIX):
        return None
    database = url[len(SQLITE_PREFIX) :].split("?", 1)[0]
    if not database or database == ":memory:":
        return None
    return Path(database)


def resolve_beside(settings: Settings, base: Path) -> Settings:
    """``settings`` with a relative SQLite path made absolute against ``base`` (the config
    file's directory): the same file whichever directory the bot is started from."""
    path = sqlite_file(settings.storage.url)
    if path is None or path.is_absolute():
        return settings
    _, sep, query = settings.storage.url.partition("?")
    url = f"{SQLITE_PREFIX}{(base / path).resolve()}{sep}{query}"
    return settings.model_copy(update={"storage": settings.storage.model_copy(update={"url": url})})


def load_settings(path: Path | None) -> Settings:
    """Read and validate ``path`` (None: every default)."""
    if path is None:
        return Settings()
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return resolve_beside(parse_settings(data, source=str(path)), path.resolve().parent)
