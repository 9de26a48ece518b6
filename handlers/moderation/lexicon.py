"""Lexicon files and the ``/kw import`` line format.

Files (the operator's global lexicon) are tab-separated: ``level<TAB>category<TAB>term[<TAB>mode]``,
``#`` starts a comment. ``/kw import`` takes one ``level term [category]`` per line, where a term
with spaces is quoted (``yellow "free money" scam``).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from handlers.moderation.matcher import Entry, Level, LexiconError, Mode, validate_term

STARTER_LEXICON = Path(__file__).with_name("data") / "starter_lexicon.tsv"

#: Categories the bot knows by name (translated in alerts); any other word is kept as given.
KNOWN_CATEGORIES = ("ads", "scam", "gambling", "porn", "abuse", "politics", "illegal", "flood", "custom")


def normalise_category(text: str | None) -> str:
    """A category as stored: lower-case, at most 32 characters, ``custom`` when empty."""
    cat = (text or "").strip().casefold()[:32]
    return cat or "custom"


def load_lexicon_file(path: str | Path) -> list[Entry]:
    """Read an operator's lexicon file; raises ``ValueError`` naming the bad line."""
    return [entry for _, entry in numbered_entries(path)]


def numbered_entries(path: str | Path) -> list[tuple[int, Entry]]:
    """The entries of a lexicon file with their line numbers (for the lint report)."""
    entries: list[tuple[int, Entry]] = []
    text = Path(path).read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) < 3:
            raise ValueError(f"{path}:{number}: expected level<TAB>category<TAB>term")
        try:
            level = Level.parse(cols[0])
            mode = Mode(cols[3].strip()) if len(cols) > 3 and cols[3].strip() else Mode.TEXT
            validate_term(cols[2], mode)
        except (ValueError, LexiconError) as exc:
            raise ValueError(f"{path}:{number}: {exc}") from None
        entries.append((number, Entry(cols[2].strip(), level, normalise_category(cols[1]), mode)))
    return entries


def load_lexicons(paths: Iterable[str | Path]) -> list[Entry]:
    """All entries of the configured files, in order."""
    out: list[Entry] = []
    for path in paths:
        out.extend(load_lexicon_file(path))
    return out


@dataclass(slots=True)
class ImportResult:
    """What ``/kw import`` found in a message."""

    entries: list[Entry] = field(default_factory=list)
    #: The line (1-based) each entry came from, for the lint report.
    lines: list[int] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    invalid: list[tuple[int, str]] = field(default_factory=list)


def parse_import(text: str, existing_keys: set[str]) -> ImportResult:
    """Parse ``level term [category]`` lines; ``existing_keys`` are folded keys already present."""
    result = ImportResult()
    seen = set(existing_keys)
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            parts = shlex.split(line)
        except ValueError:
            result.invalid.append((number, "quote"))
            continue
        if len(parts) < 2:
            result.invalid.append((number, "missing_term"))
            continue
        try:
            level = Level.parse(parts[0])
        except ValueError:
            result.invalid.append((number, "bad_level"))
            continue
        term = parts[1]
        try:
            key = validate_term(term)
        except LexiconError as exc:
            result.invalid.append((number, exc.code))
            continue
        if key in seen:
            result.duplicates.append(term)
            continue
        seen.add(key)
        category = normalise_category(parts[2] if len(parts) > 2 else None)
        result.entries.append(Entry(term, level, category, Mode.TEXT))
        result.lines.append(number)
    return result
