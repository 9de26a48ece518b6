"""Sentiment of one chat message, zh or en, from packaged models that need no network.

* Chinese: SnowNLP's naive-Bayes sentiment model (trained on shopping reviews, shipped in the
  package), fed **jieba's words** instead of SnowNLP's own segmenter. SnowNLP's ``.sentiments``
  segments with its character-based model at about 550 messages a second on the development
  machine; jieba (which the desk already loads for FAQ questions) cuts the same text about 35×
  faster, and on the hand-written set in ``bench/data/desk_mood_labelled.toml`` the accuracy is
  the same or better (85 % vs 83 %; ``python -m bot bench desk`` measures both).
* English: VADER's compound score (``vaderSentiment``, a rated lexicon with rules for negation,
  intensifiers, "but" and exclamation marks).

Both are mapped to one scale, -1 (most negative) … +1: SnowNLP's probability ``p`` of "positive"
becomes ``2p - 1``; VADER's compound is divided by ``EN_STRETCH`` (0.6) and clipped. SnowNLP's
naive Bayes is sure of itself (most messages land near ±1) while one plain "terrible" gives
VADER -0.48: without the stretch the same cut (``NEGATIVE``, -0.5) would call a message
negative far more readily in Chinese than in English. On the labelled set, compound ≤ -0.3
(-0.5 stretched) flags 32 of the 50 negative English lines and no positive one.

Loading SnowNLP takes seconds (its package import loads every model it has), so the model loads
once per process, lazily and under a lock, and callers score in a thread
(``asyncio.to_thread``), never on the event loop.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence
from typing import Any

#: At or below this a message counts as negative in the mood figures.
NEGATIVE = -0.5
#: VADER's compound score is divided by this (and clipped to ±1) to meet SnowNLP's scale.
EN_STRETCH = 0.6

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def language_of(text: str) -> str | None:
    """``zh`` when the Chinese characters are at least as many as the Latin words, ``en`` when
    there are Latin letters, None for text with no words (emoji, numbers, stickers' alt text)."""
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    if cjk and cjk * 4 >= latin:
        # A Latin word is about four letters: compare characters with words, so "这个app太卡了"
        # is Chinese and "I love 中国 food" is English.
        return "zh"
    if latin:
        return "en"
    return None


class SentimentModel:
    """SnowNLP (zh, over jieba words) and VADER (en), loaded on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._zh: Callable[[str], float] | None = None
        self._en: Callable[[str], float] | None = None

    def _load(self) -> None:
        with self._lock:
            if self._zh is not None:
                return
            import jieba
            from snownlp import normal, sentiment
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            logging.getLogger("jieba").setLevel(logging.WARNING)
            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            bayes: Any = sentiment.classifier.classifier
            cut = jieba.lcut
            drop = normal.filter_stop

            def zh(text: str) -> float:
                label, prob = bayes.classify(drop(cut(text)))
                return float(prob if label == "pos" else 1.0 - prob) * 2.0 - 1.0

            analyzer = SentimentIntensityAnalyzer()

            def en(text: str) -> float:
                compound = float(analyzer.polarity_scores(text)["compound"])
                return max(-1.0, min(1.0, compound / EN_STRETCH))

            self._en = en
            self._zh = zh

    @property
    def loaded(self) -> bool:
        """True once the models are in memory."""
        return self._zh is not None

    def score(self, text: str) -> float | None:
        """The message's score on -1 … +1, or None when it has no words to judge."""
        lang = language_of(text)
        if lang is None:
            return None
        if self._zh is None:
            self._load()
        scorer = self._zh if lang == "zh" else self._en
        assert scorer is not None
        return round(scorer(text), 4)

    def score_many(self, texts: Sequence[str]) -> list[float | None]:
        """``score`` of each text (one call for a whole flush, run in a thread)."""
        return [self.score(text) for text in texts]

    def snownlp_original(self, text: str) -> float:
        """SnowNLP's own ``.sentiments`` on the same scale (its segmenter; for the benchmark)."""
        from snownlp import SnowNLP

        return float(SnowNLP(text).sentiments) * 2.0 - 1.0


#: One model per process: it is read-only once loaded, and loading costs seconds.
MODEL = SentimentModel()


#: Parts of speech (jieba's tags) that name a topic: nouns, verbal nouns, English words.
_TOPIC_TAGS = frozenset({"n", "nz", "vn", "nt", "nw", "eng"})
_EN_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")  # contractions (can't, it's) are dropped below
#: English words that are never a topic (VADER's lexicon, the feeling words, is left out too).
_EN_STOP = frozenset(
    """about after again all also and any are because been before being but can cannot could did does
    doing don't down even every for from get got had has have having her here him his how into its
    just know like more most much never nobody not now off once only other our out over own same she
    should some still such than that the their them then there these they this those through too
    under until very was were what when where which while who why will with would you your yours
    one two three times time day days week anyone everyone anything something nothing again
    keeps keep make makes made really already always new old""".split()
)


def negative_topics(
    texts: Sequence[str], top: int, exclude: Callable[[str], bool] | None = None
) -> list[str]:
    """The words most negative messages talk about: nouns (jieba's part-of-speech tags) in
    Chinese, words that carry no feeling in English, counted once per message, at least in two
    messages, most frequent first. ``exclude`` hides words that must not be shown (blocked)."""
    if not texts or top <= 0:
        return []
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    feeling = SentimentIntensityAnalyzer().lexicon
    counts: dict[str, int] = {}
    for text in texts:
        seen: set[str] = set()
        if language_of(text) == "zh":
            for pair in jieba.posseg.lcut(text):
                word, tag = pair.word.strip().lower(), pair.flag
                if tag in _TOPIC_TAGS and len(word) >= 2 and word not in feeling and word not in _EN_STOP:
                    seen.add(word)
        else:
            for match in _EN_WORD.finditer(text):
                word = match.group().lower().strip("'-")
                if "'" not in word and len(word) >= 3 and word not in _EN_STOP and word not in feeling:
                    seen.add(word)
        for word in seen:
            counts[word] = counts.get(word, 0) + 1
    ranked = sorted((w for w, n in counts.items() if n >= 2), key=lambda w: (-counts[w], w))
    if exclude is not None:
        ranked = [w for w in ranked if not exclude(w)]
    return ranked[:top]
