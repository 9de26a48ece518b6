"""The keyword matcher: Aho-Corasick over folded text, then validation of every candidate hit.

Pipeline per message (see ``../shared/research/moderation.md`` for the measurements behind it):

1. fold the text once (:mod:`handlers.moderation.folding`);
2. exact entries: one dict lookup of the whole folded message;
3. ``ahocorasick_rs`` over the folded text, every layer (global lexicon, group lexicon), all
   overlapping matches so nested terms all report;
4. only when there is a candidate: rebuild positions in the original text and validate —
   allow-list spans cancel a hit; Latin terms must sit on word boundaries of the original text
   and must not be made of separate words glued together by the folding ("I'm an al" is not
   "anal"); Chinese terms of up to four characters must start and end on jieba word boundaries
   in a small window; a hit whose original span crosses sentence punctuation drops one level;
5. regex entries run on the original text with a time limit (the ``regex`` module's timeout), so
   a catastrophic pattern costs at most that limit and never hangs the bot.

A :class:`Matcher` is immutable. A lexicon edit builds a new one (in a worker thread) and the
caller swaps the reference, so a message is never matched against a half-built lexicon.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

import ahocorasick_rs
import regex

from handlers.moderation.folding import (
    FOLD_VERSION,
    fold,
    fold_char_cached,
    fold_with_offsets,
    has_cjk,
    is_cjk,
    is_separator,
)
from handlers.moderation.pinyin import PinyinIndex
from handlers.moderation.segment import SEGMENTER, Segmenter, WindowCache

log = logging.getLogger(__name__)

#: Vendors cap keyword length at 50–60 characters; it bounds trie depth and abuse.
MAX_TERM_LENGTH = 60
#: Chinese terms this short are checked against word segmentation.
SEGMENT_CHECK_MAX = 4
#: Punctuation between clauses; a hit spanning it is weaker evidence (赌。博, "sure, bet").
SENTENCE_BREAKS = frozenset("。！？!?;；\n\r…，,、")
#: Default time a regex entry may run on one message.
DEFAULT_REGEX_TIMEOUT = 0.02
#: The pathological probe a new regex must survive within the time limit.
_REGEX_PROBE = ("a" * 3000 + "!", "哈" * 2000 + "！", "ab " * 1500 + "x")


class Level(IntEnum):
    """Severity of a lexicon entry; higher is worse."""

    BLUE = 1
    YELLOW = 2
    RED = 3

    @classmethod
    def parse(cls, text: str) -> Level:
        """Read ``red``/``yellow``/``blue`` (or 红/黄/蓝); raises ``ValueError`` when unknown."""
        key = text.strip().casefold()
        aliases = {"红": "red", "黄": "yellow", "蓝": "blue", "严重": "red", "警告": "yellow", "关注": "blue"}
        key = aliases.get(key, key)
        try:
            return cls[key.upper()]
        except KeyError:
            raise ValueError(f"unknown level {text!r}") from None

    @property
    def label(self) -> str:
        """The lower-case name used in storage, config and commands."""
        return self.name.lower()

    def lowered(self) -> Level:
        """One level weaker (blue stays blue)."""
        return Level(max(self.value - 1, Level.BLUE.value))


class Mode(StrEnum):
    """How an entry is matched."""

    TEXT = "text"
    EXACT = "exact"
    REGEX = "regex"


class LexiconError(ValueError):
    """A lexicon entry that cannot be used; ``code`` names the reason (an i18n key suffix)."""

    def __init__(self, code: str, detail: str = "") -> None:
        self.code = code
        self.detail = detail
        super().__init__(f"{code}: {detail}" if detail else code)


@dataclass(frozen=True, slots=True)
class Entry:
    """One lexicon entry as the matcher sees it."""

    term: str
    level: Level
    category: str = "custom"
    mode: Mode = Mode.TEXT
    entry_id: int | None = None
    #: ``"global"`` for the operator's files, else the group the entry belongs to.
    scope: str = "global"


@dataclass(frozen=True, slots=True)
class Hit:
    """A validated hit. ``start``/``end`` index the original text; never show that span publicly."""

    entry: Entry
    level: Level
    start: int
    end: int
    folded_start: int
    folded_end: int
    downgraded: bool = False
    #: Found through the pinyin view (``moderation.pinyin``), not by the term's own characters.
    pinyin: bool = False


@dataclass(frozen=True, slots=True)
class Candidate:
    """A raw automaton match and what validation decided (``rejected`` is None when it counts)."""

    entry: Entry
    folded_start: int
    folded_end: int
    rejected: str | None


@dataclass(slots=True)
class Report:
    """Everything ``/kw test`` shows: folded text, candidates, validated hits."""

    folded: str
    candidates: list[Candidate] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    regex_timeouts: int = 0

    @property
    def level(self) -> Level | None:
        """The most severe validated level, or None."""
        return max((h.level for h in self.hits), default=None)


def validate_term(term: str, mode: Mode = Mode.TEXT, timeout: float = DEFAULT_REGEX_TIMEOUT) -> str:
    """Check a term before it enters a lexicon; returns its folded key (the pattern for regex).

    Raises :class:`LexiconError` with the reason: ``empty``, ``too_long``, ``folds_to_nothing``,
    ``bad_regex`` or ``regex_timeout``.
    """
    term = term.strip()
    if not term:
        raise LexiconError("empty")
    if len(term) > MAX_TERM_LENGTH * (4 if mode is Mode.REGEX else 1):
        raise LexiconError("too_long")
    if mode is Mode.REGEX:
        try:
            pattern = regex.compile(term, regex.IGNORECASE)
        except (regex.error, OverflowError, RecursionError) as exc:
            raise LexiconError("bad_regex", str(exc)) from None
        if pattern.search("") is not None:
            # A pattern that matches the empty string matches every message.
            raise LexiconError("bad_regex", "matches empty text")
        for probe in _REGEX_PROBE:
            try:
                pattern.search(probe, timeout=timeout * 5)
            except TimeoutError:
                raise LexiconError("regex_timeout") from None
        return term
    key = fold(term)
    if not key:
        raise LexiconError("folds_to_nothing")
    return key


def _word_breaks(term: str) -> frozenset[int]:
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


@dataclass(frozen=True, slots=True)
class _KeyMeta:
    entry: Entry
    latin_start: bool
    latin_end: bool
    glued_check: bool
    segment_check: bool
    word_breaks: frozenset[int]


class Layer:
    """One compiled lexicon (the global files, or one group's entries). Immutable once built.

    Only what the scan needs is computed at build time (folded keys, the automaton); the
    per-key validation metadata is derived on the first candidate hit of that key and memoised,
    which keeps a 50k-term rebuild within its one-second budget.
    """

    __slots__ = ("_ac", "_best", "_extra_terms", "_metas", "entries", "exact", "keys", "regexes", "size")

    def __init__(self, entries: Iterable[Entry]) -> None:
        best: dict[str, Entry] = {}
        extra_terms: dict[str, list[str]] = {}
        exact: dict[str, Entry] = {}
        regexes: list[tuple[regex.Pattern[str], Entry]] = []
        kept: list[Entry] = []
        for entry in entries:
            if entry.mode is Mode.REGEX:
                try:
                    regexes.append((regex.compile(entry.term, regex.IGNORECASE), entry))
                except regex.error:
                    log.warning("skipping regex that does not compile: %r", entry.term)
                    continue
                kept.append(entry)
                continue
            term = entry.term.strip()
            key = fold(term)
            if not key or len(term) > MAX_TERM_LENGTH:
                log.warning("skipping unusable lexicon entry %r", entry.term)
                continue
            kept.append(entry)
            target = exact if entry.mode is Mode.EXACT else best
            previous = target.get(key)
            if previous is None:
                target[key] = entry
                continue
            # Several entries may fold to one key: the most severe wins, and every spelling's
            # word breaks count ("free money" and "free-money" are the same words).
            if entry.mode is Mode.TEXT:
                extra_terms.setdefault(key, []).append(
                    entry.term if entry.level <= previous.level else previous.term
                )
            if entry.level > previous.level:
                target[key] = entry
        self.entries: tuple[Entry, ...] = tuple(kept)
        self.keys: list[str] = list(best)
        self._best: list[Entry] = list(best.values())
        self._extra_terms = extra_terms
        self._metas: dict[int, _KeyMeta] = {}
        self._ac = ahocorasick_rs.AhoCorasick(self.keys) if self.keys else None
        self.exact = exact
        self.regexes = tuple(regexes)
        self.size = len(kept)

    def meta(self, pid: int) -> _KeyMeta:
        """Validation metadata of pattern ``pid`` (computed once, on its first candidate)."""
        found = self._metas.get(pid)
        if found is not None:
            return found
        key = self.keys[pid]
        entry = self._best[pid]
        cjk = has_cjk(key)
        breaks: set[int] = set()
        if not cjk:
            for term in (entry.term, *self._extra_terms.get(key, ())):
                breaks.update(_word_breaks(term))
        made = _KeyMeta(
            entry=entry,
            latin_start=not is_cjk(key[0]),
            latin_end=not is_cjk(key[-1]),
            glued_check=not cjk,
            segment_check=cjk and len(key) <= SEGMENT_CHECK_MAX and _all_cjk(key),
            word_breaks=frozenset(breaks),
        )
        self._metas[pid] = made
        return made

    def cjk_words(self) -> list[str]:
        """The Chinese keys the segmenter must know as words."""
        return [k for k in self.keys if has_cjk(k)]


@dataclass(frozen=True, slots=True)
class _Raw:
    meta: _KeyMeta
    a: int
    b: int


class Matcher:
    """An immutable snapshot: the global layer, the group layer and the allow-list."""

    def __init__(
        self,
        layers: Sequence[Layer],
        allow: Iterable[str] = (),
        *,
        segmenter: Segmenter = SEGMENTER,
        regex_timeout: float = DEFAULT_REGEX_TIMEOUT,
    ) -> None:
        self.fold_version = FOLD_VERSION
        self.layers = tuple(layers)
        allow_keys = sorted({k for k in (fold(a) for a in allow) if k})
        self.allow_terms = tuple(allow_keys)
        self._allow = ahocorasick_rs.AhoCorasick(allow_keys) if allow_keys else None
        self._segmenter = segmenter
        self._regex_timeout = regex_timeout
        # A group entry overrides a global one with the same key (its level wins).
        overridden: set[str] = set()
        for layer in self.layers[1:]:
            overridden.update(layer.keys)
        self._skip: list[frozenset[int]] = []
        for i, layer in enumerate(self.layers):
            if i == len(self.layers) - 1 or not overridden:
                self._skip.append(frozenset())
            else:
                self._skip.append(frozenset(j for j, k in enumerate(layer.keys) if k in overridden))
        self.timeouts = 0
        self._pinyin: PinyinIndex | None = None

    def pinyin_index(self) -> PinyinIndex:
        """The pinyin automaton of this snapshot's 3+ character Chinese terms, built on first use.

        The first call imports pypinyin and builds its character table (a fraction of a second),
        so callers on the event loop run it in a worker thread once (see ``pinyin_ready``).
        """
        found = self._pinyin
        if found is None:
            keys = [
                (key, (li, pid))
                for li, (layer, skip) in enumerate(zip(self.layers, self._skip, strict=True))
                for pid, key in enumerate(layer.keys)
                if pid not in skip
            ]
            found = self._pinyin = PinyinIndex(keys)
        return found

    @property
    def pinyin_ready(self) -> bool:
        """True once :meth:`pinyin_index` has been built for this snapshot."""
        return self._pinyin is not None

    @property
    def size(self) -> int:
        """Number of entries over every layer."""
        return sum(layer.size for layer in self.layers)

    def check(self, text: str, *, pinyin: bool = False, folded: str | None = None) -> list[Hit]:
        """The validated hits in ``text`` (hot path: stops early once a red hit is confirmed).

        ``pinyin`` adds the pinyin view (the group setting ``moderation.pinyin``); ``folded`` is
        ``fold(text)`` when the caller has it already (the message's ``ctx.parsed.folded``).
        """
        return self._run(text, explain=False, pinyin=pinyin, folded=folded).hits

    def explain(self, text: str, *, pinyin: bool = False) -> Report:
        """Every candidate with the reason it was kept or rejected (for ``/kw test``)."""
        return self._run(text, explain=True, pinyin=pinyin)

    def _run(self, text: str, *, explain: bool, pinyin: bool = False, folded: str | None = None) -> Report:
        if folded is None:
            folded = fold(text)
        report = Report(folded=folded)
        if folded:
            for layer in reversed(self.layers):
                entry = layer.exact.get(folded)
                if entry is not None:
                    report.hits.append(Hit(entry, entry.level, 0, len(text), 0, len(folded)))
                    report.candidates.append(Candidate(entry, 0, len(folded), None))
                    break
        raw: list[_Raw] = []
        if folded:
            for layer, skip in zip(self.layers, self._skip, strict=True):
                ac = layer._ac
                if ac is None:
                    continue
                meta = layer.meta
                for pid, a, b in ac.find_matches_as_indexes(folded, overlapping=True):
                    if pid in skip:
                        continue
                    raw.append(_Raw(meta(pid), a, b))
        if raw:
            self._validate(text, folded, raw, report, explain=explain)
        if pinyin and folded and (explain or not any(h.level is Level.RED for h in report.hits)):
            self._pinyin_hits(text, folded, report, explain=explain)
        for layer in self.layers:
            for pattern, entry in layer.regexes:
                if not explain and report.hits and max(h.level for h in report.hits) >= entry.level:
                    continue
                try:
                    m = pattern.search(text, timeout=self._regex_timeout)
                except TimeoutError:
                    self.timeouts += 1
                    report.regex_timeouts += 1
                    log.warning("regex entry %r timed out", entry.term)
                    continue
                if m is not None and m.end() > m.start():
                    report.hits.append(Hit(entry, entry.level, m.start(), m.end(), -1, -1))
                    if explain:
                        report.candidates.append(Candidate(entry, -1, -1, None))
        return report

    def _pinyin_hits(self, text: str, folded: str, report: Report, *, explain: bool) -> None:
        index = self.pinyin_index()
        found = index.find(text, folded)
        if not found:
            return
        allow_spans = self._allow.find_matches_as_indexes(folded, overlapping=True) if self._allow else []
        already = {h.entry.term for h in report.hits}
        for hit in found:
            for owner in index.owners[hit.pid]:
                li, pid = owner
                entry = self.layers[li].meta(pid).entry
                if entry.term in already:
                    continue
                if folded[hit.folded_start : hit.folded_end] == fold(entry.term):
                    # The term's own characters: the ordinary validation already judged them
                    # (a segmentation veto must not be undone by the pinyin view).
                    continue
                allowed = any(x <= hit.folded_start and hit.folded_end <= y for _, x, y in allow_spans)
                if explain:
                    report.candidates.append(
                        Candidate(entry, hit.folded_start, hit.folded_end, "allowed" if allowed else None)
                    )
                if allowed:
                    continue
                already.add(entry.term)
                report.hits.append(
                    Hit(entry, entry.level, hit.start, hit.end, hit.folded_start, hit.folded_end, pinyin=True)
                )

    def _validate(self, text: str, folded: str, raw: list[_Raw], report: Report, *, explain: bool) -> None:
        _, idx = fold_with_offsets(text)
        allow_spans = self._allow.find_matches_as_indexes(folded, overlapping=True) if self._allow else []
        windows = WindowCache(self._segmenter, folded, [(r.a, r.b) for r in raw if r.meta.segment_check])
        # Most severe first, so the hot path can stop at the first confirmed red hit.
        raw.sort(key=lambda r: (-r.meta.entry.level, r.a))
        for cand in raw:
            reason = self._reject_reason(text, idx, cand, allow_spans, windows)
            if explain:
                report.candidates.append(Candidate(cand.meta.entry, cand.a, cand.b, reason))
            if reason is not None:
                continue
            start, end = idx[cand.a], idx[cand.b - 1] + 1
            level = cand.meta.entry.level
            downgraded = any(c in SENTENCE_BREAKS for c in text[start:end])
            if downgraded:
                level = level.lowered()
            report.hits.append(Hit(cand.meta.entry, level, start, end, cand.a, cand.b, downgraded))
            if not explain and level is Level.RED:
                return

    def _reject_reason(
        self,
        text: str,
        idx: list[int],
        cand: _Raw,
        allow_spans: list[tuple[int, int, int]],
        windows: WindowCache,
    ) -> str | None:
        a, b, meta = cand.a, cand.b, cand.meta
        for _, x, y in allow_spans:
            if x <= a and b <= y:
                return "allowed"
        start, end = idx[a], idx[b - 1] + 1
        if meta.latin_start and start > 0 and _latin_wordish(text[start - 1]):
            return "word_boundary"
        if meta.latin_end and end < len(text) and _latin_wordish(text[end]):
            return "word_boundary"
        # A partial fold of the edge characters (ß → ss cut in half) is not a clean hit either.
        if (a > 0 and idx[a - 1] == start) or (b < len(idx) and idx[b] == end - 1):
            return "word_boundary"
        if meta.glued_check and _glued(text, start, end, meta.word_breaks):
            return "glued_words"
        if (
            meta.segment_check
            and not (_open_edge(text, start - 1) and _open_edge(text, end))
            and not windows.on_boundaries(a, b)
        ):
            return "segmentation"
        return None


def _open_edge(text: str, i: int) -> bool:
    """True when position ``i`` next to a hit cannot continue a Chinese word: the text's edge,
    a separator (space, punctuation, emoji) or a non-Han character.

    A Chinese hit with such edges on both sides needs no segmentation check; this skips the
    costliest validator for most real hits ("……，赌博，……").
    """
    if i < 0 or i >= len(text):
        return True
    folded = fold_char_cached(text[i])
    return not folded or not is_cjk(folded[0])


def _all_cjk(key: str) -> bool:
    return all(is_cjk(c) for c in key)


def _latin_wordish(ch: str) -> bool:
    """True when ``ch`` continues a Latin word (a letter or digit that is not a Han ideograph)."""
    folded = fold_char_cached(ch)
    return bool(folded) and not is_cjk(folded[0])


def _glued(text: str, start: int, end: int, word_breaks: frozenset[int]) -> bool:
    """True when the span is separate words of two or more letters that the term does not have.

    "I'm an al" folds to "imanal" and contains "anal", but "an" and "al" are real words, so it is
    not a hit. "f u c k" (single letters) and "FREE  MONEY" (the term's own words) still are.
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
        if left >= 2 and right >= 2 and pos not in word_breaks:
            return True
    return False


def build_matcher(
    global_layer: Layer,
    group_entries: Iterable[Entry] = (),
    allow: Iterable[str] = (),
    *,
    segmenter: Segmenter = SEGMENTER,
    regex_timeout: float = DEFAULT_REGEX_TIMEOUT,
    owner: str | None = None,
) -> Matcher:
    """Compile a group's snapshot and teach the segmenter its Chinese terms (run off the loop)."""
    group_layer = Layer(group_entries)
    layers = [global_layer, group_layer] if group_layer.size else [global_layer]
    if owner is not None:
        segmenter.set_words(owner, group_layer.cjk_words())
    return Matcher(layers, allow, segmenter=segmenter, regex_timeout=regex_timeout)
