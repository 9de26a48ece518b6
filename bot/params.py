"""Declared command arguments: one vocabulary of typed parameters and one binder.

A command declares what it takes (``args=[Member("target"), Amount("amount")]``); before the
handler runs, the dispatcher binds the words the member typed to those declarations with the
converters in ``bot.args`` and calls the handler with the values as keyword arguments
(``async def give(ctx, target: Member, amount: int)``). The same declarations produce the usage
line (``/give <@member> <amount>``), ``/help <command>`` and the Discord slash-command options.

Conversion failures are the converters' ``UsageError`` (something missing or left over: answer
with the usage line) and ``BadArgument`` (a specific localised reason), so every command words
its errors the same way.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any, ClassVar, Literal

from bot import args as conv
from bot.args import MAX_AMOUNT, ArgContext, BadArgument, UsageError, excerpt

#: How a parameter appears as a Discord slash-command option.
OptionKind = Literal["user", "integer", "string"]

#: The one on/off vocabulary: switches (``/nudge off``) and clearing a text (``/setrules off``).
ON_WORDS = frozenset({"on", "true", "yes", "开", "开启", "打开", "是"})
OFF_WORDS = frozenset({"off", "false", "no", "none", "关", "关闭", "否", "无"})

#: ``error=USAGE``: answer a bad word with the command's usage line rather than a reason.
USAGE = "usage"


def fold(text: str) -> str:
    """Full-width forms to ASCII (``１２`` → ``12``), trimmed: what every converter reads."""
    return unicodedata.normalize("NFKC", text).strip()


@dataclass(frozen=True)
class Param:
    """One declared argument. ``optional`` ones get ``default`` when the member leaves them out.

    ``error`` replaces the converter's own reason with a feature's translation key (it gets the
    same values, e.g. ``value``, ``min``, ``max``), for commands whose wording members know.
    """

    name: str
    optional: bool = False
    default: Any = None
    error: str | None = None
    #: A catalog key naming this argument in usage lines (``<reason>``), instead of its type's.
    hint: str | None = None
    #: Optional, and taken only when the word starts with a digit: ``/mute @bob 10m spam`` has a
    #: duration, ``/mute @bob spam`` has none (the word goes to the next argument).
    if_number: bool = False

    #: The catalog key of the placeholder shown in usage lines (``core.param.<kind>``).
    placeholder: ClassVar[str] = "core.param.text"
    option: ClassVar[OptionKind] = "string"

    @property
    def required(self) -> bool:
        """Whether a call without this argument is a usage error."""
        return not (self.optional or self.if_number)

    def label(self, t: Callable[[str], str]) -> str:
        """The placeholder as a member of ``t``'s language reads it: ``<数量>``, ``[@member]``."""
        inner = t(self.hint or self.placeholder)
        return f"<{inner}>" if self.required else f"[{inner}]"

    async def convert(self, ctx: ArgContext, word: str) -> Any:
        """The value of one typed word (raises ``BadArgument`` with a reason)."""
        return word

    def offered(self) -> tuple[str, ...]:
        """The words a platform may offer as fixed choices (none: anything may be typed)."""
        return ()

    def _fail(self, key: str, /, **values: Any) -> Exception:
        if self.error == USAGE:
            return UsageError()
        return BadArgument(self.error or key, **values)


@dataclass(frozen=True)
class Word(Param):
    """One word, as typed."""

    placeholder: ClassVar[str] = "core.param.word"


@dataclass(frozen=True)
class Rest(Param):
    """The rest of the line, spacing and line breaks kept (clipped to ``limit`` characters)."""

    limit: int | None = None
    lines: bool = False
    placeholder: ClassVar[str] = "core.param.text"


@dataclass(frozen=True)
class Words(Param):
    """The remaining words joined by single spaces (quotes already taken off)."""

    placeholder: ClassVar[str] = "core.param.text"


@dataclass(frozen=True)
class Int(Param):
    """A whole number within ``[low, high]``; full-width digits accepted."""

    low: int | None = None
    high: int | None = None
    placeholder: ClassVar[str] = "core.param.number"
    option: ClassVar[OptionKind] = "integer"

    async def convert(self, ctx: ArgContext, word: str) -> int:
        try:
            return conv.parse_int(word, min_value=self.low, max_value=self.high)
        except BadArgument as exc:
            raise self._fail(exc.key, **{"min": self.low, "max": self.high, **exc.values}) from None


@dataclass(frozen=True)
class Amount(Int):
    """A positive amount of points (``1`` … ``MAX_AMOUNT``); ``1,000`` and ``１０`` accepted."""

    low: int | None = 1
    high: int | None = MAX_AMOUNT
    placeholder: ClassVar[str] = "core.param.amount"

    async def convert(self, ctx: ArgContext, word: str) -> int:
        return await super().convert(ctx, fold(word).replace(",", ""))


@dataclass(frozen=True)
class Id(Param):
    """A row id: ``12``, ``#12``, ``１２``."""

    placeholder: ClassVar[str] = "core.param.id"
    option: ClassVar[OptionKind] = "integer"

    async def convert(self, ctx: ArgContext, word: str) -> int:
        try:
            return conv.parse_id(word)
        except BadArgument as exc:
            raise self._fail(exc.key, **exc.values) from None


@dataclass(frozen=True)
class Duration(Param):
    """``10m``, ``2h``, ``1h30m``, ``3天``, ``2小时``, ``30分钟`` (at most a year)."""

    placeholder: ClassVar[str] = "core.param.duration"

    async def convert(self, ctx: ArgContext, word: str) -> timedelta:
        try:
            return conv.parse_duration(word)
        except BadArgument as exc:
            raise self._fail(exc.key, **exc.values) from None


@dataclass(frozen=True)
class TimeOfDay(Param):
    """``20:00``, ``9:30``, ``20点``, ``20点30``."""

    placeholder: ClassVar[str] = "core.param.time"

    async def convert(self, ctx: ArgContext, word: str) -> time:
        try:
            return conv.parse_time_of_day(word)
        except BadArgument as exc:
            raise self._fail(exc.key, **exc.values) from None


@dataclass(frozen=True)
class Date(Param):
    """``2026-12-01``, ``12-01``, ``12/01`` (this year, or next when already past, in the group's zone)."""

    placeholder: ClassVar[str] = "core.param.date"

    async def convert(self, ctx: ArgContext, word: str) -> date:
        try:
            return conv.parse_date(word, ctx.today)
        except BadArgument as exc:
            raise self._fail(exc.key, **exc.values) from None


@dataclass(frozen=True)
class Member(Param):
    """A member: a mention, ``@name``, a name or a platform id, or the author of the replied-to
    message when the word is left out (the member replies instead of typing a name)."""

    placeholder: ClassVar[str] = "core.param.member"
    option: ClassVar[OptionKind] = "user"

    async def convert(self, ctx: ArgContext, word: str) -> Any:
        return await conv.resolve_member(ctx, word)


@dataclass(frozen=True)
class MemberRef(Param):
    """A member named but not yet looked up: the typed word (``@bob``), or None when the command
    replies to the member's message and no ``@`` word leads. For commands that resolve the member
    in another group than the chat's (moderation acting from a linked moderator chat)."""

    optional: bool = True
    placeholder: ClassVar[str] = "core.param.member"
    option: ClassVar[OptionKind] = "user"


@dataclass(frozen=True)
class Choice(Param):
    """One of a set of words, each meaning a value (``{"week": "week", "周": "week"}``).

    Words are matched case-insensitively after full-width folding; anything else is answered
    with ``core.args.bad_choice`` listing the words (or the ``error`` key).
    """

    words: Mapping[str, Any] = field(default_factory=dict)
    placeholder: ClassVar[str] = "core.param.choice"

    def offered(self) -> tuple[str, ...]:
        """The ASCII words (``week|month|all``), or every word when none is ASCII."""
        return tuple(dict.fromkeys(w for w in self.words if w.isascii())) or tuple(self.words)

    def label(self, t: Callable[[str], str]) -> str:
        shown = "|".join(self.offered())
        return f"[{shown}]" if self.optional else shown

    async def convert(self, ctx: ArgContext, word: str) -> Any:
        key = fold(word).lower()
        if key in self.words:
            return self.words[key]
        # A short echo: a word that is not a choice may be anything, up to a whole message.
        raise self._fail("core.args.bad_choice", value=excerpt(word, 20), options="|".join(self.offered()))


def OnOff(name: str, *, optional: bool = False, default: Any = None, error: str | None = None) -> Choice:
    """The shared on/off vocabulary (on/off/开/关/开启/关闭/true/false/yes/no…) as a ``bool``."""
    words: dict[str, bool] = {w: True for w in sorted(ON_WORDS)}
    words.update({w: False for w in sorted(OFF_WORDS)})
    return _OnOff(name, optional=optional, default=default, error=error, words=words)


@dataclass(frozen=True)
class _OnOff(Choice):
    def offered(self) -> tuple[str, ...]:
        return ("on", "off")


def parse_switch(word: str) -> bool | None:
    """True for an on word, False for an off word, None for anything else."""
    key = fold(word).lower()
    if key in ON_WORDS:
        return True
    if key in OFF_WORDS:
        return False
    return None


# ---------------------------------------------------------------------------- binding


def rest_after(text: str, words: int) -> str:
    """``text`` after its first ``words`` whitespace-separated words, exactly as typed (the
    whitespace after the last word kept, so a body's first blank line still counts)."""
    rest = text
    for _ in range(words):
        rest = rest.lstrip()
        end = next((i for i, ch in enumerate(rest) if ch.isspace()), len(rest))
        rest = rest[end:]
    return rest


async def bind(
    ctx: ArgContext, params: Sequence[Param], words: Sequence[str], raw: str, *, ignore_extra: bool = False
) -> dict[str, Any]:
    """The handler's keyword arguments for ``words`` (``raw`` is the same line unsplit).

    Left to right, each parameter takes one word, except: ``Rest`` takes the rest of the line; a
    ``Member`` whose word is missing (fewer words left than required parameters) is the author
    of the replied-to message; an optional parameter is skipped while the words left are only
    enough for the required ones. ``Member`` followed by a number also reads the two the other
    way round (``/give 5 @bob``), since members type both. Words left over are a usage error,
    unless ``ignore_extra`` (a command whose plain word may lead a sentence: ``活动 几点开始？``).
    """
    values: dict[str, Any] = {}
    position = 0
    for index, param in enumerate(params):
        later = params[index + 1 :]
        required_after = sum(1 for p in later if p.required)
        left = len(words) - position
        if isinstance(param, Words):
            joined = " ".join(words[position:])
            if not joined and not param.optional:
                raise UsageError()
            values[param.name] = joined or param.default
            position = len(words)
            continue
        if isinstance(param, Rest):
            rest = rest_after(raw, position)
            # ``lines``: a multi-line body (``/kw import``) keeps its own first blank lines.
            rest = rest.lstrip(" \t").removeprefix("\n") if param.lines else rest.strip()
            if not rest.strip():
                if not param.optional:
                    raise UsageError()
                values[param.name] = param.default
            else:
                values[param.name] = rest[: param.limit] if param.limit else rest
            position = len(words)
            continue
        if isinstance(param, MemberRef) and ctx.reply_target is not None:
            if left <= 0 or not words[position].startswith("@"):
                values[param.name] = None  # the replied-to author
                continue
        if isinstance(param, Member) and ctx.reply_target is not None and left <= required_after:
            values[param.name] = await conv.resolve_member(ctx, None)
            continue
        if param.if_number and (left <= 0 or not fold(words[position])[:1].isdigit()):
            values[param.name] = param.default
            continue
        if left <= 0 or (param.optional and left <= required_after):
            if not param.optional:
                raise UsageError()
            values[param.name] = param.default
            continue
        word = words[position]
        if isinstance(param, Member) and later and isinstance(later[0], Int) and left >= 2:
            if _numeric(word) and not _numeric(words[position + 1]):
                # ``5 @bob``: the number came first.
                values[param.name] = await param.convert(ctx, words[position + 1])
                values[later[0].name] = await later[0].convert(ctx, word)
                position += 2
                return {**values, **await bind(ctx, later[1:], words[position:], rest_after(raw, position))}
        values[param.name] = await param.convert(ctx, word)
        position += 1
    if position < len(words) and not ignore_extra:
        raise UsageError()
    return values


def _numeric(word: str) -> bool:
    folded = fold(word).replace(",", "")
    return folded.lstrip("+-").isdigit()


def usage_words(params: Sequence[Param], t: Callable[[str], str]) -> str:
    """The placeholders of ``params``, space-separated (``<@member> <amount> [reason]``)."""
    return " ".join(p.label(t) for p in params)
