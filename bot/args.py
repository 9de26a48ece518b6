"""Argument types every feature shares: integers, members, durations, local dates and times.

Parsers raise ``UsageError`` (answer with the command's usage line) or ``BadArgument`` (answer
with a specific reason, a translation key plus values). The dispatcher turns both into a reply
in the member's language; a traceback never reaches a member.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from bot.clock import zone

if TYPE_CHECKING:
    from bot.events import UserRef
    from storage.models import Group, Member


class _Directory(Protocol):
    async def member_for(self, group: Group, user: UserRef) -> Member: ...


class _Members(Protocol):
    async def search(self, group_id: int, name: str) -> list[Member]: ...


class _Lookups(Protocol):
    @property
    def directory(self) -> _Directory: ...

    @property
    def members(self) -> _Members: ...


class ArgContext(Protocol):
    """What converting an argument reads of a handler's ``Context``: a narrow view, so this
    module (and ``bot.params``, which the router imports) never imports the context back."""

    @property
    def services(self) -> _Lookups: ...

    @property
    def group(self) -> Group | None: ...

    @property
    def reply_target(self) -> UserRef | None: ...

    @property
    def mentions(self) -> tuple[UserRef, ...]: ...

    @property
    def today(self) -> date: ...


class UsageError(Exception):
    """The arguments do not fit the command: show its usage line."""


class BadArgument(Exception):
    """One argument is wrong for a reason worth telling (``key`` is a translation key)."""

    def __init__(self, key: str, /, **values: Any) -> None:
        self.key = key
        self.values = values
        super().__init__(key)


MAX_AMOUNT = 1_000_000


def parse_int(text: str | None, *, min_value: int | None = None, max_value: int | None = None) -> int:
    """An integer within bounds; full-width digits are accepted."""
    if text is None or not text.strip():
        raise UsageError()
    import unicodedata

    folded = unicodedata.normalize("NFKC", text.strip())
    if not re.fullmatch(r"[+-]?\d{1,12}", folded):
        raise BadArgument("core.args.not_integer", value=excerpt(text))
    number = int(folded)
    if min_value is not None and number < min_value:
        raise BadArgument("core.args.too_small", value=number, min=min_value)
    if max_value is not None and number > max_value:
        raise BadArgument("core.args.too_large", value=number, max=max_value)
    return number


#: The largest row id either backend can hold. Ids are ``Integer`` columns: 64-bit on SQLite but
#: 32-bit (``int4``) on PostgreSQL, where asyncpg refuses a larger parameter outright. A number
#: beyond this names no row, so it is rejected before it reaches a query.
MAX_ID = 2**31 - 1
#: ASCII digits only, no sign, no leading zero, at most as many digits as ``MAX_ID`` has: checked
#: before ``int()`` so a 400-digit string is never converted (and ``"²"``, which ``str.isdigit``
#: accepts but ``int`` refuses, never gets that far).
_ID_TEXT = re.compile(r"[1-9][0-9]{0,9}")
#: Button data is ours (we put it under our messages), but a forged press can carry anything.
MAX_BUTTON_DATA = 256


def decode_id(text: str | None) -> int | None:
    """A row id exactly as the bot writes it (``"12"``), or None for anything no row can have.

    The one decoder for ids from button data; typed arguments go through ``parse_id``, which
    folds what members type first. Never raises.
    """
    if not isinstance(text, str) or not _ID_TEXT.fullmatch(text):
        return None
    value = int(text)
    return value if value <= MAX_ID else None


def parse_id(text: str | None) -> int:
    """A row id a member typed: ``12``, ``#12``, full-width ``１２``; leading zeros allowed.

    Raises ``UsageError`` when missing and ``BadArgument("core.args.bad_id")`` (answered with the
    command's usage line) for anything that is not an id some row could have.
    """
    if text is None or not text.strip():
        raise UsageError()
    import unicodedata

    folded = unicodedata.normalize("NFKC", text.strip()[:64]).removeprefix("#")
    if folded.isascii() and folded.isdigit():
        folded = folded.lstrip("0")
    value = decode_id(folded)
    if value is None:
        raise BadArgument("core.args.bad_id", value=excerpt(text))
    return value


def button_fields(data: str, count: int) -> list[str] | None:
    """The ``count`` colon-separated fields of button data, or None when the shape is wrong.

    Handlers decode each field themselves (ids with ``decode_id``); a press that does not fit is
    ignored quietly, since only a forged or stale button can carry it.
    """
    if not isinstance(data, str) or len(data) > MAX_BUTTON_DATA:
        return None
    fields = data.split(":")
    return fields if len(fields) == count else None


_UNITS: dict[str, int] = {
    "s": 1,
    "sec": 1,
    "秒": 1,
    "m": 60,
    "min": 60,
    "分": 60,
    "分钟": 60,
    "h": 3600,
    "hr": 3600,
    "小时": 3600,
    "时": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "天": 86400,
    "日": 86400,
    "w": 604800,
    "周": 604800,
    "星期": 604800,
}
_DURATION_PART = re.compile(
    # At most 12 digits a part: a 500-digit "duration" is garbled input, not an int to build.
    r"(\d{1,12})\s*(分钟|小时|星期|days|day|min|sec|hr|[smhdw秒分时天日周])",
    re.IGNORECASE,
)
MAX_DURATION = timedelta(days=366)


def parse_duration(text: str | None) -> timedelta:
    """``10m``, ``2h``, ``3d``, ``1h30m``, ``1天``, ``2小时``, ``30分钟`` → a timedelta."""
    if text is None or not text.strip():
        raise UsageError()
    import unicodedata

    folded = unicodedata.normalize("NFKC", text.strip()).lower()
    position = 0
    total = 0
    for match in _DURATION_PART.finditer(folded):
        if match.start() != position and folded[position : match.start()].strip():
            raise BadArgument("core.args.bad_duration", value=excerpt(text))
        total += int(match.group(1)) * _UNITS[match.group(2).lower()]
        position = match.end()
    if position == 0 or folded[position:].strip():
        raise BadArgument("core.args.bad_duration", value=excerpt(text))
    if total <= 0:
        raise BadArgument("core.args.bad_duration", value=excerpt(text))
    if total > MAX_DURATION.total_seconds():  # before timedelta(), which overflows on huge input
        raise BadArgument("core.args.duration_too_long", value=excerpt(text))
    return timedelta(seconds=total)


def looks_like_duration(text: str) -> bool:
    """True when ``text`` parses as a duration."""
    try:
        parse_duration(text)
    except (UsageError, BadArgument):
        return False
    return True


def parse_time_of_day(text: str | None) -> time:
    """``20:00``, ``9:30``, ``20点``, ``20点30`` → a time of day."""
    if text is None or not text.strip():
        raise UsageError()
    import unicodedata

    folded = unicodedata.normalize("NFKC", text.strip())
    match = re.fullmatch(r"(\d{1,2})(?::(\d{2})|点(?:(\d{1,2})分?)?)?", folded)
    if not match:
        raise BadArgument("core.args.bad_time", value=excerpt(text))
    hour = int(match.group(1))
    minute = int(match.group(2) or match.group(3) or 0)
    if hour > 23 or minute > 59:
        raise BadArgument("core.args.bad_time", value=excerpt(text))
    return time(hour, minute)


def parse_date(text: str, today: date) -> date:
    """``2026-12-01``, ``12-01``, ``12/01`` (this year, or next when already past)."""
    import unicodedata

    folded = unicodedata.normalize("NFKC", text.strip()).replace("/", "-")
    try:
        match = re.fullmatch(r"(?:(\d{4})-)?(\d{1,2})-(\d{1,2})", folded)
        if not match:
            raise ValueError
        year = int(match.group(1)) if match.group(1) else today.year
        result = date(year, int(match.group(2)), int(match.group(3)))
        if not match.group(1) and result < today:
            result = date(year + 1, result.month, result.day)
        return result
    except ValueError:
        raise BadArgument("core.args.bad_date", value=excerpt(text)) from None


def parse_local_datetime(text: str | None, tz: str, now: datetime) -> datetime:
    """``2026-12-01 20:00`` or ``12-01 20:00`` in the group's timezone → an aware UTC instant."""
    if text is None or not text.strip():
        raise UsageError()
    parts = text.split()
    if len(parts) != 2:
        raise BadArgument("core.args.bad_datetime", value=excerpt(text))
    local_today = now.astimezone(zone(tz)).date()
    day = parse_date(parts[0], local_today)
    at = parse_time_of_day(parts[1])
    return local_instant(day, at, tz)


def local_instant(day: date, at: time, tz: str) -> datetime:
    """The instant of a wall-clock time in ``tz`` (the earlier one in a DST fold)."""
    from datetime import UTC

    return datetime.combine(day, at, tzinfo=zone(tz)).astimezone(UTC)


_MENTION = re.compile(r"^@(\S+)$")


async def resolve_member(ctx: ArgContext, token: str | None) -> Member:
    """The member meant by ``token`` (a mention, ``@username``, a name), or the replied-to author.

    Raises ``BadArgument`` when nobody or more than one member fits, ``UsageError`` when there is
    neither a token nor a reply.
    """
    services = ctx.services
    group = ctx.group
    if group is None:
        raise BadArgument("core.args.group_only")
    if token is None or not token.strip():
        target = ctx.reply_target
        if target is None:
            raise UsageError()
        return await services.directory.member_for(group, target)
    token = token.strip()
    match = _MENTION.match(token)
    name = match.group(1) if match else token
    for mentioned in ctx.mentions:
        if name in (mentioned.user_id, mentioned.username, mentioned.display_name):
            return await services.directory.member_for(group, mentioned)
    found = await services.members.search(group.id, name)
    if not found:
        raise BadArgument("core.args.unknown_member", name=excerpt(name))
    if len(found) > 1:
        raise BadArgument("core.args.ambiguous_member", name=excerpt(name), count=len(found))
    return found[0]


def excerpt(text: str, limit: int = 24) -> str:
    """A short, single-line echo of bad input (never a whole 100k message)."""
    flat = " ".join(text.split())
    flat = "".join(ch for ch in flat if ch.isprintable())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
