"""Chinese word segmentation used to verify short candidate hits (jieba, private instance).

A short Chinese term inside a longer word is the classic false positive: 色情 in 颜色情况, 白粉 in
白粉笔. The matcher asks this module whether a candidate hit starts and ends on word boundaries in
a small window around it. The lexicon's own terms are registered as words, so a real hit is cut
out as one token.

A private ``jieba.Tokenizer`` keeps our extra words out of the global ``jieba.dt`` that other
features (hot topics) use. It is created on first use because loading the dictionary costs
about 0.6–1 s and 80 MB: start-up does not wait for it (issue 21, console ready in ≤ 1 s). Words
handed over before then are remembered and added when the dictionary loads. Under a real clock
the feature's startup hook warms it in a worker thread after start; under a virtual clock
(console, tests) the first message that needs it pays.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jieba

log = logging.getLogger(__name__)

#: Characters of context taken on each side of a hit; the research note found ±8 flags exactly the
#: same messages as segmenting the whole message, at a fraction of the cost.
WINDOW = 8


class Segmenter:
    """A lazily initialised jieba tokenizer with reference-counted extra words."""

    def __init__(self) -> None:
        self._tokenizer: jieba.Tokenizer | None = None
        self._lock = threading.Lock()
        self._owners: dict[str, frozenset[str]] = {}
        self._refs: Counter[str] = Counter()
        #: The frequency a word had in jieba's own dictionary before we raised it (0 if absent).
        self._original: dict[str, int] = {}

    def _ensure(self) -> jieba.Tokenizer:
        tok = self._tokenizer
        if tok is not None:
            return tok
        with self._lock:
            if self._tokenizer is None:
                import jieba  # here, not at the top: ~0.1–0.3 s of imports no start-up needs

                # jieba logs the dictionary load at DEBUG on its own stderr handler.
                jieba.setLogLevel(logging.WARNING)
                tok = jieba.Tokenizer()
                tok.initialize()
                for word in self._refs:  # words handed over before the dictionary was loaded
                    self._add(tok, word)
                self._tokenizer = tok
            return self._tokenizer

    @property
    def loaded(self) -> bool:
        """Whether jieba's dictionary is loaded yet."""
        return self._tokenizer is not None

    def warm(self) -> None:
        """Load the dictionary now (call from a worker thread at startup)."""
        self._ensure()

    def set_words(self, owner: str, words: Iterable[str]) -> None:
        """Make ``words`` the extra dictionary words contributed by ``owner`` (a lexicon scope).

        Only the difference with the previous set is applied, so an edit costs per changed term,
        not per lexicon.
        """
        new = frozenset(w for w in words if w)
        with self._lock:
            tok = self._tokenizer  # None: only counted now, added when the dictionary loads
            old = self._owners.get(owner, frozenset())
            for word in new - old:
                self._refs[word] += 1
                if self._refs[word] == 1 and tok is not None:
                    self._add(tok, word)
            for word in old - new:
                self._refs[word] -= 1
                if self._refs[word] <= 0:
                    del self._refs[word]
                    if tok is not None:
                        self._restore(tok, word)
            self._owners[owner] = new

    def _add(self, tok: jieba.Tokenizer, word: str) -> None:
        self._original[word] = int(tok.FREQ.get(word, 0) or 0)
        tok.add_word(word)

    def _restore(self, tok: jieba.Tokenizer, word: str) -> None:
        before = self._original.pop(word, 0)
        current = int(tok.FREQ.get(word, 0) or 0)
        # jieba's own del_word also forces an HMM split in the *global* finalseg module, which
        # would leak into other features' segmentation; putting the old frequency back does not.
        tok.FREQ[word] = before
        tok.total += before - current

    def frequency(self, word: str) -> int:
        """How often jieba's own dictionary counts ``word`` (0 when absent), ignoring the
        frequencies our added lexicon words were given. Loads the dictionary."""
        tok = self._ensure()
        with self._lock:
            if word in self._original:
                return self._original[word]
            return int(tok.FREQ.get(word, 0) or 0)

    @property
    def total(self) -> int:
        """Sum of the dictionary's word frequencies (the denominator of :meth:`frequency`)."""
        return int(self._ensure().total)

    def boundaries(self, text: str) -> set[int]:
        """Offsets in ``text`` where a token starts or ends (always includes 0 and ``len(text)``).

        This is jieba's dictionary-only segmentation (``cut(HMM=False)``) without its regex
        pre-split and generator: the folded text has no spaces or punctuation left to split on,
        and for the Chinese hits we check, the best DAG route gives the same cuts.
        """
        tok = self._ensure()
        n = len(text)
        if not n:
            return {0}
        # jieba's get_DAG + calc in one right-to-left pass without the DAG dict, the generator
        # and max() over tuples: the same scores in the same order (ties go to the longer word,
        # as max() over (score, end) does), at under half the cost. This is the hot part of
        # screening Chinese text with a big lexicon (issue 16's throughput goal).
        freq = tok.FREQ
        ln = math.log
        logtotal = ln(tok.total)
        score = [0.0] * (n + 1)
        nxt = [0] * (n + 1)
        for k in range(n - 1, -1, -1):
            frag = text[k]
            best = 0.0
            end = -1
            i = k
            while frag in freq:
                f = freq[frag]
                if f:
                    s = ln(f) - logtotal + score[i + 1]
                    if end < 0 or s >= best:
                        best = s
                        end = i
                i += 1
                if i >= n:
                    break
                frag = text[k : i + 1]
            if end < 0:
                best = ln(freq.get(text[k]) or 1) - logtotal + score[k + 1]
                end = k
            score[k] = best
            nxt[k] = end
        cuts = {0}
        x = 0
        while x < n:
            x = nxt[x] + 1
            cuts.add(x)
        return cuts

    def crossed(self, text: str, p: int, lo: int, hi: int) -> bool:
        """True when a dictionary word inside ``text[lo:hi]`` starts before ``p`` and ends after it.

        When none does, every segmentation of the window cuts at ``p``, so the best one does
        too: :class:`WindowCache` answers most boundary checks this way, with a few dictionary
        lookups instead of segmenting the window. (jieba's prefix dictionary holds every prefix
        of every word, with count 0 for a bare prefix, so a walk stops as soon as none goes on.)
        """
        if p <= lo or p >= hi:
            return False
        freq = self._ensure().FREQ
        for k in range(p - 1, lo - 1, -1):
            j = p + 1
            frag = text[k:j]
            while frag in freq:
                if freq[frag]:
                    return True
                j += 1
                if j > hi:
                    break
                frag = text[k:j]
        return False

    def boundaries_jieba(self, text: str) -> set[int]:
        """:meth:`boundaries` through jieba's own ``get_DAG``/``calc`` (the reference the tests
        compare the fast path with)."""
        tok = self._ensure()
        if not text:
            return {0}
        dag = tok.get_DAG(text)
        route: dict[int, tuple[float, int]] = {}
        tok.calc(text, dag, route)
        cuts = {0}
        x = 0
        n = len(text)
        while x < n:
            x = route[x][1] + 1
            cuts.add(x)
        return cuts

    def on_boundaries(self, text: str, start: int, end: int) -> bool:
        """True when ``text[start:end]`` begins and ends on token boundaries of its window."""
        lo = max(0, start - WINDOW)
        hi = min(len(text), end + WINDOW)
        cuts = self.boundaries(text[lo:hi])
        return (start - lo) in cuts and (end - lo) in cuts


#: The process-wide segmenter the matchers share (one dictionary load per process).
SEGMENTER = Segmenter()


class WindowCache:
    """Segments each merged ±WINDOW neighbourhood of a message's candidates at most once."""

    __slots__ = ("_cuts", "_intervals", "_segmenter", "_spans", "_text")

    def __init__(self, segmenter: Segmenter, text: str, spans: Iterable[tuple[int, int]]) -> None:
        self._segmenter = segmenter
        self._text = text
        self._spans = spans
        self._intervals: list[list[int]] | None = None  # merged on the first check
        self._cuts: dict[int, set[int]] = {}

    def _merged(self) -> list[list[int]]:
        n = len(self._text)
        merged: list[list[int]] = []
        for a, b in sorted((max(0, a - WINDOW), min(n, b + WINDOW)) for a, b in self._spans):
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        self._intervals = merged
        return merged

    def on_boundaries(self, start: int, end: int) -> bool:
        """True when ``text[start:end]`` begins and ends on token boundaries."""
        intervals = self._intervals if self._intervals is not None else self._merged()
        for i, (lo, hi) in enumerate(intervals):
            if lo <= start and end <= hi:
                seg = self._segmenter
                if not seg.crossed(self._text, start, lo, hi) and not seg.crossed(self._text, end, lo, hi):
                    return True  # every segmentation of the window cuts there
                cuts = self._cuts.get(i)
                if cuts is None:
                    cuts = self._segmenter.boundaries(self._text[lo:hi])
                    self._cuts[i] = cuts
                return (start - lo) in cuts and (end - lo) in cuts
        return self._segmenter.on_boundaries(self._text, start, end)
