"""Discord markdown rendering and the 2000-character split (pure functions, no client)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.discord.render import MAX_CONTENT, escape, mentioned_ids, render, render_chunks
from bot.events import UserRef
from bot.messages import Bold, Link, Mention, Text

_ESCAPED = re.compile(r"\\(.)", re.S)


def unescape(text: str) -> str:
    return _ESCAPED.sub(r"\1", text).replace("@\u200b", "@")


def test_markdown_and_mass_pings_in_member_text_are_defused() -> None:
    assert escape("**bold** _it_ `code` ~~s~~ ||spoiler|| @everyone @here") == (
        "\\*\\*bold\\*\\* \\_it\\_ \\`code\\` \\~\\~s\\~\\~ \\|\\|spoiler\\|\\| @\u200beveryone @\u200bhere"
    )


def test_parts_render_as_discord_markup() -> None:
    alice = UserRef("discord", "200000000000000001", "alice")
    out = render(
        (
            Text("hi "),
            Mention(alice),
            Text(", "),
            Bold("a*b"),
            Text(" "),
            Link("the [rules]", "https://example.com/r(1)"),
        )
    )
    assert out == "hi <@200000000000000001>, **a\\*b** [the \\[rules\\]](https://example.com/r(1%29)"
    assert render((Link("https://example.com", "https://example.com"),)) == "<https://example.com>"


def test_short_text_is_one_chunk_and_empty_text_is_one_empty_chunk() -> None:
    assert render_chunks((Text("hello"),)) == ["hello"]
    assert render_chunks(()) == [""]


def test_cuts_prefer_line_breaks() -> None:
    lines = ["x" * 1500, "y" * 1500]
    assert render_chunks((Text("\n".join(lines)),)) == lines


def test_a_long_bold_run_stays_bold_in_every_chunk() -> None:
    chunks = render_chunks((Bold("z" * 4500),))
    assert len(chunks) == 3
    assert all(c.startswith("**") and c.endswith("**") and len(c) <= MAX_CONTENT for c in chunks)


def test_mentioned_ids_in_raw_text() -> None:
    assert mentioned_ids("<@1234567890123456> and <@!1234567890123456> and <@&99999999999999999>") == [
        "1234567890123456"
    ]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.text(alphabet=st.sampled_from("ab_*`~|\\>#-@ \n群友"), max_size=900), min_size=1, max_size=8)
)
def test_split_respects_the_limit_and_loses_nothing(texts: list[str]) -> None:
    parts = tuple(Text(t) for t in texts)
    chunks = render_chunks(parts, limit=300)
    assert all(len(c) <= 300 for c in chunks)
    # a cut never strands a backslash from the character it escapes
    assert all(not re.search(r"(?<!\\)(\\\\)*\\$", c) for c in chunks)
    original = "".join(texts)
    rebuilt = "".join(unescape(c) for c in chunks)
    # only the line breaks a cut falls on may go, and blank chunks are dropped
    assert rebuilt.replace("\n", "").replace(" ", "") == original.replace("\n", "").replace(" ", "")


def test_localized_slash_names_and_descriptions_fit_discord_rules() -> None:
    """Discord rejects the whole sync when one localized name breaks its rules; catch it here,
    for the slash commands generated from the real command table."""
    from adapters.discord.commands import slash_specs
    from bot.i18n import LANGUAGES, I18n
    from tests.fakes.host import RecordingHost, core_commands

    i18n = I18n.load()
    specs = slash_specs(RecordingHost(core_commands()))
    member_commands = {
        "checkin",
        "me",
        "points",
        "rank",
        "badges",
        "topic",
        "events",
        "join",
        "report",
        "help",
    }
    assert member_commands <= {s.name for s in specs}
    assert len(specs) <= 100
    for lang in LANGUAGES:
        for spec in specs:
            local = spec.names[lang]
            assert 1 <= len(local) <= 32 and local == local.lower(), (lang, local)
            assert all(ch.isalnum() or ch in "-_" for ch in local), (lang, local)
            assert 1 <= len(spec.descriptions[lang]) <= 100, (lang, spec.name)
        option = i18n.t(lang, "discord.args_name")
        assert option == option.lower() and all(ch.isalnum() or ch in "-_" for ch in option)
        assert 1 <= len(i18n.t(lang, "discord.menu.report")) <= 32
