"""Lexicon lint: what an operator should look at before a list goes live (issue 16).

Catch-all lists carry words such as "my", "is" or 系统 that flag a large share of ordinary chat.
The lint names each suspicious line and the reason; it never drops or changes an entry, the
operator decides. It runs on ``/kw import``, on the operator's lexicon files at start-up (logged)
and in ``python -m bot moderation eval``.

Reasons (``code``, an i18n key suffix under ``moderation.lint``):

* ``too_short``: a Latin term of fewer than three letters or digits, or a single Chinese character;
* ``everyday``: an everyday word (jieba's dictionary for Chinese, ``wordfreq`` for English) that
  the matcher counts one level lower when it is alone in a message (``moderation.everyday_guard``);
* ``too_common``: as common, in a category whose terms are offences in themselves (abuse), so
  the guard leaves it at its level;
* ``duplicate``: folds to the same key as an earlier line or an existing entry;
* ``allowed``: an allow-list phrase is the same text, so every hit of it is cancelled;
* ``fold_guard``: its folded form is a common word that its spelling is not, so it only matches
  as written (information: add the folded form too if that is what you mean);
* ``slow_regex``: a regex that survives the time limit on the probe but uses more than half of it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import regex

from handlers.moderation.folding import fold, has_cjk, narrow_fold
from handlers.moderation.frequency import OFFENSIVE_CATEGORIES, fold_misleads, is_very_common
from handlers.moderation.matcher import _REGEX_PROBE, DEFAULT_REGEX_TIMEOUT, Entry, Mode
from handlers.moderation.segment import SEGMENTER, Segmenter

#: Latin keys shorter than this are flagged as too short ("my", "qq").
MIN_LATIN_CHARS = 3


@dataclass(frozen=True, slots=True)
class LintIssue:
    """One finding: the line (1-based; 0 when not from a file), the entry and the reason."""

    line: int
    term: str
    code: str


def lint_entries(
    entries: Sequence[tuple[int, Entry]],
    *,
    existing_keys: Iterable[str] = (),
    allow: Iterable[str] = (),
    segmenter: Segmenter = SEGMENTER,
    regex_timeout: float = DEFAULT_REGEX_TIMEOUT,
) -> list[LintIssue]:
    """Findings for ``(line, entry)`` pairs, in line order (an entry may have several)."""
    seen = set(existing_keys)
    allowed = {k for k in (fold(a) for a in allow) if k}
    issues: list[LintIssue] = []
    for line, entry in entries:
        if entry.mode is Mode.REGEX:
            if _slow(entry.term, regex_timeout):
                issues.append(LintIssue(line, entry.term, "slow_regex"))
            continue
        key = fold(entry.term)
        if not key:
            continue
        if key in seen:
            issues.append(LintIssue(line, entry.term, "duplicate"))
            continue
        seen.add(key)
        cjk = has_cjk(key)
        written = narrow_fold(entry.term.strip())
        # A guarded term matches only as written: judge that spelling, not its fold.
        guarded = entry.mode is Mode.TEXT and fold_misleads(written, key, segmenter)
        if (cjk and len(key) < 2) or (not cjk and len(key) < MIN_LATIN_CHARS):
            issues.append(LintIssue(line, entry.term, "too_short"))
        elif entry.mode is Mode.TEXT and is_very_common(written if guarded else key, segmenter):
            # The same test as the matcher's everyday-word guard (frequency.is_everyday_term).
            offensive = guarded or entry.category in OFFENSIVE_CATEGORIES
            issues.append(LintIssue(line, entry.term, "too_common" if offensive else "everyday"))
        if key in allowed:
            issues.append(LintIssue(line, entry.term, "allowed"))
        if guarded:
            issues.append(LintIssue(line, entry.term, "fold_guard"))
    return issues


def _slow(pattern: str, timeout: float) -> bool:
    try:
        compiled = regex.compile(pattern, regex.IGNORECASE)
    except (regex.error, OverflowError, RecursionError):
        return False  # validation reports it as invalid
    for probe in _REGEX_PROBE:
        best = timeout
        for _ in range(3):  # the best of three: a busy machine must not make a regex look slow
            started = time.perf_counter()
            try:
                compiled.search(probe, timeout=timeout)
            except TimeoutError:
                return True
            best = min(best, time.perf_counter() - started)
        if best > timeout / 2:
            return True
    return False


def format_issues(issues: Sequence[LintIssue], *, limit: int = 200) -> str:
    """Plain-text lines for logs and the eval command (terms included: operators only)."""
    lines = [f"line {i.line}: {i.term!r}: {i.code.replace('_', ' ')}" for i in issues[:limit]]
    if len(issues) > limit:
        lines.append(f"… and {len(issues) - limit} more")
    return "\n".join(lines)


def lint_files(paths: Iterable[str | Path]) -> list[tuple[str, LintIssue]]:
    """Findings for the operator's lexicon files, duplicates counted across all of them."""
    from handlers.moderation.lexicon import numbered_entries

    seen: set[str] = set()
    out: list[tuple[str, LintIssue]] = []
    for path in paths:
        numbered = numbered_entries(path)
        out.extend((str(path), issue) for issue in lint_entries(numbered, existing_keys=seen))
        seen.update(fold(e.term) for _, e in numbered if e.mode is not Mode.REGEX)
    return out
