"""Structured logs: the group and update in hand on every line, and JSON lines when configured.

The dispatcher sets ``UPDATE_ID`` and ``GROUP_ID`` for the event it handles. Each event runs in its
own task, and a task starts with a copy of the context, so concurrent events never see each
other's ids. ``[logging] format = "json"`` swaps the formatter of the root handlers for
``python-json-logger``'s; the ids are added by a filter in both formats.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

UPDATE_ID: ContextVar[str | None] = ContextVar("qunyou_update_id", default=None)
GROUP_ID: ContextVar[int | None] = ContextVar("qunyou_group_id", default=None)


class EventIds(logging.Filter):
    """Puts ``update_id`` and ``group_id`` (None outside an event) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.update_id = UPDATE_ID.get()
        record.group_id = GROUP_ID.get()
        return True


def configure(fmt: str) -> None:
    """Apply ``[logging] format`` to the root logger's handlers (``text`` leaves them as they are)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, EventIds) for f in handler.filters):
            handler.addFilter(EventIds())
        if fmt == "json":
            handler.setFormatter(
                JsonFormatter(
                    "{asctime}{levelname}{name}{message}{update_id}{group_id}",
                    style="{",
                    rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                )
            )
