"""Text from outside made encodable, once, at the edge.

A Python ``str`` may hold a lone surrogate (U+D800…U+DFFF): JSON's ``"\\ud800"`` escape decodes
to one, and so do platform payloads parsed with ``surrogateescape`` or sent by a buggy client.
No UTF-8 encoder accepts it, so one such character in a message text, a user id or an event id
made the database driver, the log stream or the console's output fail far from where it came
in. Every adapter passes what it received through ``clean`` / ``clean_event`` before the core
sees it; the core then only ever holds text it can write anywhere.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, TypeVar

#: Every surrogate code point. In a ``str`` a valid pair is already one code point (JSON and
#: every decoder combine them), so any surrogate left is a lone one.
_SURROGATE = re.compile("[\ud800-\udfff]")

REPLACEMENT = "\ufffd"

E = TypeVar("E")


def clean(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (the same object when there is none)."""
    if _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub(REPLACEMENT, text)


def clean_opt(text: str | None) -> str | None:
    """``clean`` for an optional field."""
    return None if text is None else clean(text)


def clean_value(value: Any) -> Any:
    """Strings cleaned inside ``value``: dataclasses (events, refs, segments), tuples, lists,
    dicts; anything else is returned as it is. Unchanged parts are returned as they were, so a
    clean event costs a walk and no copies."""
    if isinstance(value, str):
        return clean(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in dataclasses.fields(value):
            old = getattr(value, f.name)
            new = clean_value(old)
            if new is not old:
                changes[f.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    if isinstance(value, tuple | list):
        items = [clean_value(v) for v in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return type(value)(items)
    if isinstance(value, dict):
        cleaned = {clean_value(k): clean_value(v) for k, v in value.items()}
        if all(k in value and value[k] is v for k, v in cleaned.items()) and len(cleaned) == len(value):
            return value
        return cleaned
    return value


def clean_event(event: E) -> E:
    """An inbound event with every string field made encodable (see the module docstring)."""
    cleaned: E = clean_value(event)
    return cleaned
