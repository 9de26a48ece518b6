"""Configuration: ``config.toml`` read with tomllib, validated with pydantic.

A wrong key or value stops the start with the key path and the reason. Secrets never live in
the file: adapter sections name the environment variables that hold them.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.clock import check_timezone
from bot.errors import ConfigError

CORE_SECTIONS = ("bot", "storage", "scheduler", "adapters", "web", "logging")


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


class StorageSection(_Strict):
    """``[storage]``: where the data lives."""

    url: str = "sqlite+aiosqlite:///qunyou.db"

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


def format_validation_error(exc: ValidationError, prefix: str = "") -> str:
    """``key.path: reason`` lines for a pydantic error."""
    lines = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"])
        full = f"{prefix}.{path}" if prefix and path else (prefix or path)
        lines.append(f"{full}: {err['msg']}")
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
    try:
        return Settings(**core, features=features, source=source)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc)) from None


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
    return parse_settings(data, source=str(path))
