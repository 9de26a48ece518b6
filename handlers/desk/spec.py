"""What moderators type to define FAQ entries — ``[mode] TRIGGER; TRIGGER | ANSWER`` — and the
CSV form of a whole FAQ. Pure: parsing and checking only, errors as catalog keys."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from handlers.desk.match import ANSWER_MAX, MODES, TRIGGER_MAX, Fold, check_regex

#: The words that name a mode (a leading word that is none of these is part of the trigger).
MODE_WORDS = {
    "keyword": "keyword",
    "关键词": "keyword",
    "exact": "exact",
    "精确": "exact",
    "regex": "regex",
    "正则": "regex",
    "question": "question",
    "问题": "question",
}
#: Most triggers one entry may have.
TRIGGERS_MAX = 30
#: Most lines one CSV import may hold.
CSV_LINES_MAX = 2000
CSV_COLUMNS = ("mode", "triggers", "answer", "lang", "cooldown")
LANGS = {"zh-cn": "zh-CN", "zh": "zh-CN", "中文": "zh-CN", "en": "en", "english": "en", "英文": "en"}
ANY_LANG = {"any", "all", "*", "任意", "全部", ""}
COOLDOWN_MAX = 86400
#: Who an entry answers (``/faq edit ID who …``), by the words a moderator may type.
AUDIENCES = {
    "all": "all",
    "everyone": "all",
    "所有人": "all",
    "members": "members",
    "成员": "members",
    "普通成员": "members",
    "newcomers": "newcomers",
    "new": "newcomers",
    "新人": "newcomers",
    "新成员": "newcomers",
}
#: How long a member is a newcomer for ``who newcomers``.
NEWCOMER_DAYS = 7

_SPACED_BAR = re.compile(r"\s[|｜]\s")
_BAR = re.compile(r"[|｜]")
_SEMI = re.compile(r"[;；]")


class SpecError(Exception):
    """A definition refused; ``key`` is the catalog key (``desk.faq.err_<code>``)."""

    def __init__(self, code: str, **values: Any) -> None:
        super().__init__(code)
        self.key = f"desk.faq.err_{code}"
        self.values = values


@dataclass(frozen=True, slots=True)
class Spec:
    """A parsed definition; None fields were left empty (``/faq edit`` keeps them)."""

    mode: str | None
    triggers: tuple[str, ...] | None
    answer: str | None


def split_mode(text: str) -> tuple[str | None, str]:
    """A leading mode word and the rest."""
    head, _, rest = text.strip().partition(" ")
    mode = MODE_WORDS.get(head.lower())
    return (mode, rest.strip()) if mode is not None else (None, text.strip())


def parse_spec(text: str, *, partial: bool = False) -> Spec:
    """``[mode] TRIGGER; TRIGGER | ANSWER``. The bar with spaces around it separates (so a regex
    may hold ``|``); a bare bar does when there is no spaced one. ``partial``: either side may
    be empty (an edit keeps it)."""
    mode, rest = split_mode(text)
    found = _SPACED_BAR.search(rest) or _BAR.search(rest)
    if found is None:
        raise SpecError("no_bar")
    left, right = rest[: found.start()].strip(), rest[found.end() :].strip()
    triggers = tuple(t.strip() for t in _SEMI.split(left) if t.strip()) if left else ()
    if not partial and not triggers:
        raise SpecError("no_trigger")
    if not partial and not right:
        raise SpecError("no_answer")
    return Spec(mode, triggers or None, right or None)


def check(mode: str, triggers: Sequence[str], answer: str, fold: Fold) -> None:
    """Refuse what would never work: too long, folding to nothing, a broken or slow regex."""
    if mode not in MODES:
        raise SpecError("bad_mode", mode=mode[:20], modes="|".join(MODES))
    if not triggers:
        raise SpecError("no_trigger")
    if len(triggers) > TRIGGERS_MAX:
        raise SpecError("too_many_triggers", max=TRIGGERS_MAX)
    if not answer.strip():
        raise SpecError("no_answer")
    if len(answer) > ANSWER_MAX:
        raise SpecError("answer_too_long", max=ANSWER_MAX)
    for trigger in triggers:
        if len(trigger) > TRIGGER_MAX:
            raise SpecError("trigger_too_long", max=TRIGGER_MAX)
        if mode == "regex":
            reason = check_regex(trigger)
            if reason is not None:
                raise SpecError(reason, trigger=trigger[:40])
        elif not fold(trigger):
            raise SpecError("folds_to_nothing", trigger=trigger[:40])


def parse_lang(word: str) -> tuple[bool, str | None]:
    """(ok, language): a known language, or None for any."""
    key = word.strip().lower()
    if key in ANY_LANG:
        return True, None
    lang = LANGS.get(key)
    return (lang is not None), lang


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One importable entry."""

    mode: str
    triggers: tuple[str, ...]
    answer: str
    lang: str | None
    cooldown: int | None


def parse_csv(text: str, fold: Fold) -> tuple[list[CsvRow], list[tuple[int, SpecError]]]:
    """The entries of a CSV text (``mode,triggers,answer[,lang[,cooldown]]``, header optional),
    and the refused lines with their line numbers."""
    rows: list[CsvRow] = []
    errors: list[tuple[int, SpecError]] = []
    reader = csv.reader(io.StringIO(text))
    first = True
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error:
            errors.append((reader.line_num, SpecError("csv_broken")))
            break
        line = reader.line_num
        if line > CSV_LINES_MAX:
            errors.append((line, SpecError("csv_too_long", max=CSV_LINES_MAX)))
            break
        if first and cells and cells[0].strip().lower() == "mode":
            first = False
            continue
        first = False
        if not any(c.strip() for c in cells):
            continue
        try:
            rows.append(_csv_row(cells, fold))
        except SpecError as exc:
            errors.append((line, exc))
    return rows, errors


def _csv_row(cells: list[str], fold: Fold) -> CsvRow:
    if len(cells) < 3 or len(cells) > len(CSV_COLUMNS):
        raise SpecError("csv_columns", count=len(cells))
    mode = MODE_WORDS.get(cells[0].strip().lower()) or cells[0].strip()
    triggers = tuple(t.strip() for t in _SEMI.split(cells[1]) if t.strip())
    answer = cells[2].strip()
    check(mode, triggers, answer, fold)
    lang: str | None = None
    if len(cells) > 3:
        ok, lang = parse_lang(cells[3])
        if not ok:
            raise SpecError("bad_lang", value=cells[3][:20])
    cooldown: int | None = None
    if len(cells) > 4 and cells[4].strip():
        value = cells[4].strip()
        if not value.isdecimal() or int(value) > COOLDOWN_MAX:
            raise SpecError("bad_cooldown", value=value[:20], max=COOLDOWN_MAX)
        cooldown = int(value)
    return CsvRow(mode, triggers, answer, lang, cooldown)


def to_csv(rows: Iterable[tuple[str, Sequence[str], str, str | None, int]]) -> str:
    """A FAQ as CSV, the form ``parse_csv`` reads back."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for mode, triggers, answer, lang, cooldown in rows:
        writer.writerow([mode, ";".join(triggers), answer, lang or "any", cooldown])
    return out.getvalue()
