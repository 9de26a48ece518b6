"""Buttons that degrade, in one place, to numbered text options plus the equivalent command.

Where an adapter has no ``BUTTONS`` capability, the options are appended as numbered lines, and
a member who replies to that message with the number presses the button as if it were there.
"""

from __future__ import annotations

from collections import OrderedDict

from bot.adapter import Adapter, Capability
from bot.i18n import I18n
from bot.messages import Button, OutgoingMessage, Text


class ButtonFallback:
    """Renders buttons as text where needed and remembers what each number means."""

    def __init__(self, i18n: I18n, capacity: int = 10_000) -> None:
        self._i18n = i18n
        self._capacity = capacity
        self._options: OrderedDict[tuple[str, str, str], list[Button]] = OrderedDict()

    def needs_fallback(self, adapter: Adapter, message: OutgoingMessage) -> bool:
        """True when ``message`` has buttons the adapter cannot show."""
        return bool(message.buttons) and not adapter.supports(Capability.BUTTONS)

    def render(self, message: OutgoingMessage, lang: str) -> OutgoingMessage:
        """The message with its buttons turned into numbered lines."""
        assert message.buttons
        lines = [self._i18n.t(lang, "core.buttons.intro")]
        for number, button in enumerate(self.flat(message), start=1):
            if button.command:
                lines.append(
                    self._i18n.t(
                        lang, "core.buttons.option_cmd", n=number, text=button.text, command=button.command
                    )
                )
            else:
                lines.append(self._i18n.t(lang, "core.buttons.option", n=number, text=button.text))
        return OutgoingMessage(
            parts=(*message.parts, Text("\n" + "\n".join(lines))),
            reply_to=message.reply_to,
            buttons=None,
            image=message.image,
            silent=message.silent,
            notify=message.notify,
        )

    @staticmethod
    def flat(message: OutgoingMessage) -> list[Button]:
        """The buttons in reading order."""
        return [b for row in message.buttons or () for b in row]

    def remember(self, adapter: str, channel_id: str, message_id: str, message: OutgoingMessage) -> None:
        """Record the options of a sent message so a numbered reply can press them."""
        self._options[(adapter, channel_id, message_id)] = self.flat(message)
        if len(self._options) > self._capacity:
            self._options.popitem(last=False)

    def lookup(self, adapter: str, channel_id: str, message_id: str, text: str) -> Button | None:
        """The button a numbered reply means, if any."""
        options = self._options.get((adapter, channel_id, message_id))
        token = text.strip()
        # ASCII digits only: ``str.isdigit`` also accepts "²", which ``int`` then refuses.
        if not options or not (token.isascii() and token.isdigit()):
            return None
        index = int(token) - 1
        return options[index] if 0 <= index < len(options) else None
