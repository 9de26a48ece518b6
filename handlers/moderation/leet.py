"""The leetspeak and repeated-letter view (group setting ``moderation.leetspeak``, issue 16).

``k1ll``, ``$hit``, ``wh0re``, ``fuuuuck`` and ``vooomit`` read as the term once digits and symbols
that stand for letters are read as those letters (4/@ → a, 3 → e, 1/! → i, 0 → o, 5/$ → s,
7/+ → t) and runs of one letter are collapsed. Only Latin terms of the ``abuse`` category take
part (the category English profanity filters apply this to): a digit in an advert or a price is
never read as a letter of a scam term.

A hit must be precise:

* every run of a letter in the text is at least as long as in the term, so ``as`` never reads
  as ``ass`` and ``shot`` never as ``shoot``;
* it needs a leet character or a longer run (otherwise the ordinary view already judged it);
* it starts and ends on a word boundary of the original text, and is not a lone letter glued to
  a neighbouring word (the same rules as the ordinary view).

The view is a Python loop over the message, so it only runs when the group has the setting on
and a leet character touches a Latin letter, or a letter is written three times in a row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby

import ahocorasick_rs

from handlers.moderation.folding import fold_char_cached, is_cjk

#: What each leet character stands for.
LEET: dict[str, str] = {
    "4": "a", "@": "a", "3": "e", "1": "i", "!": "i", "0": "o", "5": "s", "$": "s", "7": "t", "+": "t",
}  # fmt: skip

#: A message worth the leet view: a leet character touching a Latin letter (not a price, a
#: phone number or a Chinese line's "!"), or a letter three times in a row.
_TRIGGER = re.compile(r"[A-Za-z][4@3105$7+]|[4@3105$7+][A-Za-z]|[A-Za-z]![A-Za-z]|([A-Za-z])\1\1")

#: Categories whose Latin terms take part.
LEET_CATEGORIES = frozenset({"abuse"})


def _collapse(letters: str) -> tuple[str, tuple[int, ...]]:
    """``"fuuck"`` → ``("fuck", (1, 2, 1, 1))``: the letters with runs collapsed, and run lengths."""
    runs = [(ch, len(list(group))) for ch, group in groupby(letters)]
    return "".join(ch for ch, _ in runs), tuple(n for _, n in runs)


def leet_key(key: str) -> tuple[str, tuple[int, ...]] | None:
    """The collapsed pattern of a folded Latin term, or None when it does not take part."""
    # Lists carry leet spellings themselves (h0mo): read them like the text.
    letters = "".join(LEET.get(c, c) for c in key)
    if len(letters) < 3 or not letters.isascii() or not letters.isalpha():
        return None
    return _collapse(letters)


@dataclass(frozen=True, slots=True)
class LeetHit:
    """A leet-view hit: ``pid`` of the pattern, ``start``/``end`` in the original text."""

    pid: int
    start: int
    end: int


def _view(text: str) -> tuple[str, list[int], list[int], list[int]]:
    """The collapsed view; for each view character the index of the first and of the last
    source character of its run; and each run's length."""
    out: list[str] = []
    idx: list[int] = []
    last: list[int] = []
    runs: list[int] = []
    joined = False  # whether the next letter may extend the previous run (no separator between)
    for i, ch in enumerate(text):
        piece = LEET.get(ch) or fold_char_cached(ch)
        if not piece:
            if ch.isspace():
                joined = False  # "bimbo ok": a word's last letter never runs into the next word
            continue
        for c in piece:
            if joined and c == out[-1] and c.isalpha():
                runs[-1] += 1
                last[-1] = i
                continue
            out.append(c)
            idx.append(i)
            last.append(i)
            runs.append(1)
            joined = True
    return "".join(out), idx, last, runs


def _wordish(ch: str) -> bool:
    if ch in LEET:
        return True
    folded = fold_char_cached(ch)
    return bool(folded) and not is_cjk(folded[0])


class LeetIndex:
    """An Aho-Corasick automaton over the collapsed forms of the qualifying terms. Immutable."""

    __slots__ = ("_ac", "owners", "patterns", "runs", "words")

    def __init__(self, keys: Iterable[tuple[str, tuple[int, int], int]]) -> None:
        """``keys`` are (folded term, owner, number of words in the term) triples; the owner
        comes back with each hit."""
        patterns: list[str] = []
        words: list[int] = []
        runs: list[tuple[int, ...]] = []
        owners: list[list[tuple[int, int]]] = []
        seen: dict[tuple[str, tuple[int, ...]], int] = {}
        for key, owner, count in keys:
            made = leet_key(key)
            if made is None:
                continue
            pid = seen.get(made)
            if pid is None:
                seen[made] = len(patterns)
                patterns.append(made[0])
                runs.append(made[1])
                words.append(count)
                owners.append([owner])
            else:
                owners[pid].append(owner)
        self.patterns = tuple(patterns)
        self.runs = tuple(runs)
        self.words = tuple(words)
        self.owners = tuple(tuple(o) for o in owners)
        self._ac = ahocorasick_rs.AhoCorasick(patterns) if patterns else None

    def __len__(self) -> int:
        return len(self.patterns)

    def find(self, text: str) -> list[LeetHit]:
        """Validated hits of the view in ``text``."""
        if self._ac is None or _TRIGGER.search(text) is None:
            return []
        view, idx, last, runs = _view(text)
        out: list[LeetHit] = []
        for pid, a, b in self._ac.find_matches_as_indexes(view, overlapping=True):
            # Patterns are distinct collapsed strings, so a match may still be a different
            # term of the same letters: compare runs (the text may only repeat more).
            if any(have < need for have, need in zip(runs[a:b], self.runs[pid], strict=True)):
                continue
            start, end = idx[a], last[b - 1] + 1
            span = text[start:end]
            plain = runs[a:b] == list(self.runs[pid]) and not any(c in LEET for c in span)
            if plain:
                continue  # the ordinary view judges it
            if start > 0 and _wordish(text[start - 1]):
                continue
            if end < len(text) and _wordish(text[end]):
                continue
            if _glued(span, self.words[pid]):
                continue
            out.append(LeetHit(pid, start, end))
        return out


def _glued(span: str, term_words: int) -> bool:
    """True when the span is several words that are not the term's own ("a 55 hole"): only a
    spelled-out run of single characters or exactly the term's number of words may match."""
    pieces = [len(p) for p in re.split(r"\s+", span.strip()) if p]
    return len(pieces) > 1 and max(pieces) > 1 and len(pieces) != term_words
