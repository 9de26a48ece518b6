"""Typed group settings: each feature declares one pydantic model, handlers read a snapshot.

A feature declares its settings as one :class:`FeatureSettings` subclass: field types, bounds,
defaults and descriptions are the model's; who may change a field is :class:`Access` metadata.
A setting's public key is ``<SECTION>.<field>`` (``moderation.red_action``; the core's section is
empty, so its keys are bare, ``mod_chat``): the keys ``/set`` and config.toml use.

Values come from three layers: the group's override (``/set``, in the database), else the
operator's default (config.toml), else the model's default. :meth:`SettingsService.of` resolves
the three into one frozen model instance per group and model, cached until ``/set`` or a reset
changes that group, so a message's handlers read typed attributes, not string keys.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, TypeVar, get_args

import annotated_types
from pydantic import BaseModel, BeforeValidator, ConfigDict, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from bot import args
from bot.clock import check_timezone
from bot.params import OFF_WORDS, ON_WORDS
from bot.roles import Role

if TYPE_CHECKING:
    from storage import SettingsRepo

log = logging.getLogger(__name__)

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


def parse_word(value: Any) -> str:
    """Read one word: a string without surrounding blanks."""
    return str(value).strip()


def parse_timezone(value: Any) -> str:
    """Read an IANA timezone name (``bot.clock.check_timezone``: raises ``UnknownTimezone``)."""
    return check_timezone(str(value))


#: Field types that read what members type after ``/set KEY`` (``开``, ``３０``) as well as
#: values from config.toml and the database. Bounds go on the field: ``Field(5, ge=0, le=100)``.
OnOff = Annotated[bool, BeforeValidator(parse_bool)]
Number = Annotated[int, BeforeValidator(parse_int)]
String = Annotated[str, BeforeValidator(parse_str)]
#: For ``Annotated[Literal["mute", "ban"], WORD]``: a choice of words, blanks around ignored.
WORD = BeforeValidator(parse_word)


@dataclass(frozen=True)
class Access:
    """Field metadata: who may change a setting (``Annotated[OnOff, Access(guarded=True)]``).

    A ``guarded`` setting changes where a group's data goes or who holds power: only admins
    may change it, and every change is written to the audit log and announced to the group's
    moderators.
    """

    min_role: Role = Role.MODERATOR
    guarded: bool = False


GUARDED = Access(guarded=True)


class FeatureSettings(BaseModel):
    """Base of a feature's settings model; ``SECTION`` prefixes its keys (``"stats"``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    SECTION: ClassVar[str] = ""

    @classmethod
    def key_of(cls, field: str) -> str:
        """The public key of one field (``stats.public``)."""
        return f"{cls.SECTION}.{field}" if cls.SECTION else field


Model = TypeVar("Model", bound=FeatureSettings)


class SettingError(ValueError):
    """A value a setting does not accept; ``reason`` says what it allows (``1..1440``)."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(reason)
        self.key = key
        self.reason = reason


def _reason(field: FieldInfo, error: ErrorDetails) -> str:
    """What a field allows, in the words ``/set`` has always answered with."""
    kind = error["type"]
    context = error.get("ctx") or {}
    if kind == "value_error" and "error" in context:
        return str(context["error"])
    if kind == "literal_error":
        return " | ".join(str(word) for word in get_args(field.annotation))
    bounds = [m for m in field.metadata if isinstance(m, annotated_types.Ge | annotated_types.Le)]
    if bounds:
        low = next((m.ge for m in bounds if isinstance(m, annotated_types.Ge)), "")
        high = next((m.le for m in bounds if isinstance(m, annotated_types.Le)), "")
        return f"{low}..{high}"
    return str(error["msg"])


@dataclass(frozen=True)
class SettingSpec:
    """One setting as ``/set`` and ``/settings`` see it: derived from a model's field."""

    key: str
    model: type[FeatureSettings]
    field: str
    default: Any
    description: str
    min_role: Role
    guarded: bool
    adapter: TypeAdapter[Any]

    @classmethod
    def of(cls, model: type[FeatureSettings], name: str, info: FieldInfo) -> SettingSpec:
        """The spec of field ``name`` of ``model``."""
        access = next((m for m in info.metadata if isinstance(m, Access)), Access())
        annotated: Any = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        return cls(
            key=model.key_of(name),
            model=model,
            field=name,
            default=info.default,
            description=info.description or "",
            min_role=access.min_role,
            guarded=access.guarded,
            adapter=TypeAdapter(annotated),
        )

    @property
    def required_role(self) -> Role:
        """The rank needed to change this setting."""
        return max(self.min_role, Role.ADMIN) if self.guarded else self.min_role

    def parse(self, value: Any) -> Any:
        """Validate ``value``; raises :class:`SettingError` naming the key and what is allowed."""
        try:
            return self.adapter.validate_python(value)
        except ValidationError as exc:
            info = self.model.model_fields[self.field]
            raise SettingError(self.key, _reason(info, exc.errors()[0])) from None


class SettingsService:
    """Resolves a group's settings: override in the database, else config default, else model."""

    def __init__(self, repo: SettingsRepo) -> None:
        self._repo = repo
        self.specs: dict[str, SettingSpec] = {}
        self._defaults: dict[str, Any] = {}
        self._overrides: dict[int, dict[str, Any]] = {}
        #: Bumped per group by every change, so a read that raced a ``/set`` is not cached.
        self._generation: dict[int, int] = {}
        #: Resolved snapshots per group (None: the defaults, for private chats) and model.
        self._snapshots: dict[int | None, dict[type[FeatureSettings], FeatureSettings]] = {}
        #: Called with the group id after an override changed (``bot.app`` tells other workers).
        self.changed: Callable[[int], Awaitable[None]] | None = None

    def invalidate(self, group_id: int) -> None:
        """Forget the cached overrides and snapshots of a group (another worker changed them)."""
        self._forget(group_id)

    def register(self, model: type[FeatureSettings]) -> None:
        """Add a feature's settings model."""
        for name, info in model.model_fields.items():
            spec = SettingSpec.of(model, name, info)
            if spec.key in self.specs:
                raise ValueError(f"setting {spec.key} registered twice")
            # A model's own default must pass its own validation, or every group would fail.
            self._defaults[spec.key] = spec.parse(spec.default)
            self.specs[spec.key] = spec

    def keys_of(self, model: type[FeatureSettings]) -> list[str]:
        """The public keys of a model's fields."""
        return [model.key_of(name) for name in model.model_fields]

    def set_default(self, key: str, value: Any) -> None:
        """Override a model's default (from config.toml); raises ``SettingError`` when invalid."""
        self._defaults[key] = self.specs[key].parse(value)
        self._snapshots.clear()

    def default(self, key: str) -> Any:
        """The default in force for ``key``."""
        return self._defaults[key]

    async def overrides(self, group_id: int) -> dict[str, Any]:
        """The group's overrides, cached until changed."""
        cached = self._overrides.get(group_id)
        if cached is None:
            generation = self._generation.get(group_id, 0)
            cached = await self._repo.all_for(group_id)
            if self._generation.get(group_id, 0) == generation:
                self._overrides[group_id] = cached
        return cached

    async def of(self, group_id: int | None, model: type[Model]) -> Model:
        """The group's resolved settings of ``model`` (the defaults for ``None``), cached."""
        # A change while resolving drops this group's dict: the result then lands in the
        # detached one, and the next read resolves again from the new values.
        per_group = self._snapshots.setdefault(group_id, {})
        found = per_group.get(model)
        if found is None:
            found = per_group[model] = await self._resolve(group_id, model)
        assert isinstance(found, model)
        return found

    async def _resolve(self, group_id: int | None, model: type[Model]) -> Model:
        overrides = await self.overrides(group_id) if group_id is not None else {}
        values: dict[str, Any] = {}
        for name in model.model_fields:
            key = model.key_of(name)
            if key not in self.specs:
                raise KeyError(f"{model.__name__} is not registered (no feature declares it)")
            values[name] = overrides.get(key, self._defaults[key])
        try:
            return model.model_validate(values)
        except ValidationError as exc:
            # An override stored under older rules: the group gets the default, the log the key.
            for error in exc.errors():
                name = str(error["loc"][0])
                log.warning(
                    "group %s: stored %s is invalid now; using the default", group_id, model.key_of(name)
                )
                values[name] = self._defaults[model.key_of(name)]
            return model.model_validate(values)

    async def get(self, group_id: int | None, key: str) -> Any:
        """The value of one key in a group (``/settings`` lists them; handlers use :meth:`of`)."""
        spec = self.specs[key]
        return getattr(await self.of(group_id, spec.model), spec.field)

    async def set(self, group_id: int, key: str, raw: Any, by: str | None, now: datetime) -> Any:
        """Validate and store an override; returns the parsed value."""
        value = self.specs[key].parse(raw)
        await self._repo.put(group_id, key, value, by, now)
        self._forget(group_id)
        if self.changed is not None:
            await self.changed(group_id)
        return value

    async def write(
        self, group_id: int, model: type[FeatureSettings], by: str | None, now: datetime, /, **values: Any
    ) -> None:
        """Store overrides of ``model``'s fields, each validated against the model (a field the
        model lacks raises ``KeyError`` at once, a bad value ``SettingError`` with the key path
        and the reason): how handlers write settings. Only ``/set`` writes by key, because a
        moderator typed the key."""
        for name, raw in values.items():
            await self.set(group_id, self.key_for(model, name), raw, by, now)

    async def restore(self, group_id: int, model: type[FeatureSettings], name: str) -> None:
        """Back to the default for one field of ``model``."""
        await self.reset(group_id, self.key_for(model, name))

    def key_for(self, model: type[FeatureSettings], name: str) -> str:
        """The key of field ``name`` of a registered ``model``; ``KeyError`` when there is none."""
        if name not in model.model_fields:
            raise KeyError(f"{model.__name__} has no setting {name!r}")
        key = model.key_of(name)
        if key not in self.specs:
            raise KeyError(f"{model.__name__} is not registered (no feature declares it)")
        return key

    async def reset(self, group_id: int, key: str) -> None:
        """Back to the default."""
        await self._repo.remove(group_id, key)
        self._forget(group_id)
        if self.changed is not None:
            await self.changed(group_id)

    def _forget(self, group_id: int) -> None:
        self._generation[group_id] = self._generation.get(group_id, 0) + 1
        self._overrides.pop(group_id, None)
        self._snapshots.pop(group_id, None)

    def keys(self, prefix: str = "") -> Sequence[str]:
        """Registered keys, sorted."""
        return sorted(k for k in self.specs if k.startswith(prefix))
