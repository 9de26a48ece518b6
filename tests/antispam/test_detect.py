"""The pure parts: link and contact detection, similarity, the probation boundary (Hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.parsed import plain_fold
from handlers.antispam.detect import canonical_link, emoji_count, in_probation, links
from handlers.antispam.similar import DuplicateWindow, features, similarity, sketch
from handlers.moderation.folding import fold

T0 = datetime(2026, 3, 2, tzinfo=UTC)


def test_links_are_compared_by_domain_and_path() -> None:
    assert links("加群领福利 HTTPS://www.T.me/fuli3/?x=1 免费送") == ["t.me/fuli3"]
    assert canonical_link("http://Example.com/a/b#frag") == "example.com/a/b"
    assert links("see bit.ly/xyz.") == ["bit.ly/xyz"]
    assert links("version 2.0, 1.5x faster, a.b, mail a@b.com, foo.notatld") == []


def test_emoji_are_counted_as_graphemes() -> None:
    assert emoji_count("👨‍👩‍👧 hi 🎉🎉") == 3
    assert emoji_count("plain ascii :)") == 0


def _sim(a: str, b: str) -> float:
    return similarity(sketch(features(a, fold)), sketch(features(b, fold)))


def test_similarity_separates_spam_variants_from_chat() -> None:
    assert _sim("加群领福利 t.me/fuli3 免费送", "加群领福利啦 t.me/fuli3 免费送哦") >= 0.5
    assert _sim("💰日赚500 加V: fuli388 💰", "💰日赚600 加V: fuli388 💰💰") >= 0.5
    assert _sim("加群领福利 t.me/fuli3 免费送", "今天天气真不错，我们去公园吧") < 0.2
    # Punctuation, case, full-width and traditional characters fold away.
    assert _sim("免費送福利 T.ME/fuli3 ！！", "免费送福利 t.me/fuli3") == 1.0


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=80))
def test_a_text_is_always_fully_similar_to_itself(text: str) -> None:
    assert _sim(text, text) == 1.0


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=80), st.text(min_size=1, max_size=80))
def test_similarity_is_symmetric_and_bounded(a: str, b: str) -> None:
    assert 0.0 <= _sim(a, b) == _sim(b, a) <= 1.0


@settings(max_examples=100, deadline=None)
@given(
    messages=st.integers(0, 20),
    elapsed=st.integers(0, 100 * 3600),
    max_messages=st.integers(0, 10),
    hours=st.integers(0, 72),
    approved=st.booleans(),
)
def test_probation_ends_when_both_limits_are_past(
    messages: int, elapsed: int, max_messages: int, hours: int, approved: bool
) -> None:
    now = T0 + timedelta(seconds=elapsed)
    on = in_probation(T0, messages, approved, now, max_messages=max_messages, hours=hours)
    assert on == (not approved and (messages < max_messages or elapsed < hours * 3600))


def test_probation_boundaries_exactly() -> None:
    day = timedelta(hours=24)
    assert in_probation(T0, 3, False, T0 + day - timedelta(microseconds=1), max_messages=3, hours=24)
    assert not in_probation(T0, 3, False, T0 + day, max_messages=3, hours=24)
    assert in_probation(T0, 2, False, T0 + 10 * day, max_messages=3, hours=24)


@settings(max_examples=40, deadline=None)
@given(accounts=st.integers(1, 8), needed=st.integers(2, 6), gap=st.integers(0, 1200))
def test_the_window_counts_distinct_accounts_within_its_span(accounts: int, needed: int, gap: int) -> None:
    window = DuplicateWindow()
    mh = sketch(features("加群领福利 t.me/fuli3 免费送", plain_fold))
    span = timedelta(minutes=10)
    verdict = None
    for i in range(accounts):
        verdict = window.observe(
            group_id=1,
            user_id=f"u{i}",
            chat_id="c",
            message_id=f"m{i}",
            at=T0 + timedelta(seconds=gap * i),
            mh=mh,
            window=span,
            threshold=0.5,
        )
    assert verdict is not None
    # Accounts whose copy is still inside the window of the last one, itself included.
    last = gap * (accounts - 1)
    inside = sum(1 for i in range(accounts) if gap * i > last - span.total_seconds())
    assert verdict.accounts == inside


def test_one_account_in_several_groups() -> None:
    window = DuplicateWindow()
    mh = sketch(features("限时福利 t.me/fuli3 速来领取", plain_fold))
    groups = [
        window.observe(
            group_id=g,
            user_id="u1",
            chat_id=f"c{g}",
            message_id="m",
            at=T0,
            mh=mh,
            window=timedelta(minutes=10),
            threshold=0.5,
        ).groups
        for g in (1, 2, 3)
    ]
    assert groups == [1, 2, 3]
