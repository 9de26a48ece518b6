"""Properties of join challenges: four distinct answers, exactly one right, its place random."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from handlers.antispam.challenge import CHOICES, EMOJI, buttons, question

NAMES = {v: k for k, v in EMOJI.items()}


@given(st.integers(min_value=0, max_value=2**32))
def test_every_question_has_four_distinct_answers_and_one_right(seed: int) -> None:
    q = question(random.Random(seed), lambda name: f"<{name}>")
    assert len(q.labels) == CHOICES == len(set(q.labels)) and 0 <= q.answer < CHOICES
    right = q.labels[q.answer]
    if q.key == "antispam.verify.sum":
        assert int(right) == int(q.values["a"]) + int(q.values["b"])
        assert all(int(label) != int(right) for i, label in enumerate(q.labels) if i != q.answer)
    else:
        assert q.key == "antispam.verify.emoji_question" and q.values["emoji"] == f"<{NAMES[right]}>"
    assert len(q.nonce) == 6 and int(q.nonce, 16) >= 0
    data = [b.data for b in buttons("as:v:1:2", q)[0]]
    assert data == [f"as:v:1:2:{q.nonce}:{i}" for i in range(CHOICES)]


def test_the_right_button_lands_on_every_place_and_both_kinds_appear() -> None:
    rng = random.Random(7)
    asked = [question(rng, str) for _ in range(400)]
    places = Counter(q.answer for q in asked)
    assert set(places) == set(range(CHOICES)) and min(places.values()) > 60
    assert {q.key for q in asked} == {"antispam.verify.sum", "antispam.verify.emoji_question"}
    assert len({q.nonce for q in asked}) > 390
