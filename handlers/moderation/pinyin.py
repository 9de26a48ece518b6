"""The opt-in pinyin view: Chinese terms of 3+ characters also match when written in pinyin.

"jia wei xin", "jiaweixin", "加wei信" and the homophone "家微信" all read ``jiaweixin`` once every
Chinese character of the folded message is replaced by its toneless pinyin syllable, which is
how the term 加微信 reads too. The research note (``../shared/research/moderation.md``, section
1.2) measured pypinyin's ``lazy_pinyin`` at ~480 µs per message against ~4 µs for a per-character
table applied with ``str.translate``, so pypinyin is only used once, lazily, to build that table
(first reading of each character, tone marks stripped); it is never called per message.

The view adds false positives, which is why it is a group setting (``moderation.pinyin``, off by
default) and only covers terms of three or more Chinese characters. A pinyin hit must cover
whole syllables (the ``xian`` of 先 never matches half of ``xi an``), and a Latin run in the
message must start and end on word boundaries of the original text ("ninjaweixin" is not
"jia wei xin").
"""

from __future__ import annotations

import itertools
import threading
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import accumulate

import ahocorasick_rs

from handlers.moderation.folding import fold_char_cached, fold_with_offsets, is_cjk

#: Terms shorter than this (in Chinese characters) never match through pinyin.
PINYIN_MIN_CHARS = 3

_table: dict[int, str] | None = None
_table_lock = threading.RLock()


def _strip_tone(reading: str) -> str:
    """``zhōng`` → ``zhong``; ``lǜ`` → ``lu`` (the same as the folding does to a typed ``ü``)."""
    decomposed = unicodedata.normalize("NFD", reading)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn").casefold()


#: Readings with ü, which people type as v, u or ü (女 nǚ: nv, nu, nü → nu after folding).
_UMLAUT = frozenset("üǖǘǚǜ")

#: At most this many pinyin spellings are indexed per term (all readings of polyphonic
#: characters; past the cap, every single-character change from the first reading).
MAX_SPELLINGS = 32

_readings: dict[int, tuple[str, ...]] | None = None


def _spellings_of(reading: str) -> list[str]:
    plain = _strip_tone(reading)
    if not (plain.isascii() and plain.isalpha()):
        return []
    if _UMLAUT & set(reading):
        return [plain, plain.replace("u", "v")] if "u" in plain else [plain]
    return [plain]


def readings_table() -> dict[int, tuple[str, ...]]:
    """Code point → every toneless reading of a Chinese character (ü also as v), first first."""
    global _readings
    if _readings is None:
        with _table_lock:
            if _readings is None:
                from pypinyin.pinyin_dict import pinyin_dict

                made: dict[int, tuple[str, ...]] = {}
                for cp, readings in pinyin_dict.items():
                    if not is_cjk(chr(cp)):
                        continue
                    spelled: list[str] = []
                    for reading in readings.split(","):
                        spelled.extend(_spellings_of(reading.strip()))
                    if spelled:
                        made[cp] = tuple(dict.fromkeys(spelled))
                _readings = made
    return _readings


def _build_table() -> dict[int, str]:
    # Imported here: only a group with pinyin matching on pays pypinyin's import (~0.2 s, ~58 MB).
    table: dict[int, str] = {cp: spelled[0] for cp, spelled in readings_table().items()}
    # Latin letters and digits map to themselves, so ``str.translate`` finds them in the dict
    # instead of raising and catching ``LookupError`` for every one.
    for ch in "abcdefghijklmnopqrstuvwxyz0123456789":
        table[ord(ch)] = ch
    return table


def syllable_table() -> dict[int, str]:
    """Code point → toneless pinyin of every Chinese character pypinyin knows (built once)."""
    global _table
    if _table is None:
        with _table_lock:
            if _table is None:
                _table = _build_table()
    return _table


class _Lengths(dict[int, str]):
    """Code point → one character whose ordinal is the length of its piece in the view.

    A character the syllable table lacks stays itself in the view (length 1).
    """

    def __missing__(self, cp: int) -> str:
        return "\x01"


_lengths: _Lengths | None = None


def _length_table() -> _Lengths:
    global _lengths
    if _lengths is None:
        made = _Lengths()
        made.update({cp: chr(len(s)) for cp, s in syllable_table().items()})
        _lengths = made
    return _lengths


def pinyin_view(folded: str, table: dict[int, str] | None = None) -> str:
    """The folded text with every Chinese character spelled as its toneless pinyin syllable."""
    return folded.translate(table if table is not None else syllable_table())


def term_pinyin(key: str, table: dict[int, str] | None = None) -> str | None:
    """The pinyin of a folded term of 3+ Chinese characters, or None when it does not qualify."""
    if len(key) < PINYIN_MIN_CHARS or not all(is_cjk(c) for c in key):
        return None
    table = table if table is not None else syllable_table()
    pieces = [table.get(ord(c)) for c in key]
    if any(p is None for p in pieces):
        return None
    return "".join(p for p in pieces if p)


def term_spellings(key: str, limit: int = MAX_SPELLINGS) -> list[str]:
    """Every pinyin spelling of a qualifying term (polyphonic characters in all their readings,
    ü as u and v), the first-reading spelling first; [] when the term does not qualify."""
    first = term_pinyin(key)
    if first is None:
        return []
    table = readings_table()
    options = [table.get(ord(c), ()) for c in key]
    total = 1
    for opts in options:
        total *= max(1, len(opts))
    if total <= limit:
        return list(dict.fromkeys("".join(p) for p in itertools.product(*options)))
    base = [opts[0] for opts in options]
    out = [first]
    for i, opts in enumerate(options):
        for alt in opts[1:]:
            out.append("".join([*base[:i], alt, *base[i + 1 :]]))
    return list(dict.fromkeys(out))[:limit]


@dataclass(frozen=True, slots=True)
class PinyinHit:
    """A pinyin match mapped back: ``folded_start``/``folded_end`` index the folded text,
    ``start``/``end`` the original one."""

    pid: int
    folded_start: int
    folded_end: int
    start: int
    end: int


class PinyinIndex:
    """An Aho-Corasick automaton over the pinyin of a lexicon's qualifying terms. Immutable."""

    __slots__ = ("_ac", "_lengths", "_table", "owners", "patterns")

    def __init__(self, keys: Iterable[tuple[str, tuple[int, int]]]) -> None:
        """``keys`` are (folded term, owner) pairs; the owner comes back with each hit."""
        self._table = syllable_table()
        self._lengths = _length_table()
        patterns: list[str] = []
        owners: list[list[tuple[int, int]]] = []
        seen: dict[str, int] = {}
        for key, owner in keys:
            for spelled in term_spellings(key):
                pid = seen.get(spelled)
                if pid is None:
                    seen[spelled] = len(patterns)
                    patterns.append(spelled)
                    owners.append([owner])
                elif owner not in owners[pid]:
                    owners[pid].append(owner)
        self.patterns: tuple[str, ...] = tuple(patterns)
        self.owners: tuple[tuple[tuple[int, int], ...], ...] = tuple(tuple(o) for o in owners)
        self._ac = ahocorasick_rs.AhoCorasick(patterns) if patterns else None

    def __len__(self) -> int:
        return len(self.patterns)

    def find(self, text: str, folded: str) -> list[PinyinHit]:
        """Pinyin hits in ``text`` (whose fold is ``folded``) that cover whole syllables and words."""
        if self._ac is None or not folded:
            return []
        table = self._table
        view = folded.translate(table)
        raw = self._ac.find_matches_as_indexes(view, overlapping=True)
        if not raw:
            return []
        # Only now, with a candidate: where each folded character's syllable ends in the view
        # (computed at C speed from a table of syllable lengths), so a view position maps back
        # to a folded character by bisection and a syllable boundary is a set lookup.
        ends = list(accumulate(folded.translate(self._lengths).encode("latin-1")))
        boundaries = set(ends)
        boundaries.add(0)
        idx: list[int] | None = None
        out: list[PinyinHit] = []
        for pid, a, b in raw:
            if a not in boundaries or b not in boundaries:
                continue  # half a syllable
            fa, fb = bisect_right(ends, a), bisect_left(ends, b) + 1
            if idx is None:
                _, idx = fold_with_offsets(text, folded)
            start, end = idx[fa], idx[fb - 1] + 1
            if not is_cjk(folded[fa]) and start > 0 and _latin(text[start - 1]):
                continue  # "ninjaweixin": the Latin run starts before the hit
            if not is_cjk(folded[fb - 1]) and end < len(text) and _latin(text[end]):
                continue
            out.append(PinyinHit(pid, fa, fb, start, end))
        return out


def _latin(ch: str) -> bool:
    folded = fold_char_cached(ch)
    return bool(folded) and not is_cjk(folded[0])
