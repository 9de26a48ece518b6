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

import dataclasses
import itertools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import ahocorasick_rs
import regex

from handlers.moderation.folding import (
    FOLD_VERSION,
    fold,
    fold_with_offsets,
    folds_as_written,
    has_cjk,
    is_cjk,
    narrow_fold,
)
from handlers.moderation.frequency import COMMON_ZH, fold_misleads, is_everyday_term
from handlers.moderation.leet import LEET_CATEGORIES, LeetIndex
from handlers.moderation.pinyin import PinyinIndex
from handlers.moderation.segment import SEGMENTER, Segmenter, WindowCache
from handlers.moderation.terms import Candidate, Entry, Hit, Level, LexiconError, Mode, Report
from handlers.moderation.validators import all_cjk, glued, latin_wordish, open_edge, word_breaks

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


@dataclass(frozen=True, slots=True)
class _KeyMeta:
    entry: Entry
    latin_start: bool
    latin_end: bool
    glued_check: bool
    segment_check: bool
    word_breaks: frozenset[int]
    #: When folding would turn this rare term into a common word (幹 → 干), the spellings
    #: (:func:`narrow_fold`) a hit must have; None when any spelling that folds to the key counts.
    spellings: frozenset[str] | None = None
    #: An everyday word (系统, "system"): alone in a message its hit counts one level lower.
    everyday: bool = False


class Layer:
    """One compiled lexicon (the global files, or one group's entries). Immutable once built.

    Only what the scan needs is computed at build time (folded keys, the automaton); the
    per-key validation metadata is derived on the first candidate hit of that key and memoised,
    which keeps a 50k-term rebuild within its one-second budget.
    """

    __slots__ = (
        "_ac",
        "_best",
        "_extra_terms",
        "_metas",
        "_spellings",
        "_strict",
        "entries",
        "exact",
        "keys",
        "regexes",
        "size",
    )

    def __init__(self, entries: Iterable[Entry], *, precision_guard: bool = True) -> None:
        """Compile ``entries``. ``precision_guard`` (on by default) keeps a term whose fold is a
        common word that its own spelling is not to that spelling (see :meth:`spellings`)."""
        best: dict[str, Entry] = {}
        # key → the spellings of its TEXT entries when the fold changed every one of them
        # (None: some entry is spelled as its key). Word frequencies decide later, per key, on
        # its first candidate: a rebuild never waits for jieba's dictionary or wordfreq.
        spellings: dict[str, set[str] | None] = {}
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
            if entry.mode is Mode.TEXT and precision_guard:
                written = narrow_fold(term)
                if written == key:
                    spellings[key] = None
                elif key not in spellings:
                    spellings[key] = {written}
                else:
                    known = spellings[key]
                    if known is not None:
                        known.add(written)
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
        self._spellings = {k: frozenset(v) for k, v in spellings.items() if v is not None}
        self._strict: dict[str, frozenset[str] | None] = {}

    def spellings(self, key: str) -> frozenset[str] | None:
        """The spellings a hit of ``key`` must have, or None when any spelling that folds to it
        counts. A key is kept to its spellings when every entry of it is spelled otherwise and
        folding turns each spelling into a common word it is not (幹 → 干, ㈠ → 一)."""
        if key in self._strict:
            return self._strict[key]
        written = self._spellings.get(key)
        if written is not None and not all(fold_misleads(w, key) for w in written):
            written = None
        self._strict[key] = written
        return written

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
                breaks.update(word_breaks(term))
        spellings = self.spellings(key)
        made = _KeyMeta(
            entry=entry,
            latin_start=not is_cjk(key[0]),
            latin_end=not is_cjk(key[-1]),
            glued_check=not cjk,
            segment_check=cjk and len(key) <= SEGMENT_CHECK_MAX and all_cjk(key),
            word_breaks=frozenset(breaks),
            spellings=spellings,
            # A guarded key matches only its rare spellings, which are no everyday words.
            everyday=spellings is None and is_everyday_term(key, entry.category),
        )
        self._metas[pid] = made
        return made

    def entry(self, pid: int) -> Entry:
        """The entry behind pattern ``pid``."""
        return self._best[pid]

    def lookup(self, key: str) -> tuple[Entry, frozenset[str] | None] | None:
        """The entry a folded key belongs to and its allowed spellings (None: any), or None."""
        for pid, k in enumerate(self.keys):
            if k == key:
                return self._best[pid], self.spellings(key)
        found = self.exact.get(key)
        return (found, None) if found is not None else None

    def cjk_words(self) -> list[str]:
        """The Chinese keys the segmenter must know as words."""
        return [k for k in self.keys if has_cjk(k)]


#: A raw automaton match: the key's metadata and the folded span (a tuple: the hot path makes
#: one per candidate, and a frozen dataclass costs several times as much to build).
_Raw = tuple[_KeyMeta, int, int]


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
        self._leet: LeetIndex | None = None

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
                if pid not in skip and layer.spellings(key) is None
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

    def leet_index(self) -> LeetIndex:
        """The leetspeak/repeated-letter automaton of this snapshot's Latin abuse terms
        (``moderation.leetspeak``), built on first use (milliseconds)."""
        found = self._leet
        if found is None:
            keys = [
                (key, (li, pid), len(layer.entry(pid).term.split()))
                for li, (layer, skip) in enumerate(zip(self.layers, self._skip, strict=True))
                for pid, key in enumerate(layer.keys)
                if pid not in skip and layer.entry(pid).category in LEET_CATEGORIES
            ]
            found = self._leet = LeetIndex(keys)
        return found

    def check(
        self,
        text: str,
        *,
        pinyin: bool = False,
        leet: bool = False,
        everyday: bool = True,
        folded: str | None = None,
    ) -> list[Hit]:
        """The validated hits in ``text`` (hot path: stops early once a red hit is confirmed).

        ``pinyin`` adds the pinyin view (the group setting ``moderation.pinyin``), ``leet`` the
        leetspeak and repeated-letter view (``moderation.leetspeak``), ``everyday`` the
        everyday-word guard (``moderation.everyday_guard``: a term that is an everyday word
        counts one level lower when nothing else matches); ``folded`` is ``fold(text)`` when the
        caller has it already (the message's ``ctx.parsed.folded``).
        """
        return self._run(text, explain=False, pinyin=pinyin, leet=leet, everyday=everyday, folded=folded).hits

    def explain(
        self, text: str, *, pinyin: bool = False, leet: bool = False, everyday: bool = True
    ) -> Report:
        """Every candidate with the reason it was kept or rejected (for ``/kw test``)."""
        return self._run(text, explain=True, pinyin=pinyin, leet=leet, everyday=everyday)

    def _run(
        self,
        text: str,
        *,
        explain: bool,
        pinyin: bool = False,
        leet: bool = False,
        everyday: bool = True,
        folded: str | None = None,
    ) -> Report:
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
                    raw.append((meta(pid), a, b))
        if raw:
            self._validate(text, folded, raw, report, explain=explain)
        if leet and folded and (explain or _confirmed(report) is not Level.RED):
            self._leet_hits(text, folded, report, explain=explain)
        if pinyin and folded and (explain or _confirmed(report) is not Level.RED):
            self._pinyin_hits(text, folded, report, explain=explain)
        for layer in self.layers:
            for pattern, entry in layer.regexes:
                if not explain and (_confirmed(report) or 0) >= entry.level:
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
        if everyday and report.hits:
            _lower_everyday(report)
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
                span = folded[hit.folded_start : hit.folded_end]
                # Precision guard: same-sound characters that are everyday words (搭飞机 for
                # 打飞机, 通知书) are weaker evidence than typed pinyin: one level lower.
                lowered = not allowed and all_cjk(span) and self._common_words(span)
                if explain:
                    report.candidates.append(
                        Candidate(
                            entry,
                            hit.folded_start,
                            hit.folded_end,
                            "allowed" if allowed else None,
                            view="pinyin",
                            lowered=lowered,
                        )
                    )
                if allowed:
                    continue
                already.add(entry.term)
                level = entry.level.lowered() if lowered else entry.level
                report.hits.append(
                    Hit(
                        entry,
                        level,
                        hit.start,
                        hit.end,
                        hit.folded_start,
                        hit.folded_end,
                        downgraded=lowered,
                        pinyin=True,
                    )
                )

    def _leet_hits(self, text: str, folded: str, report: Report, *, explain: bool) -> None:
        index = self.leet_index()
        found = index.find(text)
        if not found:
            return
        already = {h.entry.term for h in report.hits}
        for hit in found:
            for li, pid in index.owners[hit.pid]:
                entry = self.layers[li].entry(pid)
                if entry.term in already:
                    continue
                already.add(entry.term)
                common = self.layers[li].meta(pid).everyday
                if explain:
                    report.candidates.append(Candidate(entry, -1, -1, None, view="leet"))
                report.hits.append(Hit(entry, entry.level, hit.start, hit.end, -1, -1, everyday=common))

    def _common_words(self, span: str) -> bool:
        """True when a Chinese span segments into words that are all common (jieba counts)."""
        cuts = sorted(self._segmenter.boundaries(span))
        return all(self._segmenter.frequency(span[a:b]) >= COMMON_ZH for a, b in itertools.pairwise(cuts))

    def _validate(self, text: str, folded: str, raw: list[_Raw], report: Report, *, explain: bool) -> None:
        if not explain and any(r[0].spellings is not None for r in raw) and folds_as_written(text):
            # Nothing in the message was folded many-to-one (plain simplified Chinese, plain
            # English), so no fold-guarded key (幹 held to 幹) can be spelled as its term: drop
            # them all without rebuilding offsets (most candidates on everyday Chinese text).
            raw = [r for r in raw if r[0].spellings is None]
            if not raw:
                return
        _, idx = fold_with_offsets(text, folded)
        allow_spans = self._allow.find_matches_as_indexes(folded, overlapping=True) if self._allow else []
        windows = WindowCache(self._segmenter, folded, [(a, b) for m, a, b in raw if m.segment_check])
        # Most severe first, so the hot path can stop at the first confirmed red hit.
        raw.sort(key=lambda r: (-r[0].entry.level, r[1]))
        for cand in raw:
            meta, a, b = cand
            reason = self._reject_reason(text, idx, cand, allow_spans, windows)
            if explain:
                report.candidates.append(Candidate(meta.entry, a, b, reason))
            if reason is not None:
                continue
            start, end = idx[a], idx[b - 1] + 1
            level = meta.entry.level
            downgraded = any(c in SENTENCE_BREAKS for c in text[start:end])
            if downgraded:
                level = level.lowered()
            report.hits.append(Hit(meta.entry, level, start, end, a, b, downgraded, everyday=meta.everyday))
            if not explain and level is Level.RED and not meta.everyday:
                return

    def _reject_reason(
        self,
        text: str,
        idx: list[int],
        cand: _Raw,
        allow_spans: list[tuple[int, int, int]],
        windows: WindowCache,
    ) -> str | None:
        meta, a, b = cand
        for _, x, y in allow_spans:
            if x <= a and b <= y:
                return "allowed"
        start, end = idx[a], idx[b - 1] + 1
        if meta.spellings is not None and narrow_fold(text[start:end]) not in meta.spellings:
            return "fold_guard"
        if meta.latin_start and start > 0 and latin_wordish(text[start - 1]):
            return "word_boundary"
        if meta.latin_end and end < len(text) and latin_wordish(text[end]):
            return "word_boundary"
        # A partial fold of the edge characters (ß → ss cut in half) is not a clean hit either.
        if (a > 0 and idx[a - 1] == start) or (b < len(idx) and idx[b] == end - 1):
            return "word_boundary"
        if meta.glued_check and glued(text, start, end, meta.word_breaks):
            return "glued_words"
        if (
            meta.segment_check
            and not (open_edge(text, start - 1) and open_edge(text, end))
            and not windows.on_boundaries(a, b)
        ):
            return "segmentation"
        return None


def _confirmed(report: Report) -> Level | None:
    """The most severe hit so far that is not an everyday word (those may still be lowered)."""
    return max((h.level for h in report.hits if not h.everyday), default=None)


def _lower_everyday(report: Report) -> None:
    """An everyday-word term with no other term in the message counts one level lower: 系统 or
    "system" alone is ordinary chat; next to another term it is part of the evidence."""
    if any(not h.everyday for h in report.hits) or not any(h.everyday for h in report.hits):
        return
    report.hits = [
        Hit(
            h.entry,
            h.level.lowered(),
            h.start,
            h.end,
            h.folded_start,
            h.folded_end,
            h.downgraded,
            h.pinyin,
            True,
        )
        if h.everyday
        else h
        for h in report.hits
    ]
    report.candidates = [
        dataclasses.replace(c, everyday=True)
        if c.rejected is None and c.view == "text" and _is_everyday(report, c)
        else c
        for c in report.candidates
    ]


def _is_everyday(report: Report, cand: Candidate) -> bool:
    return any(h.everyday and h.entry == cand.entry for h in report.hits)


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
