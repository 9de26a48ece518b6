"""Inline keyboards for Telegram, whose callback data is limited to 64 bytes: longer button data
travels as a short alias and is looked up again when the button is pressed."""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.messages import Button

#: Telegram's limit on a button's callback data, in bytes.
CALLBACK_DATA_LIMIT = 64
#: Aliases remembered (the oldest are forgotten first; a press on one answers as a stale button).
ALIASES_KEPT = 10_000


class Keyboards:
    """Builds keyboards and remembers the aliases of long button data."""

    def __init__(self) -> None:
        self._long_data: OrderedDict[str, str] = OrderedDict()

    def markup(self, rows: tuple[tuple[Button, ...], ...] | None) -> InlineKeyboardMarkup | None:
        """The inline keyboard for ``rows`` (None when there are no buttons)."""
        if not rows:
            return None
        return InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(b.text, callback_data=self.callback_data(b.data)) for b in row]
                for row in rows
            ]
        )

    def callback_data(self, data: str) -> str:
        """``data`` itself when it fits, else a short alias for it."""
        if len(data.encode("utf-8")) <= CALLBACK_DATA_LIMIT:
            return data
        alias = "~" + hashlib.sha256(data.encode("utf-8")).hexdigest()[:24]
        self._long_data[alias] = data
        self._long_data.move_to_end(alias)
        while len(self._long_data) > ALIASES_KEPT:
            self._long_data.popitem(last=False)
        return alias

    def pressed(self, data: str) -> str:
        """The button data a press carries: an alias resolved, anything else as it came."""
        return self._long_data.get(data, data)
