"""Pure parsing of the times members type: the WHEN of ``/schedule add`` and the START of ``/event add``.

Nothing here reads the clock: callers pass ``now`` (from the injected Clock) and the group's timezone.
Every failure raises :class:`TimeError` carrying an i18n key and the exact piece of input that was
wrong, so the reply can name it instead of printing a generic usage line (``bad_time``).

Shared by the features that plan posts (schedules, topics, activities, onboarding); the i18n keys
it raises live in their catalogs (``schedule.*``, ``events.*``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from bot.args import BadArgument

if TYPE_CHECKING:
    from bot.context import Context


class TimeError(ValueError):
    """Input that is not a time we understand; ``key`` is an i18n key, ``kw`` its placeholders."""

    def __init__(self, key: str, **kw: object) -> None:
        self.key = key
        self.kw = kw
        super().__init__(f"{key} {kw}")


#: What a bad-input reply quotes of the member's text: enough to recognise, never a wall of text.
EXCERPT = 24


def excerpt(text: str) -> str:
    """A short, single-line quote of member input for an error reply."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1] + "…"


def bad_time(ctx: Context, err: TimeError) -> BadArgument:
    """A parser failure as the core's ``BadArgument``, quoting only a short excerpt."""
    values: dict[str, Any] = dict(err.kw)
    if "part" in values:
        values["part"] = excerpt(str(values["part"]))
    if "field" in values:
        values["field"] = ctx.t(f"schedule.field_{values['field']}")
    return BadArgument(err.key, **values)


# APScheduler 3 counts Monday as 0; cron counts Sunday as 0 (and 7). We never hand APScheduler a
# weekday number: every weekday becomes one of these names.
APS_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CRON_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # index = cron's number (7 → 0)

_WEEKDAY_WORDS: dict[str, int] = {}
for _i, _name in enumerate(APS_WEEKDAYS):
    _WEEKDAY_WORDS[_name] = _i
for _i, _name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")):
    _WEEKDAY_WORDS[_name] = _i
_WEEKDAY_WORDS.update({"tues": 1, "thur": 3, "thurs": 3})
_ZH_DAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
for _prefix in ("周", "星期", "礼拜"):
    for _ch, _i in _ZH_DAY.items():
        if not (_prefix == "周" and _ch == "七"):
            _WEEKDAY_WORDS[_prefix + _ch] = _i

_TIME_RE = re.compile(r"^(\d{1,2})(?:[:：](\d{2})|点(?:(\d{1,2})分?|半)?)$")
_DATE_RE = re.compile(r"^(?:(\d{4})[-/.])?(\d{1,2})[-/.](\d{1,2})$")
_ZH_DATE_RE = re.compile(r"^(?:(\d{4})年)?(\d{1,2})月(\d{1,2})[日号]$")


def parse_time_of_day(token: str) -> time:
    """``09:00``, ``9:30``, ``20：00`` (full-width colon), ``9点``, ``9点30``, ``9点半``."""
    m = _TIME_RE.match(token.strip())
    if not m:
        raise TimeError("schedule.err_time", part=token)
    hour = int(m.group(1))
    if m.group(2) is not None:
        minute = int(m.group(2))
    elif m.group(3) is not None:
        minute = int(m.group(3))
    elif token.strip().endswith("半"):
        minute = 30
    else:
        minute = 0
    if hour > 23 or minute > 59:
        raise TimeError("schedule.err_time", part=token)
    return time(hour, minute)


def weekday_of(token: str) -> int | None:
    """The APScheduler weekday number (Monday 0) for a weekday word, or None."""
    return _WEEKDAY_WORDS.get(token.strip().lower())


# --------------------------------------------------------------------------- WHEN (/schedule add)


@dataclass(frozen=True, slots=True)
class CronSpec:
    """A recurring time as APScheduler cron fields; ``day_of_week`` holds names, never numbers."""

    minute: str
    hour: str
    day: str = "*"
    month: str = "*"
    day_of_week: str = "*"


@dataclass(frozen=True, slots=True)
class OnceSpec:
    """A single instant (aware, UTC)."""

    at: datetime


@dataclass(frozen=True, slots=True)
class When:
    """A parsed WHEN: the trigger spec and a canonical text used for display and duplicate checks."""

    spec: CronSpec | OnceSpec
    canonical: str

    @property
    def once(self) -> bool:
        """True for a one-off post."""
        return isinstance(self.spec, OnceSpec)


def _hhmm(t: time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}"


def _daily(t: time, dow: str = "*", day: str = "*") -> CronSpec:
    return CronSpec(minute=str(t.minute), hour=str(t.hour), day=day, day_of_week=dow)


_GLUED = re.compile(r"^(每天|每日|工作日|每周.|每星期.|每礼拜.|每月\d{1,2}[日号])(\d.*)$")


def _tokens(text: str) -> list[tuple[str, int]]:
    """Words of ``text`` with their end offsets; ``每周五20:00`` counts as two words."""
    out: list[tuple[str, int]] = []
    for m in re.finditer(r"\S+", text):
        if len(out) >= 6:
            break
        glued = _GLUED.match(m.group()) if not out else None
        if glued:
            out.append((glued.group(1), m.start() + len(glued.group(1))))
            out.append((glued.group(2), m.end()))
        else:
            out.append((m.group(), m.end()))
    return out


def parse_when(text: str, tz: ZoneInfo, now: datetime) -> tuple[When, str]:
    """Read a WHEN from the start of ``text``; return it and the rest (the post's text).

    Forms: ``daily 09:00``, ``weekdays 09:00``, ``weekly fri 20:00``, ``monthly 1 10:00``,
    ``once 2026-12-01 20:00``, a 5-field cron expression, ``每天 09:00``, ``工作日 09:00``,
    ``每周五 20:00``, ``每月1日 10:00``.
    """
    spans = _tokens(text)
    tokens = [tok for tok, _ in spans]
    if not tokens:
        raise TimeError("schedule.err_when", part="")
    head = tokens[0].lower()

    def rest(n: int) -> str:
        # The post's text keeps the member's own spacing and line breaks.
        return text[spans[n - 1][1] :].strip()

    def need(n: int) -> None:
        if len(tokens) < n:
            raise TimeError("schedule.err_when_incomplete", part=" ".join(tokens))

    if head in ("daily", "每天", "每日"):
        need(2)
        t = parse_time_of_day(tokens[1])
        return When(_daily(t), f"daily {_hhmm(t)}"), rest(2)
    if head in ("weekdays", "工作日", "workdays"):
        need(2)
        t = parse_time_of_day(tokens[1])
        return When(_daily(t, dow="mon-fri"), f"weekdays {_hhmm(t)}"), rest(2)
    if head == "weekly":
        need(3)
        wd = weekday_of(tokens[1])
        if wd is None:
            raise TimeError("schedule.err_weekday", part=tokens[1])
        t = parse_time_of_day(tokens[2])
        name = APS_WEEKDAYS[wd]
        return When(_daily(t, dow=name), f"weekly {name} {_hhmm(t)}"), rest(3)
    zh_week = re.match(r"^每(周|星期|礼拜)(.)$", tokens[0])
    if zh_week:
        need(2)
        wd = weekday_of(zh_week.group(1) + zh_week.group(2))
        if wd is None:
            raise TimeError("schedule.err_weekday", part=tokens[0])
        t = parse_time_of_day(tokens[1])
        name = APS_WEEKDAYS[wd]
        return When(_daily(t, dow=name), f"weekly {name} {_hhmm(t)}"), rest(2)
    if head == "monthly":
        need(3)
        day = _day_of_month(tokens[1])
        t = parse_time_of_day(tokens[2])
        return When(_daily(t, day=str(day)), f"monthly {day} {_hhmm(t)}"), rest(3)
    zh_month = re.match(r"^每月(\d{1,2})[日号]$", tokens[0])
    if zh_month:
        need(2)
        day = _day_of_month(zh_month.group(1), shown=tokens[0])
        t = parse_time_of_day(tokens[1])
        return When(_daily(t, day=str(day)), f"monthly {day} {_hhmm(t)}"), rest(2)
    if head in ("once", "一次", "单次"):
        need(3)
        d = _parse_date(tokens[1], now.astimezone(tz).date(), year_optional=False)
        check_horizon(d, now.astimezone(tz).date(), "schedule.err_too_far", tokens[1])
        t = parse_time_of_day(tokens[2])
        at = localize(d, t, tz)
        if at <= now:
            raise TimeError("schedule.err_past", part=f"{tokens[1]} {tokens[2]}")
        return When(OnceSpec(at), f"once {d.isoformat()} {_hhmm(t)}"), rest(3)
    if _looks_like_cron(tokens[0]):
        need(5)
        spec = parse_cron(tokens[:5])
        canonical = "cron " + " ".join(tokens[:5])
        return When(spec, canonical), rest(5)
    raise TimeError("schedule.err_when", part=tokens[0])


def _day_of_month(token: str, shown: str | None = None) -> int:
    if not token.isdigit() or not 1 <= int(token) <= 31:
        raise TimeError("schedule.err_day", part=shown or token)
    return int(token)


# ----------------------------------------------------------------------------------------- cron

_CRON_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12), ("day_of_week", 0, 7))
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _looks_like_cron(token: str) -> bool:
    return bool(re.fullmatch(r"[\d*/,\-]+", token))


def _field_values(value: str, field: str, lo: int, hi: int, names: tuple[str, ...] = ()) -> set[int]:
    """Expand one cron field into the set of numbers it matches, checking ranges and steps."""

    def num(tok: str) -> int:
        low = tok.lower()
        if names and low in names:
            return names.index(low) + (1 if field == "month" else 0)
        if not tok.isdigit():
            raise TimeError("schedule.err_cron_field", field=field, part=value)
        n = int(tok)
        if not lo <= n <= hi:
            raise TimeError("schedule.err_cron_range", field=field, part=value, lo=lo, hi=hi)
        return n

    out: set[int] = set()
    for item in value.split(","):
        if not item:
            raise TimeError("schedule.err_cron_field", field=field, part=value)
        base, _, step_s = item.partition("/")
        step = 1
        if step_s:
            if not step_s.isdigit() or int(step_s) == 0:
                raise TimeError("schedule.err_cron_field", field=field, part=value)
            step = int(step_s)
        if base == "*":
            first, last = lo, hi
        elif "-" in base:
            a, _, b = base.partition("-")
            first, last = num(a), num(b)
            if first > last:
                raise TimeError("schedule.err_cron_field", field=field, part=value)
        else:
            first = num(base)
            last = hi if step_s else first
        out.update(range(first, last + 1, step))
    return out


def parse_cron(fields: list[str]) -> CronSpec:
    """Translate a 5-field cron expression (``m h dom mon dow``) into APScheduler fields.

    Cron's weekday numbers count Sunday as 0 (and 7); APScheduler counts Monday as 0. The weekday field
    is therefore expanded and rewritten as names. Cron also fires when *either* a restricted day of
    month or a restricted weekday matches, while APScheduler needs both: that combination is refused
    rather than silently changing its meaning.
    """
    if len(fields) != 5:
        raise TimeError("schedule.err_cron_count", part=" ".join(fields))
    out: dict[str, str] = {}
    for (name, lo, hi), value in zip(_CRON_FIELDS, fields, strict=True):
        names: tuple[str, ...] = ()
        if name == "month":
            names = _MONTHS
        elif name == "day_of_week":
            names = CRON_WEEKDAYS
        values = _field_values(value, name, lo, hi, names)
        if name == "day_of_week":
            if value == "*" or {v % 7 for v in values} == set(range(7)):
                out[name] = "*"
            else:
                days = sorted({v % 7 for v in values}, key=lambda v: (v + 6) % 7)  # Monday first
                out[name] = ",".join(CRON_WEEKDAYS[v] for v in days)
        else:
            out[name] = value if value == "*" else ",".join(str(v) for v in sorted(values))
    if out["day"] != "*" and out["day_of_week"] != "*":
        raise TimeError("schedule.err_cron_dom_dow", part=" ".join(fields))
    return CronSpec(
        minute=out["minute"],
        hour=out["hour"],
        day=out["day"],
        month=out["month"],
        day_of_week=out["day_of_week"],
    )


def trigger_for(spec: CronSpec | OnceSpec, tz: ZoneInfo) -> BaseTrigger:
    """The APScheduler trigger for a spec, computed in the group's timezone (DST-correct)."""
    if isinstance(spec, OnceSpec):
        return DateTrigger(run_date=spec.at, timezone=UTC)
    return CronTrigger(
        minute=spec.minute,
        hour=spec.hour,
        day=spec.day,
        month=spec.month,
        day_of_week=spec.day_of_week,
        second=0,
        timezone=tz,
    )


def next_fire(spec: CronSpec | OnceSpec, tz: ZoneInfo, after: datetime) -> datetime | None:
    """The first instant (UTC) strictly after ``after`` at which ``spec`` fires, or None."""
    if isinstance(spec, OnceSpec):
        return spec.at if spec.at > after else None
    trig = trigger_for(spec, tz)
    nxt = trig.get_next_fire_time(None, after + timedelta(seconds=1))
    return nxt.astimezone(UTC) if nxt else None


# ------------------------------------------------------------------------------------------ dates


def localize(d: date, t: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of local ``d t`` in ``tz``.

    A wall time skipped by a DST jump (02:30 on the spring-forward night in Berlin) moves forward by
    the jump; a repeated one (the autumn night) takes its first occurrence.
    """
    # fold=0 applies the offset in force before a transition: for a skipped time that lands after
    # the jump, for a repeated one on its first occurrence.
    return datetime.combine(d, t).replace(tzinfo=tz, fold=0).astimezone(UTC)


def shift_days(instant: datetime, days: int, tz: ZoneInfo) -> datetime:
    """The same local wall time ``days`` calendar days away (DST-correct), in UTC."""
    local = instant.astimezone(tz)
    return localize(local.date() + timedelta(days=days), local.time().replace(tzinfo=None), tz)


#: How far ahead a date may be planned. Nothing a group plans lies years away, and the arithmetic
#: after the parse (countdowns three days before, feedback after, quiet-hours deferral, a timezone
#: west of UTC) must never reach ``date.max``: 9999-12-31 once stored an activity whose reminders
#: could not be computed.
MAX_YEARS_AHEAD = 5


def check_horizon(d: date, today: date, key: str, part: str) -> None:
    """Refuse a date more than ``MAX_YEARS_AHEAD`` years after ``today`` (``key``: the message)."""
    if d.toordinal() - today.toordinal() > MAX_YEARS_AHEAD * 366:
        raise TimeError(key, part=part, years=MAX_YEARS_AHEAD)


def _parse_date(token: str, today: date, year_optional: bool = True) -> date:
    m = _DATE_RE.match(token) or _ZH_DATE_RE.match(token)
    if not m or (m.group(1) is None and not year_optional):
        raise TimeError("schedule.err_date", part=token)
    month, day = int(m.group(2)), int(m.group(3))
    year = int(m.group(1)) if m.group(1) else today.year
    try:
        d = date(year, month, day)
    except ValueError:
        raise TimeError("schedule.err_date", part=token) from None
    if m.group(1) is None and d < today:
        # A month-day that has passed this year means next year's.
        try:
            d = date(year + 1, month, day)
        except ValueError:  # 02-29
            raise TimeError("schedule.err_date", part=token) from None
    return d


# ---------------------------------------------------------------------------- START (/event add)

_REL_DAYS = {"today": 0, "今天": 0, "今日": 0, "tomorrow": 1, "明天": 1, "明日": 1, "后天": 2, "大后天": 3}
_DUR_RE = re.compile(
    r"(\d+)\s*(d|day|days|天|日|h|hr|hrs|hour|hours|小时|时|钟头|m|min|mins|minute|minutes|分钟|分)",
    re.IGNORECASE,
)
_DUR_SECONDS = {
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "天": 86400,
    "日": 86400,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "小时": 3600,
    "时": 3600,
    "钟头": 3600,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "分钟": 60,
    "分": 60,
}


def parse_duration(token: str, key: str = "events.err_duration") -> timedelta:
    """``2h``, ``90m``, ``1h30m``, ``1d``, ``2小时``, ``1小时30分``; one minute to 400 days."""
    text = token.strip().replace(" ", "")
    pos = 0
    total = 0
    for m in _DUR_RE.finditer(text):
        if m.start() != pos:
            raise TimeError(key, part=token)
        total += int(m.group(1)) * _DUR_SECONDS[m.group(2).lower()]
        pos = m.end()
    # Nothing we plan lies more than a year and a bit ahead; the cap also keeps huge numbers from
    # overflowing datetime arithmetic.
    if pos != len(text) or total <= 0 or total > 400 * 86400:
        raise TimeError(key, part=token)
    return timedelta(seconds=total)


def parse_start(text: str, tz: ZoneInfo, now: datetime) -> datetime:
    """Read an activity's START in the group's timezone into a UTC instant in the future.

    Forms: ``2026-12-01 20:00``, ``12-01 20:00``, ``明天 20:00``, ``后天 9:30``, ``周五 20:00``,
    ``tomorrow 20:00``, ``fri 20:00``, ``+2h``. A time already past is refused.
    """
    s = text.strip()
    if not s:
        raise TimeError("events.err_start", part=text)
    if s.startswith(("+", "＋")):
        return now + parse_duration(s[1:], key="events.err_start")
    tokens = s.split()
    m = re.match(r"^(今天|今日|明天|明日|大后天|后天|周.|星期.|礼拜.)(\d.*)$", tokens[0])
    if m and len(tokens) == 1:
        tokens = [m.group(1), m.group(2)]
    if len(tokens) == 1 and "T" in tokens[0]:
        tokens = tokens[0].split("T", 1)
    if len(tokens) != 2:
        raise TimeError("events.err_start", part=s)
    day_tok, time_tok = tokens
    try:
        t = parse_time_of_day(time_tok)
    except TimeError:
        raise TimeError("events.err_start_time", part=time_tok) from None
    local_today = now.astimezone(tz).date()
    low = day_tok.lower()
    if low in _REL_DAYS:
        at = localize(local_today + timedelta(days=_REL_DAYS[low]), t, tz)
    elif (wd := weekday_of(low)) is not None:
        ahead = (wd - local_today.weekday()) % 7
        at = localize(local_today + timedelta(days=ahead), t, tz)
        if at <= now:
            at = localize(local_today + timedelta(days=ahead + 7), t, tz)
    else:
        try:
            d = _parse_date(day_tok, local_today)
        except TimeError:
            raise TimeError("events.err_start_day", part=day_tok) from None
        check_horizon(d, local_today, "events.err_too_far", day_tok)
        at = localize(d, t, tz)
    if at <= now:
        raise TimeError("events.err_past", part=s)
    return at


def repeated_wall_time(fire: datetime, tz: ZoneInfo) -> bool:
    """True when ``fire`` is the second pass of a wall time repeated by a DST fall-back.

    APScheduler 3 fires a cron job at both 02:30 instants of the autumn night (we measured it on
    Europe/Berlin, 2026-10-25); cron runs it once, and so must we: a daily post is posted once a day.
    """
    local = fire.astimezone(tz)
    if local.fold != 1:
        return False
    first = local.replace(fold=0)
    return first.utcoffset() != local.utcoffset()
