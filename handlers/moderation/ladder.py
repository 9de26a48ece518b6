"""The escalation ladder's rungs as a value: read from settings, no I/O (the settings model needs it)."""

from __future__ import annotations

from typing import Any

MAX_LATER = 5
MAX_MINUTES = 1440
LATER_ALLOWED = f"up to {MAX_LATER} increasing minute counts from 1 to {MAX_MINUTES}, e.g. 60,240 (off: none)"
_NONE = ("", "off", "none", "关", "无")


def parse_later_minutes(value: Any) -> str:
    """Read ``60,240`` (or a TOML list, or ``off``) into its canonical text; ``ValueError`` otherwise."""
    if isinstance(value, list | tuple):
        items = [str(v).strip() for v in value]
    else:
        text = str(value).strip()
        items = [] if text.lower() in _NONE else text.replace("，", ",").split(",")
    minutes: list[int] = []
    for item in items:
        item = item.strip()
        if not (item.isascii() and item.isdigit()):
            raise ValueError(LATER_ALLOWED)
        number = int(item)
        if not 1 <= number <= MAX_MINUTES or (minutes and number <= minutes[-1]):
            raise ValueError(LATER_ALLOWED)
        minutes.append(number)
    if len(minutes) > MAX_LATER:
        raise ValueError(LATER_ALLOWED)
    return ",".join(str(m) for m in minutes)


def ladder(first: int, later: str) -> list[int]:
    """Minutes after the hit of every re-alert; later rungs not after the first are dropped."""
    return [first] + [m for m in (int(x) for x in later.split(",") if x) if m > first]
