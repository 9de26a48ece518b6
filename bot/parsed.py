"""A message parsed once: every reading of one inbound text that more than one band needs.

The dispatcher builds one ``ParsedMessage`` per message event and every handler reads it as
``ctx.parsed``: the command the text invokes, the matching view (folded), the NFKC case-folded
text, whether it starts with a command prefix. Each is computed on first use and kept, so a
message that passes the moderation screen, antispam, the activity points and the statistics is
split into a command once and folded once, however many features look at it; a feature's own
reading over these (antispam's links) goes through :meth:`ParsedMessage.view`, memoised the same
way. ``tests/test_parse_once.py`` counts the calls.

This module imports nothing of ours: the command table and the folding are handed in by the
dispatcher (the folding is the ``TextFolding`` port when a feature provides it).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import TypeVar, cast

T = TypeVar("T")

#: A folding function: the matching view of a text (never shown to anyone).
Fold = Callable[[str], str]


def plain_fold(text: str) -> str:
    """Folding when no feature provides one: NFKC, case-folded, letters and digits only."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if ch.isalnum())


class ParsedMessage:
    """One message's text and its shared readings, each computed at most once."""

    def __init__(
        self,
        text: str,
        *,
        read_command: Callable[[str], object],
        prefixes: Sequence[str],
        fold: Fold | None,
    ) -> None:
        #: The text as the adapter delivered it (lone surrogates already replaced).
        self.text = text
        self._read_command = read_command
        self._prefixes = tuple(prefixes)
        self._fold = fold or plain_fold
        self._views: dict[Callable[[ParsedMessage], object], object] = {}

    @cached_property
    def command(self) -> object:
        """What the text invokes: a ``bot.router.Invocation``, an ``Unknown`` prefixed word, or
        None for chat (typed ``object`` because the router sits above the context)."""
        return self._read_command(self.text)

    @cached_property
    def prefixed(self) -> bool:
        """True when the text starts with a command prefix, known command or not (``/typo`` is
        not conversation either)."""
        head = unicodedata.normalize("NFKC", self.text.lstrip()[:4])
        return any(head.startswith(p) for p in self._prefixes)

    @cached_property
    def folded(self) -> str:
        """The matching view: the ``TextFolding`` port's folding (moderation's evasion-resistant
        one) or :func:`plain_fold`. For matching only, never shown."""
        return self._fold(self.text)

    @cached_property
    def casefolded(self) -> str:
        """The text NFKC-normalised and case-folded, spaces and punctuation kept (links,
        invitations and contacts are searched in it)."""
        return unicodedata.normalize("NFKC", self.text).casefold()

    def view(self, reading: Callable[[ParsedMessage], T]) -> T:
        """A feature's own reading of the message (say, its links), computed once per message
        however many handlers ask: memoised by the function."""
        views = self._views
        if reading in views:
            return cast(T, views[reading])
        value = reading(self)
        views[reading] = value
        return value
