"""The matching view: every evasion trick folds away, and positions map back to the original."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.moderation.folding import FOLD_VERSION, fold, fold_with_offsets, has_cjk, is_separator


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("赌 博", "赌博"),  # spacing
        ("赌*博", "赌博"),  # symbols
        ("赌\u200b博", "赌博"),  # zero-width space
        ("赌\u200d博\ufeff", "赌博"),  # zero-width joiner, BOM
        ("赌🔥博", "赌博"),  # emoji between characters
        ("赌👨\u200d👩\u200d👧博", "赌博"),  # ZWJ emoji sequence
        ("ｆｒｅｅ　ＭＯＮＥＹ", "freemoney"),  # full-width letters and ideographic space
        ("賭博網站", "赌博网站"),  # traditional script (OpenCC character table)
        ("frее mоnеy", "freemoney"),  # Cyrillic е and о
        ("ΗΕLLO", "hello"),  # Greek capitals
        ("fück", "fuck"),  # diacritics
        ("FrEe MoNeY", "freemoney"),  # case
        ("𝐟𝐫𝐞𝐞", "free"),  # mathematical bold
        ("Ⓕⓡⓔⓔ", "free"),  # circled letters
        ("Straße", "strasse"),  # case folding expands ß
        ("①②③", "123"),  # circled digits stay digits
        ("f̸̢r̷e̵e̶", "free"),  # zalgo combining marks
        ("⼈", "人"),  # Kangxi radical
    ],
)
def test_evasion_tricks_fold_away(raw: str, folded: str) -> None:
    assert fold(raw) == folded


def test_digits_are_not_turned_into_letters() -> None:
    # The full TR39 skeleton would fold 0 → o and 1 → l; phone numbers must survive.
    assert fold("13800138000") == "13800138000"


def test_non_latin_scripts_keep_their_letters() -> None:
    assert fold("Привет мир") != ""
    assert fold("こんにちは") == "こんにちは"
    assert fold("안녕하세요") == "안녕하세요"


def test_offsets_point_back_into_the_original() -> None:
    raw = "x 賭🔥博 y"
    folded, idx = fold_with_offsets(raw)
    assert folded == "x赌博y"
    a = folded.index("赌博")
    assert raw[idx[a] : idx[a + 1] + 1] == "賭🔥博"


def test_expansion_repeats_the_source_index() -> None:
    folded, idx = fold_with_offsets("aß")
    assert folded == "ass"
    assert idx == [0, 1, 1]


@given(st.text(max_size=200))
def test_offsets_agree_with_fold(text: str) -> None:
    folded, idx = fold_with_offsets(text)
    assert folded == fold(text)
    assert len(idx) == len(folded)
    assert idx == sorted(idx)
    assert all(0 <= i < len(text) for i in idx)


@given(st.text(max_size=100))
def test_fold_is_idempotent(text: str) -> None:
    once = fold(text)
    assert fold(once) == once


def test_helpers() -> None:
    assert has_cjk("abc赌")
    assert not has_cjk("abc")
    assert is_separator(" ")
    assert is_separator("🔥")
    assert not is_separator("a")
    assert FOLD_VERSION.startswith("fold-")
