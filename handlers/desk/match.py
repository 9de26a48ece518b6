"""FAQ matching: which entry answers a message, and why. Pure: no I/O, no clock.

Four modes, tried in this order, the first that matches wins:

* ``exact``: the whole message, folded, equals a trigger folded;
* ``keyword``: a folded trigger occurs in the folded message (the longest such trigger wins);
* ``regex``: a pattern matches the original text, under a time limit (``regex``'s timeout);
* ``question``: for a message that looks like a question, BM25 over jieba tokens between the
  message and the entries' example questions (``bm25s``), normalised to a percentage and
  compared with the group's threshold.

Folding is the moderation feature's when it is installed (``TextFolding``: full-width,
traditional and spaced variants match), a plain one otherwise; the caller passes it in.

Why the percentage: a raw BM25 score grows with the rarity and number of shared words, so no
fixed threshold fits every group. The example's own score (the message equal to the example)
is the most it can get; the share of the message's words the example covers (by IDF weight)
keeps a long message that merely mentions a word from matching. The strength is the geometric
mean of both, 0–100.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import ahocorasick_rs
import regex

log = logging.getLogger(__name__)

Fold = Callable[[str], str]

MODES = ("keyword", "exact", "regex", "question")
#: The regex time limit per message and pattern (moderation's own limit).
REGEX_TIMEOUT = 0.02
#: Longest trigger and answer a moderator may store.
TRIGGER_MAX = 200
ANSWER_MAX = 2000

#: Question words and particles: they say "this is a question", not what it is about.
STOP_WORDS = frozenset(
    """
    怎么 怎样 怎么样 如何 为什么 为啥 什么 啥 哪 哪里 哪儿 在哪 在哪里 哪个 哪些 多少 几
    吗 呢 啊 吧 呀 哦 嘛 么 咋 咋办 怎么办 怎么弄 怎么回事 弄 办 多久 几点 后
    请问 问下 问一下 想问 一下 能 能不能 可以 可不可以 是否 是不是 有没有 要 需要 应该
    我 你 他 她 我们 你们 大家
    的 了 是 在 有 和 与 就 都 也 还 又 这 那 这个 那个 去 来 得 地 着 过 个 到 给 对 把 被 让 用 会
    how what why when where who which whom whose do does did is are was were be can could
    should would will i you we they it me my your our the a an to of in on at for with and or
    please there any some this that these those get
    """.split()
)

_QUESTION = re.compile(
    r"[?？]|怎么|怎样|如何|为什么|为啥|什么|哪里|哪儿|在哪|多少|多久|几点|咋|请问|能不能|可不可以|是否|有没有"
    r"|吗\s*$|呢\s*$"
    r"|\b(how|what|why|when|where|who|which|can i|is there|are there|does|do i)\b",
    re.IGNORECASE,
)
_CHUNK = re.compile(r"\w+")
#: Patterns that cannot join the union prefilter: backreferences and named groups change meaning
#: when patterns are concatenated; inline flags may not stand in the middle of a pattern.
_UNION_UNSAFE = re.compile(r"\\\d|\\g<|\(\?P?[=<]|\(\?[a-zA-Z]")


def looks_like_question(text: str) -> bool:
    """True for a message that asks something (？/?, 怎么/如何, how/why …)."""
    return _QUESTION.search(text) is not None


def plain_fold(text: str) -> str:
    """Folding without the moderation feature: NFKC, case-folded, letters and digits only."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if ch.isalnum())


class _Jieba:
    """jieba's default tokenizer, loaded once per process on first use (about a second)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cut: Callable[..., list[str]] | None = None

    def cut(self, text: str) -> list[str]:
        if self._cut is None:
            with self._lock:
                if self._cut is None:
                    import jieba

                    logging.getLogger("jieba").setLevel(logging.WARNING)
                    jieba.setLogLevel(logging.WARNING)
                    jieba.initialize()
                    self._cut = jieba.lcut
        # No HMM: new-word discovery costs half the time and the examples are short and plain.
        return self._cut(text, HMM=False)


_jieba = _Jieba()


def tokens(text: str, fold: Fold) -> list[str]:
    """The words of a text for matching: each run of letters folded (so traditional, full-width
    and case variants meet), cut by jieba, question words left out."""
    out: list[str] = []
    for chunk in _CHUNK.findall(text):
        folded = fold(chunk)
        if not folded:
            continue
        for word in _jieba.cut(folded):
            if word and word not in STOP_WORDS and not word.isspace():
                out.append(_stem(word))
    return out


def _stem(word: str) -> str:
    """English plurals meet their singular (``rules`` → ``rule``); anything else as it is."""
    if len(word) > 3 and word.isascii() and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def check_regex(pattern: str) -> str | None:
    """Why a regex trigger is refused (``bad_regex``, ``regex_empty``, ``regex_slow``), or None."""
    try:
        compiled = regex.compile(pattern, regex.IGNORECASE)
    except (regex.error, OverflowError, RecursionError, ValueError):
        return "bad_regex"
    if compiled.search("") is not None:
        return "regex_empty"  # it would answer every message
    for probe in ("a" * 5000 + "!", "啊" * 3000 + "?", "ab" * 2500):
        try:
            compiled.search(probe, timeout=REGEX_TIMEOUT * 5)
        except TimeoutError:
            return "regex_slow"
    return None


@dataclass(frozen=True, slots=True)
class Entry:
    """What matching needs of an FAQ entry."""

    id: int
    mode: str
    triggers: tuple[str, ...]
    lang: str | None = None


@dataclass(frozen=True, slots=True)
class Match:
    """Which entry answers, by which trigger, how strongly (percent; 100 for non-question modes)."""

    entry_id: int
    mode: str
    trigger: str
    score: int


class QuestionIndex:
    """BM25 (``bm25s``) over the example questions of ``question`` entries."""

    def __init__(self, examples: Sequence[tuple[int, str, list[str]]]) -> None:
        #: (entry id, example as typed, its tokens), examples without a word left out
        self.examples = [e for e in examples if e[2]]
        self.retriever: Any = None
        self.self_scores: list[float] = []
        count = len(self.examples)
        df: dict[str, int] = {}
        for _, _, words in self.examples:
            for word in set(words):
                df[word] = df.get(word, 0) + 1
        self.idf = {w: math.log(1 + (count - n + 0.5) / (n + 0.5)) for w, n in df.items()}
        #: the weight of a word no example has: that of a word only one example has (weighing it
        #: as rarer still would let one extra word sink a question in a small FAQ)
        self.unknown_idf = math.log(1 + (count - 0.5) / 1.5)
        if not self.examples:
            return
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build
        self.retriever = bm25s.BM25()
        self.retriever.index([words for _, _, words in self.examples], show_progress=False)
        self.self_scores = [
            float(self.retriever.get_scores(words)[i]) for i, (_, _, words) in enumerate(self.examples)
        ]

    def best(self, words: list[str], allowed: Callable[[int], bool]) -> tuple[int, str, int] | None:
        """The closest example among allowed entries: (entry id, example, strength 0–100)."""
        if self.retriever is None or not words:
            return None
        raw = self.retriever.get_scores(words)
        unique = set(words)
        query_weight = sum(self.idf.get(w, self.unknown_idf) for w in unique)
        best: tuple[int, str, int] | None = None
        top = min(8, len(raw))
        order = sorted(raw.argpartition(-top)[-top:], key=lambda i: -raw[i])
        for index in order:  # the strength re-ranks BM25's best few
            score = float(raw[index])
            if score <= 0:
                break
            entry_id, example, doc_words = self.examples[int(index)]
            if not allowed(entry_id):
                continue
            covers_example = (
                min(1.0, score / self.self_scores[int(index)]) if self.self_scores[int(index)] else 0
            )
            shared = unique & set(doc_words)
            covers_message = sum(self.idf[w] for w in shared) / query_weight if query_weight else 0.0
            strength = round(100 * math.sqrt(covers_example * covers_message))
            if best is None or strength > best[2]:
                best = (entry_id, example, strength)
        return best


class FaqIndex:
    """Every entry of one group, compiled for matching one message at a time."""

    def __init__(self, entries: Iterable[Entry], fold: Fold) -> None:
        self.fold = fold
        self.langs: dict[int, str | None] = {}
        self.exact: dict[str, tuple[int, str]] = {}
        self.keywords: list[tuple[str, int, str]] = []
        self.patterns: list[tuple[Any, int, str]] = []
        examples: list[tuple[int, str, list[str]]] = []
        for entry in entries:
            self.langs[entry.id] = entry.lang
            for trigger in entry.triggers:
                if entry.mode == "exact":
                    key = fold(trigger)
                    if key:
                        self.exact.setdefault(key, (entry.id, trigger))
                elif entry.mode == "keyword":
                    key = fold(trigger)
                    if key:
                        self.keywords.append((key, entry.id, trigger))
                elif entry.mode == "regex":
                    try:
                        self.patterns.append((regex.compile(trigger, regex.IGNORECASE), entry.id, trigger))
                    except (regex.error, OverflowError, RecursionError, ValueError):
                        log.warning("FAQ entry %s: stored regex no longer compiles", entry.id)
                elif entry.mode == "question":
                    examples.append((entry.id, trigger, tokens(trigger, fold)))
        # The longest keyword is the most specific: tried first. One Aho-Corasick scan of the
        # folded message finds every keyword in it, however many entries there are.
        self.keywords.sort(key=lambda k: (-len(k[0]), k[1]))
        self._keyword_scan = (
            ahocorasick_rs.AhoCorasick([k[0] for k in self.keywords]) if self.keywords else None
        )
        self._union = self._regex_union()
        self.questions = QuestionIndex(examples)
        self.regex_timeouts = 0

    def _regex_union(self) -> Any:
        """One pattern that matches when any regex entry may: a message that none matches (most
        messages) costs one timed search instead of one per pattern. None when a pattern cannot
        join (then each is tried alone)."""
        if len(self.patterns) < 2 or any(_UNION_UNSAFE.search(t) for _, _, t in self.patterns):
            return None
        try:
            return regex.compile("|".join(f"(?:{t})" for _, _, t in self.patterns), regex.IGNORECASE)
        except (regex.error, OverflowError, RecursionError, ValueError):
            return None

    def _regex_candidates(self, text: str) -> list[tuple[Any, int, str]]:
        """The regex entries worth trying on ``text`` (none when the union finds nothing)."""
        if self._union is None:
            return self.patterns
        try:
            if self._union.search(text, timeout=REGEX_TIMEOUT) is None:
                return []
        except TimeoutError:
            self.regex_timeouts += 1
        return self.patterns

    @property
    def size(self) -> int:
        """How many entries are compiled."""
        return len(self.langs)

    def match(self, text: str, *, threshold: int, lang: str | None = None) -> Match | None:
        """The entry that answers ``text`` (in language ``lang``), or None."""
        found, _ = self.explain(text, threshold=threshold, lang=lang)
        return found

    def explain(
        self, text: str, *, threshold: int, lang: str | None = None
    ) -> tuple[Match | None, Match | None]:
        """The answering entry, and the closest question entry below the threshold (for ``/faq
        test``: why nothing answered)."""

        def allowed(entry_id: int) -> bool:
            wanted = self.langs.get(entry_id)
            return wanted is None or lang is None or wanted == lang

        folded = self.fold(text)
        if folded:
            hit = self.exact.get(folded)
            if hit is not None and allowed(hit[0]):
                return Match(hit[0], "exact", hit[1], 100), None
            if self._keyword_scan is not None:
                hits = sorted(
                    i for i, _, _ in self._keyword_scan.find_matches_as_indexes(folded, overlapping=True)
                )
                for i in hits:
                    _, entry_id, trigger = self.keywords[i]
                    if allowed(entry_id):
                        return Match(entry_id, "keyword", trigger, 100), None
        for pattern, entry_id, trigger in self._regex_candidates(text):
            if not allowed(entry_id):
                continue
            try:
                if pattern.search(text, timeout=REGEX_TIMEOUT) is not None:
                    return Match(entry_id, "regex", trigger, 100), None
            except TimeoutError:
                self.regex_timeouts += 1
        if self.questions.retriever is None or not looks_like_question(text):
            return None, None
        best = self.questions.best(tokens(text, self.fold), allowed)
        if best is None:
            return None, None
        found = Match(best[0], "question", best[1], best[2])
        return (found, None) if best[2] >= threshold else (None, found)
