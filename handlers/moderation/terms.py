"""The lexicon's values: levels, modes, entries, and what matching reports (hits, candidates).

Kept apart from the matcher (:mod:`handlers.moderation.matcher`, which re-exports them) so the
values read on their own and the matcher module holds only matching.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum


class Level(IntEnum):
    """Severity of a lexicon entry; higher is worse."""

    BLUE = 1
    YELLOW = 2
    RED = 3

    @classmethod
    def parse(cls, text: str) -> Level:
        """Read ``red``/``yellow``/``blue`` (or 红/黄/蓝); raises ``ValueError`` when unknown."""
        key = text.strip().casefold()
        aliases = {"红": "red", "黄": "yellow", "蓝": "blue", "严重": "red", "警告": "yellow", "关注": "blue"}
        key = aliases.get(key, key)
        try:
            return cls[key.upper()]
        except KeyError:
            raise ValueError(f"unknown level {text!r}") from None

    @property
    def label(self) -> str:
        """The lower-case name used in storage, config and commands."""
        return self.name.lower()

    def lowered(self) -> Level:
        """One level weaker (blue stays blue)."""
        return _LOWER[self]


_LOWER = {Level.RED: Level.YELLOW, Level.YELLOW: Level.BLUE, Level.BLUE: Level.BLUE}


class Mode(StrEnum):
    """How an entry is matched."""

    TEXT = "text"
    EXACT = "exact"
    REGEX = "regex"


class LexiconError(ValueError):
    """A lexicon entry that cannot be used; ``code`` names the reason (an i18n key suffix)."""

    def __init__(self, code: str, detail: str = "") -> None:
        self.code = code
        self.detail = detail
        super().__init__(f"{code}: {detail}" if detail else code)


@dataclass(frozen=True, slots=True)
class Entry:
    """One lexicon entry as the matcher sees it."""

    term: str
    level: Level
    category: str = "custom"
    mode: Mode = Mode.TEXT
    entry_id: int | None = None
    #: ``"global"`` for the operator's files, else the group the entry belongs to.
    scope: str = "global"


@dataclass(frozen=True, slots=True)
class Hit:
    """A validated hit. ``start``/``end`` index the original text; never show that span publicly."""

    entry: Entry
    level: Level
    start: int
    end: int
    folded_start: int
    folded_end: int
    downgraded: bool = False
    #: Found through the pinyin view (``moderation.pinyin``), not by the term's own characters.
    pinyin: bool = False
    #: The term is an everyday word (:func:`~handlers.moderation.frequency.is_everyday_term`);
    #: alone in a message its hit counts one level lower (``moderation.everyday_guard``).
    everyday: bool = False


@dataclass(frozen=True, slots=True)
class Candidate:
    """A raw automaton match and what validation decided (``rejected`` is None when it counts)."""

    entry: Entry
    folded_start: int
    folded_end: int
    rejected: str | None
    #: Which view matched: ``text`` (the folded text) or ``pinyin``.
    view: str = "text"
    #: Kept, but one level lower (a homophone made of everyday words).
    lowered: bool = False
    #: Kept, but one level lower: the term is an everyday word and nothing else matched.
    everyday: bool = False


@dataclass(slots=True)
class Report:
    """Everything ``/kw test`` shows: folded text, candidates, validated hits."""

    folded: str
    candidates: list[Candidate] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    regex_timeouts: int = 0

    @property
    def level(self) -> Level | None:
        """The most severe validated level, or None."""
        return max((h.level for h in self.hits), default=None)
