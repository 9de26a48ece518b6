"""Validators of candidate hits, shared by the matcher's views (word boundaries, glued words,
segmentation edges). Pure functions of the original text and the fold."""

from __future__ import annotations

import itertools

from handlers.moderation.folding import fold, fold_char_cached, is_cjk, is_separator


def word_breaks(term: str) -> frozenset[int]:
    """Offsets in the folded term where the term itself has a word break ("free money" → {4})."""
    if term.isalnum():
        return frozenset()
    breaks: set[int] = set()
    pos = 0
    word = ""
    for ch in term:
        if is_separator(ch):
            if word:
                pos += len(fold(word))
                breaks.add(pos)
                word = ""
        else:
            word += ch
    return frozenset(b for b in breaks if 0 < b < len(fold(term)))


def open_edge(text: str, i: int) -> bool:
    """True when position ``i`` next to a hit cannot continue a Chinese word: the text's edge,
    a separator (space, punctuation, emoji) or a non-Han character.

    A Chinese hit with such edges on both sides needs no segmentation check; this skips the
    costliest validator for most real hits ("……，赌博，……").
    """
    if i < 0 or i >= len(text):
        return True
    folded = fold_char_cached(text[i])
    return not folded or not is_cjk(folded[0])


def all_cjk(key: str) -> bool:
    return all(is_cjk(c) for c in key)


def latin_wordish(ch: str) -> bool:
    """True when ``ch`` continues a Latin word (a letter or digit that is not a Han ideograph)."""
    folded = fold_char_cached(ch)
    return bool(folded) and not is_cjk(folded[0])


def glued(text: str, start: int, end: int, word_breaks: frozenset[int]) -> bool:
    """True when the span is separate words that the term does not have.

    "I'm an al" folds to "imanal" and contains "anal", but "an" and "al" are real words, so it is
    not a hit; nor is a lone letter glued to its neighbour ("t it" is not "tit"). "f u c k"
    (single letters only) and "FREE  MONEY" (the term's own words) still are.
    """
    pieces: list[int] = []
    current = 0
    for ch in text[start:end]:
        folded = fold_char_cached(ch)
        if folded:
            current += len(folded)
        elif current:
            pieces.append(current)
            current = 0
    if current:
        pieces.append(current)
    if len(pieces) < 2:
        return False
    pos = 0
    for left, right in itertools.pairwise(pieces):
        pos += left
        # Only single letters may be spaced out ("f u c k"); a lone letter next to a longer
        # word is two words ("t it", "but t", "K. I ll"), as are two longer ones ("an al").
        if (left >= 2 or right >= 2) and pos not in word_breaks:
            return True
    return False
