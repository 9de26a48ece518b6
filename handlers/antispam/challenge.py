"""Join challenges: one question, its buttons in a random order, and the answer's place.

Pure apart from the generator it is given (the feature's, seeded under the virtual clock so
console runs and tests repeat exactly; unguessable otherwise).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from bot.messages import Button

#: Buttons of one newcomer's challenge: ``as:v:GROUP:MEMBER:NONCE:CHOICE``.
DATA_ONE = "as:v:"
#: Buttons of a raid's standing challenge: ``as:h:GROUP:RAID:NONCE:CHOICE``.
DATA_RAID = "as:h:"
CHOICES = 4
#: Emoji a challenge may name; their names are in the locale files (``antispam.verify.emoji``).
EMOJI: dict[str, str] = {
    "apple": "🍎",
    "cat": "🐱",
    "dog": "🐶",
    "car": "🚗",
    "star": "⭐",
    "fish": "🐟",
    "moon": "🌙",
    "tree": "🌲",
}


@dataclass(frozen=True)
class Question:
    """One challenge: what it asks, the button labels in their (random) order, and the answer."""

    key: str
    values: dict[str, str]
    labels: tuple[str, ...]
    answer: int
    #: Fresh for every question: a press on an earlier one is recognised as stale.
    nonce: str


def question(rng: random.Random, name_of: Callable[[str], str]) -> Question:
    """A new question: a small sum or a named emoji. ``name_of`` gives an emoji's local name."""
    nonce = f"{rng.randrange(16**6):06x}"
    if rng.random() < 0.5:
        a, b = rng.randint(1, 9), rng.randint(1, 9)
        wrong = rng.sample([n for n in range(2, 19) if n != a + b], CHOICES - 1)
        options = [str(a + b), *(str(n) for n in wrong)]
        key, values = "antispam.verify.sum", {"a": str(a), "b": str(b)}
    else:
        names = rng.sample(sorted(EMOJI), CHOICES)
        options = [EMOJI[n] for n in names]
        key, values = "antispam.verify.emoji_question", {"emoji": name_of(names[0])}
    correct = options[0]
    rng.shuffle(options)
    return Question(key, values, tuple(options), options.index(correct), nonce)


def buttons(prefix: str, q: Question) -> tuple[tuple[Button, ...], ...]:
    """The answer buttons, one row: ``PREFIX:NONCE:CHOICE``."""
    return (tuple(Button(label, f"{prefix}:{q.nonce}:{i}") for i, label in enumerate(q.labels)),)
