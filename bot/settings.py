"""Group settings with registered defaults: config gives the defaults, ``/set`` the overrides."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot import args
from bot.clock import check_timezone
from bot.params import OFF_WORDS, ON_WORDS
from bot.roles import Role

if TYPE_CHECKING:
    from storage import SettingsRepo

# The commands' on/off vocabulary (``bot.params``), plus 1/0 for settings written in config.
_TRUE = ON_WORDS | {"1"}
_FALSE = OFF_WORDS | {"0"}


def parse_bool(value: Any) -> bool:
    """Read on/off, true/false, yes/no, 1/0, 开/关."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("on / off")


def parse_int(value: Any) -> int:
    """Read an integer: an int as is, text through the commands' converter (full-width too)."""
    if isinstance(value, bool):
        raise ValueError("an integer")
    if isinstance(value, int):
        return value
    try:
        return args.parse_int(str(value))
    except (args.UsageError, args.BadArgument):
        raise ValueError("an integer") from None


def parse_str(value: Any) -> str:
    """Read a string."""
    return str(value)


def parse_timezone(value: Any) -> str:
    """Read an IANA timezone name (``bot.clock.check_timezone``: raises ``UnknownTimezone``)."""
    return check_timezone(str(value))


def choice(*allowed: str) -> Callable[[Any], str]:
    """A parser that accepts only ``allowed`` values."""

    def parse(value: Any) -> str:
        text = str(value).strip()
        if text not in allowed:
            raise ValueError(" | ".join(allowed))
        return text

    return parse


def int_range(low: int, high: int) -> Callable[[Any], int]:
    """A parser for an integer in ``[low, high]``."""

    def parse(value: Any) -> int:
        number = parse_int(value)
        if not low <= number <= high:
            raise ValueError(f"{low}..{high}")
        return number

    return parse


_PARSERS: dict[Any, Callable[[Any], Any]] = {bool: parse_bool, int: parse_int, str: parse_str}


@dataclass(frozen=True)
class SettingSpec:
    """A setting a feature registers: its key, how to read a value, its default and help.

    ``parser`` may be ``int``, ``bool``, ``str`` or any callable raising ``ValueError`` with
    the allowed values as its message. A ``guarded`` setting changes where a group's data goes
    or who holds power: only admins may change it, and every change is written to the audit
    log and announced to the group's moderators.
    """

    key: str
    parser: Callable[[Any], Any] | type
    default: Any
    description: str = ""
    min_role: Role = Role.MODERATOR
    guarded: bool = False

    @property
    def required_role(self) -> Role:
        """The rank needed to change this setting."""
        return max(self.min_role, Role.ADMIN) if self.guarded else self.min_role

    def parse(self, value: Any) -> Any:
        """Validate ``value``; raises ``ValueError`` naming what is allowed."""
        parser = _PARSERS.get(self.parser, self.parser)
        return parser(value)


class SettingsService:
    """Resolves a group's settings: override in the database, else config default, else spec."""

    def __init__(self, repo: SettingsRepo) -> None:
        self._repo = repo
        self.specs: dict[str, SettingSpec] = {}
        self._defaults: dict[str, Any] = {}
        self._cache: dict[int, dict[str, Any]] = {}

    def register(self, specs: Iterable[SettingSpec]) -> None:
        """Add a feature's settings."""
        for spec in specs:
            if spec.key in self.specs:
                raise ValueError(f"setting {spec.key} registered twice")
            self.specs[spec.key] = spec
            self._defaults.setdefault(spec.key, spec.default)

    def set_default(self, key: str, value: Any) -> None:
        """Override a spec's default (from config.toml); raises ``ValueError`` when invalid."""
        spec = self.specs[key]
        self._defaults[key] = spec.parse(value)

    def default(self, key: str) -> Any:
        """The default in force for ``key``."""
        return self._defaults[key]

    async def overrides(self, group_id: int) -> dict[str, Any]:
        """The group's overrides, cached until changed."""
        cached = self._cache.get(group_id)
        if cached is None:
            cached = await self._repo.all_for(group_id)
            self._cache[group_id] = cached
        return cached

    async def get(self, group_id: int | None, key: str) -> Any:
        """The value of ``key`` in a group (the default for ``None``)."""
        if key not in self.specs:
            raise KeyError(key)
        if group_id is not None:
            overrides = await self.overrides(group_id)
            if key in overrides:
                return overrides[key]
        return self._defaults[key]

    async def set(self, group_id: int, key: str, raw: Any, by: str | None, now: datetime) -> Any:
        """Validate and store an override; returns the parsed value."""
        value = self.specs[key].parse(raw)
        await self._repo.put(group_id, key, value, by, now)
        self._cache.pop(group_id, None)
        return value

    async def reset(self, group_id: int, key: str) -> None:
        """Back to the default."""
        await self._repo.remove(group_id, key)
        self._cache.pop(group_id, None)

    def keys(self, prefix: str = "") -> Sequence[str]:
        """Registered keys, sorted."""
        return sorted(k for k in self.specs if k.startswith(prefix))
