"""Rendering outgoing messages as Telegram HTML: escaping and splitting to the length limit."""

from __future__ import annotations

import html
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.telegram.render import TEXT_LIMIT, render_chunks, render_html, visible_length
from bot.events import UserRef
from bot.messages import Bold, Link, Mention, Part, Text

_TAG = re.compile(r"<[^>]+>")


def _visible(markup: str) -> str:
    return html.unescape(_TAG.sub("", markup))


def test_user_text_cannot_inject_markup() -> None:
    evil = UserRef("telegram", "5", '</a><a href="https://evil">x', username=None)
    markup = render_html((Text("<i>hi</i> & "), Mention(evil)))
    assert (
        markup
        == '&lt;i&gt;hi&lt;/i&gt; &amp; <a href="tg://user?id=5">&lt;/a&gt;&lt;a href="https://evil"&gt;x</a>'
    )


def test_mention_without_numeric_id_degrades_to_plain_name() -> None:
    ghost = UserRef("telegram", "@someone", "Some <one>")
    assert render_html((Mention(ghost),)) == "Some &lt;one&gt;"


def test_a_chat_speaking_as_itself_is_named_not_linked() -> None:
    channel = UserRef("telegram", "-1001234", "News & more")
    assert render_html((Mention(channel),)) == "News &amp; more"


def test_bold_across_lines_stays_balanced() -> None:
    assert render_html((Bold("a\nb"),)) == "<b>a</b>\n<b>b</b>"


def test_single_huge_line_is_hard_split_without_breaking_emoji() -> None:
    text = "😀" * 3000  # 6,000 UTF-16 units on one line
    chunks = render_chunks((Text(text),))
    assert [visible_length(c) for c in chunks] == [4096, 1904]
    assert "".join(chunks) == text


def test_mentions_are_never_cut() -> None:
    bob = UserRef("telegram", "102", "Bob")
    parts: list[Part] = [Text("x" * 4094), Mention(bob), Text(" end")]
    chunks = render_chunks(parts)
    assert chunks == ["x" * 4094, '<a href="tg://user?id=102">Bob</a> end']


parts_strategy = st.lists(
    st.one_of(
        st.builds(Text, st.text(alphabet=st.sampled_from("ab<&\n签😀 "), max_size=3000)),
        st.builds(Bold, st.text(alphabet=st.sampled_from("cd>\n "), max_size=500)),
        st.builds(Link, st.text(alphabet="lk", min_size=1, max_size=20), st.just("https://x.org/?a=1&b=2")),
    ),
    max_size=8,
)


@settings(max_examples=60, deadline=None)
@given(parts_strategy, st.sampled_from([50, 1024, TEXT_LIMIT]))
def test_every_chunk_fits_and_nothing_is_lost(parts: list[Part], limit: int) -> None:
    chunks = render_chunks(parts, limit)
    for chunk in chunks:
        assert visible_length(_visible(chunk)) <= limit
        assert chunk.count("<b>") == chunk.count("</b>")
        assert chunk.count("<a ") == chunk.count("</a>")
    original = _visible(render_html(parts))
    joined = "".join(_visible(c) for c in chunks)
    # Only whitespace may disappear: line breaks at the cuts, and chunks that would be nothing
    # but blanks (Telegram refuses to send an empty message).
    assert "".join(joined.split()) == "".join(original.split())


def test_spaces_inside_a_chunk_are_kept() -> None:
    assert render_chunks((Text("a  b\n  c "),), 50) == ["a  b\n  c "]
