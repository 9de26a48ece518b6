"""Lexicon evaluation for operators: ``python -m bot moderation eval``.

Runs a lexicon over a file of texts the way the bot screens messages and reports what an operator
needs before loading a list: hits per term, the share of lines flagged, the terms with the most
hits (on benign text those are the likely false positives) and, when each line carries a label,
precision and recall. The bench (``python -m bot bench lexicon``) uses the same functions.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from handlers.moderation.lexicon import normalise_category
from handlers.moderation.matcher import Entry, Level, Matcher, Mode

#: Label words accepted in a labels file (one per line, aligned with the texts).
_POSITIVE = frozenset({"1", "y", "yes", "true", "flag", "bad", "spam", "abuse", "是"})
_NEGATIVE = frozenset({"0", "n", "no", "false", "ok", "good", "clean", "benign", "否"})


def read_lexicon(path: str | Path) -> list[Entry]:
    """Entries of a lexicon file: the bot's TSV format (``level<TAB>category<TAB>term[<TAB>mode]``)
    or a plain list with one term a line (each read as a yellow ``text`` entry).

    Raises ``ValueError`` naming the first line that cannot be read.
    """
    return [entry for _, entry in read_lexicon_lines(path)]


def read_lexicon_lines(path: str | Path) -> list[tuple[int, Entry]]:
    """:func:`read_lexicon` with the line number of each entry."""
    entries: list[tuple[int, Entry]] = []
    text = Path(path).read_text(encoding="utf-8-sig")
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if "\t" not in line:
            entries.append((number, Entry(line.strip(), Level.YELLOW, "custom")))
            continue
        cols = line.split("\t")
        if len(cols) < 3:
            raise ValueError(f"{path}:{number}: expected level<TAB>category<TAB>term")
        try:
            level = Level.parse(cols[0])
            mode = Mode(cols[3].strip()) if len(cols) > 3 and cols[3].strip() else Mode.TEXT
        except ValueError as exc:
            raise ValueError(f"{path}:{number}: {exc}") from None
        entries.append((number, Entry(cols[2].strip(), level, normalise_category(cols[1]), mode)))
    return entries


def read_lines(path: str | Path) -> list[str]:
    """The non-empty lines of a text file (one message a line)."""
    return [line for line in Path(path).read_text(encoding="utf-8-sig").splitlines() if line.strip()]


def read_labels(path: str | Path) -> list[bool]:
    """One label a line (``1``/``0``, ``flag``/``ok``…); raises ``ValueError`` on an unknown word."""
    labels: list[bool] = []
    for number, raw in enumerate(Path(path).read_text(encoding="utf-8-sig").splitlines(), start=1):
        word = raw.strip().casefold()
        if not word:
            continue
        if word in _POSITIVE:
            labels.append(True)
        elif word in _NEGATIVE:
            labels.append(False)
        else:
            raise ValueError(f"{path}:{number}: label must be 1 or 0 (flag/ok), not {raw.strip()[:20]!r}")
    return labels


@dataclass(slots=True)
class EvalResult:
    """What one evaluation found."""

    lines: int = 0
    flagged: int = 0
    #: Lines with a hit at yellow or red, the levels that delete the message (a blue hit only
    #: notes it in the moderators' digest).
    acted: int = 0
    hits_per_term: Counter[str] = field(default_factory=Counter)
    #: Lines flagged only through the pinyin view.
    pinyin_only: int = 0
    labelled: bool = False
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    #: Labelled-bad lines the matcher missed, and labelled-ok lines it flagged (first few).
    missed: list[str] = field(default_factory=list)
    false_alarms: list[tuple[str, str]] = field(default_factory=list)

    @property
    def flag_rate(self) -> float:
        """Share of lines with at least one validated hit."""
        return self.flagged / self.lines if self.lines else 0.0

    @property
    def act_rate(self) -> float:
        """Share of lines with a yellow or red hit (the message would be deleted)."""
        return self.acted / self.lines if self.lines else 0.0

    @property
    def precision(self) -> float | None:
        """Flagged lines that were labelled bad, over all flagged lines (None without labels)."""
        if not self.labelled:
            return None
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float | None:
        """Labelled-bad lines that were flagged, over all labelled-bad lines (None without labels)."""
        if not self.labelled:
            return None
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def evaluate(
    matcher: Matcher,
    texts: Iterable[str],
    labels: Sequence[bool] | None = None,
    *,
    pinyin: bool = False,
    leet: bool = True,
    everyday: bool = True,
    keep_examples: int = 10,
) -> EvalResult:
    """Screen every text like a message and count what the lexicon does to it (``pinyin``,
    ``leet`` and ``everyday`` as the group settings ``moderation.pinyin``,
    ``moderation.leetspeak`` and ``moderation.everyday_guard``)."""
    result = EvalResult(labelled=labels is not None)
    for i, text in enumerate(texts):
        hits = matcher.explain(text, pinyin=pinyin, leet=leet, everyday=everyday).hits
        result.lines += 1
        for term in {h.entry.term for h in hits}:
            result.hits_per_term[term] += 1
        flagged = bool(hits)
        if flagged:
            result.flagged += 1
            if all(h.pinyin for h in hits):
                result.pinyin_only += 1
            if any(h.level >= Level.YELLOW for h in hits):
                result.acted += 1
        if labels is None:
            continue
        bad = labels[i] if i < len(labels) else False
        if bad and flagged:
            result.tp += 1
        elif bad:
            result.fn += 1
            if len(result.missed) < keep_examples:
                result.missed.append(text)
        elif flagged:
            result.fp += 1
            if len(result.false_alarms) < keep_examples:
                result.false_alarms.append((text, ", ".join(sorted({h.entry.term for h in hits}))))
        else:
            result.tn += 1
    return result


def format_report(result: EvalResult, *, top: int = 20) -> str:
    """A plain-text report: share flagged, top terms by hits, precision and recall."""
    lines = [
        f"lines: {result.lines}",
        f"flagged: {result.flagged} ({result.flag_rate:.2%})"
        + (f", {result.pinyin_only} only through pinyin" if result.pinyin_only else ""),
        f"deleted (a yellow or red hit; blue only notes it in the digest): {result.acted} "
        f"({result.act_rate:.2%})",
        f"terms with hits: {len(result.hits_per_term)}",
    ]
    if result.hits_per_term:
        lines.append(f"top terms by lines hit (on benign text: the likely false positives), top {top}:")
        for term, count in result.hits_per_term.most_common(top):
            share = count / result.lines if result.lines else 0.0
            lines.append(f"  {count:>7}  {share:7.2%}  {term}")
    if result.labelled:
        precision, recall = result.precision, result.recall
        assert precision is not None and recall is not None
        lines.append(
            f"labelled: tp={result.tp} fp={result.fp} fn={result.fn} tn={result.tn}  "
            f"precision={precision:.1%} recall={recall:.1%}"
        )
        for text in result.missed:
            lines.append(f"  missed: {text[:120]}")
        for text, terms in result.false_alarms:
            lines.append(f"  false alarm ({terms}): {text[:120]}")
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    """``python -m bot moderation eval --lexicon FILE --texts FILE [--labels FILE]``."""
    import argparse

    from handlers.moderation.lint import format_issues, lint_entries
    from handlers.moderation.matcher import Layer
    from handlers.moderation.segment import SEGMENTER

    parser = argparse.ArgumentParser(prog="python -m bot moderation", description="lexicon tools")
    sub = parser.add_subparsers(dest="tool", required=True)
    ev = sub.add_parser("eval", help="run a lexicon over a file of texts and report what it flags")
    ev.add_argument("--lexicon", required=True, type=Path, help="TSV lexicon or one term a line")
    ev.add_argument("--texts", required=True, type=Path, help="one message a line")
    ev.add_argument("--labels", type=Path, help="one label a line (1 = should be flagged, 0 = benign)")
    ev.add_argument("--pinyin", action="store_true", help="also match through the pinyin view")
    ev.add_argument(
        "--no-leet", action="store_true", help="without the leetspeak view (moderation.leetspeak off)"
    )
    ev.add_argument(
        "--no-everyday-guard",
        action="store_true",
        help="everyday-word terms count at their level even alone (moderation.everyday_guard off)",
    )
    ev.add_argument("--top", type=int, default=20, help="how many top terms to list")
    ev.add_argument("--allow", type=Path, help="allow-list phrases, one a line")
    args = parser.parse_args(list(argv))
    try:
        numbered = read_lexicon_lines(args.lexicon)
        entries = [entry for _, entry in numbered]
        texts = read_lines(args.texts)
        labels = read_labels(args.labels) if args.labels else None
        allow = read_lines(args.allow) if args.allow else []
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        print(f"moderation eval: {exc}", file=sys.stderr)
        return 2
    if labels is not None and len(labels) != len(texts):
        print(
            f"moderation eval: {len(labels)} labels for {len(texts)} texts; give one label a line",
            file=sys.stderr,
        )
        return 2
    layer = Layer(entries)
    SEGMENTER.set_words("moderation-eval", layer.cjk_words())
    issues = lint_entries(numbered, allow=allow)
    print(f"lexicon: {len(entries)} entries, {len(issues)} lint findings")
    if issues:
        print(format_issues(issues, limit=args.top))
    matcher = Matcher([layer], allow)
    result = evaluate(
        matcher, texts, labels, pinyin=args.pinyin, leet=not args.no_leet, everyday=not args.no_everyday_guard
    )
    print(format_report(result, top=args.top))
    return 0
