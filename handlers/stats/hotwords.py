"""Hot words (热词): jieba TF-IDF keywords over a window of message text.

jieba's dictionary and IDF table take about a second and tens of megabytes to load, so they are
loaded lazily, once per process, into a private ``jieba.Tokenizer`` (other features may
configure the global one differently). Extraction is CPU work: callers run it in a thread,
never on the per-message path.

Scoring differs from ``jieba.analyse.extract_tags`` on purpose. A hot word is what *many people*
talk about, so a word's term frequency sums, over members, the square root of the number of
that member's messages containing it (at most ``PER_MEMBER_CAP``), and is then multiplied by its
IDF. Five members saying a word once outweigh one member saying it fifty times.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any

PER_MEMBER_CAP = 5
_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_MENTION = re.compile(r"@\S+")
_COMMAND = re.compile(r"^[/!！]\S*")
# A keyword must carry at least one letter or CJK character: no numbers, no punctuation runs.
_WORDLIKE = re.compile(r"[A-Za-z\u3400-\u9fff\uf900-\ufaff]")


def _load_stop_words() -> frozenset[str]:
    text = resources.files(__package__).joinpath("stopwords.txt").read_text(encoding="utf-8")
    words = {line.strip().lower() for line in text.splitlines()}
    return frozenset(w for w in words if w and not w.startswith("#"))


@dataclass(frozen=True, slots=True)
class HotWord:
    """A keyword with its score and how many messages and members used it (uncapped counts)."""

    word: str
    score: float
    messages: int
    members: int


class KeywordEngine:
    """A lazily loaded private jieba tokenizer with the IDF table and our stop words."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokenizer: Any = None
        self._idf: dict[str, float] = {}
        self._median_idf = 0.0
        self.stop_words = _load_stop_words()

    def _ensure(self) -> None:
        if self._tokenizer is not None:
            return
        with self._lock:
            if self._tokenizer is not None:
                return
            import jieba
            import jieba.analyse

            # jieba logs its dictionary build at DEBUG on its own handler; keep our logs clean.
            logging.getLogger("jieba").setLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            tfidf = jieba.analyse.TFIDF()
            self._idf, self._median_idf = tfidf.idf_freq, tfidf.median_idf
            self._tokenizer = tokenizer

    @property
    def loaded(self) -> bool:
        """True once jieba has been loaded."""
        return self._tokenizer is not None

    def words(self, text: str) -> set[str]:
        """The distinct candidate keywords of one message."""
        self._ensure()
        text = _URL.sub(" ", text)
        text = _MENTION.sub(" ", text)
        text = _COMMAND.sub(" ", text.strip())
        out: set[str] = set()
        for token in self._tokenizer.cut(text):
            word = token.strip().lower()
            if len(word) < 2 or word in self.stop_words or not _WORDLIKE.search(word):
                continue
            out.add(word)
        return out

    def idf(self, word: str) -> float:
        """The IDF of ``word``, the median for words jieba has never seen."""
        self._ensure()
        return self._idf.get(word, self._median_idf)

    def hot_words(
        self,
        messages: Iterable[tuple[int, str]],
        *,
        top: int = 10,
        exclude: Callable[[str], bool] | None = None,
    ) -> list[HotWord]:
        """The ``top`` keywords of (member id, text) pairs, best first.

        ``exclude`` removes words that must never be shown in public (blocked words).
        """
        per_member: dict[tuple[str, int], int] = Counter()
        counts: Counter[str] = Counter()
        members: dict[str, set[int]] = defaultdict(set)
        for member_id, text in messages:
            for word in self.words(text):
                per_member[(word, member_id)] += 1
                counts[word] += 1
                members[word].add(member_id)
        tf: dict[str, float] = defaultdict(float)
        for (word, _member), n in per_member.items():
            tf[word] += math.sqrt(min(n, PER_MEMBER_CAP))
        scored = []
        for word, n in counts.items():
            if exclude is not None and exclude(word):
                continue
            scored.append(HotWord(word, tf[word] * self.idf(word), n, len(members[word])))
        scored.sort(key=lambda h: (-h.score, -h.members, h.word))
        return scored[:top]

    def group(
        self,
        items: Iterable[tuple[int, str]],
        *,
        top: int = 8,
        exclude: Callable[[str], bool] | None = None,
    ) -> list[tuple[str | None, list[int]]]:
        """Group (item id, text) pairs under the corpus's own hot words.

        Each item goes under the best-ranked hot word it contains; the rest go under None, last.
        Groups keep the hot words' order; item ids keep their input order.
        """
        pairs = list(items)
        keywords = [h.word for h in self.hot_words(pairs, top=top, exclude=exclude)]
        groups: dict[str | None, list[int]] = {k: [] for k in keywords}
        groups[None] = []
        for item_id, text in pairs:
            words = self.words(text)
            home = next((k for k in keywords if k in words), None)
            groups[home].append(item_id)
        return [(k, ids) for k, ids in groups.items() if ids]


_ENGINE: KeywordEngine | None = None


def engine() -> KeywordEngine:
    """The process-wide engine (jieba itself is loaded on first use, not here)."""
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = KeywordEngine()
    return _ENGINE
