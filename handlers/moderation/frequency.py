"""Word frequencies: is a word common in everyday text?

Chinese from jieba's own dictionary (the counts it segments with, about 60 million tokens;
already loaded for the segmentation check), English from ``wordfreq`` (a maintained frequency
package built from subtitles, news, Wikipedia, books and web text; its English list is read
lazily, once). Used by the fold precision guard (a term whose folded form is a common word that
its own spelling is not) and the lexicon lint (terms too common to list).
"""

from __future__ import annotations

import threading
from functools import lru_cache

from handlers.moderation.folding import has_cjk
from handlers.moderation.segment import SEGMENTER, Segmenter

#: A Chinese word counted at least this often in jieba's ~60M-token dictionary is common
#: (about 3.3 per million words: 发票 271, 免费 1,810, 干 19,811).
COMMON_ZH = 200
#: An English word at or above this Zipf frequency (log10 per billion words) is common
#: (3.5 ≈ 3 per million: "resume" 4.1, "tit" 3.5, "qq" 2.7).
COMMON_EN_ZIPF = 3.5
#: A Chinese word this common is too common to be a lexicon term on its own (lint).
VERY_COMMON_ZH = 2_000
#: An English word at or above this Zipf frequency is too common to list (lint): "my", "is", "kill".
VERY_COMMON_EN_ZIPF = 5.0

_lock = threading.Lock()


@lru_cache(maxsize=65536)
def en_zipf(word: str) -> float:
    """Zipf frequency of an English word or phrase (0 for unknown)."""
    with _lock:  # wordfreq loads its list on first use; one loader at a time
        from wordfreq import zipf_frequency

        return float(zipf_frequency(word, "en"))


def zh_frequency(word: str, segmenter: Segmenter = SEGMENTER) -> int:
    """jieba's dictionary count of a Chinese word (0 for unknown)."""
    return segmenter.frequency(word)


def is_common(word: str, segmenter: Segmenter = SEGMENTER) -> bool:
    """True when ``word`` (folded) is a common word of its language."""
    if not word:
        return False
    if has_cjk(word):
        return zh_frequency(word, segmenter) >= COMMON_ZH
    return en_zipf(word) >= COMMON_EN_ZIPF


def is_very_common(word: str, segmenter: Segmenter = SEGMENTER) -> bool:
    """True when ``word`` (folded) is so common that listing it flags ordinary chat."""
    if not word:
        return False
    if has_cjk(word):
        return zh_frequency(word, segmenter) >= VERY_COMMON_ZH
    return en_zipf(word) >= VERY_COMMON_EN_ZIPF


#: Categories whose terms are offences in themselves, however common the word: profanity is
#: frequent in text because people swear ("fuck" has an English Zipf of 5.4), so frequency is
#: no sign of an innocent use. The everyday-word guard leaves them alone.
OFFENSIVE_CATEGORIES = frozenset({"abuse"})


def is_everyday_term(key: str, category: str, segmenter: Segmenter = SEGMENTER) -> bool:
    """True when a lexicon term (its folded ``key``) is an everyday word that, alone in a
    message, is weak evidence: so common that listing it flags ordinary chat (系统, 管理, 人民,
    "system"), outside the offensive categories. The matcher lowers such a hit one level unless
    another term matches in the same message (``moderation.everyday_guard``); lint reports it."""
    return category not in OFFENSIVE_CATEGORIES and is_very_common(key, segmenter)


def warm(segmenter: Segmenter = SEGMENTER) -> None:
    """Load jieba's dictionary and wordfreq's English list now (a worker thread at start-up), so
    the first message that needs a frequency does not wait for them."""
    segmenter.warm()
    en_zipf("the")


def fold_misleads(spelling: str, folded: str, segmenter: Segmenter = SEGMENTER) -> bool:
    """True when folding turned a rare spelling into a common word (幹 → 干, 發票 → 发票, ㈠ → 一).

    ``spelling`` is the term as written (:func:`~handlers.moderation.folding.narrow_fold`),
    ``folded`` its full fold. The folded word must be common and at least ten times as common as
    the spelling itself; a spelling that is as common (café/cafe) keeps the full fold.
    """
    if spelling == folded or not folded:
        return False
    if has_cjk(folded):
        broad = zh_frequency(folded, segmenter)
        return broad >= COMMON_ZH and zh_frequency(spelling, segmenter) * 10 < broad
    broad_zipf = en_zipf(folded)
    return broad_zipf >= COMMON_EN_ZIPF and en_zipf(spelling) + 1 < broad_zipf
