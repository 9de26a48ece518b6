"""The opt-in pinyin view (``moderation.pinyin``): terms of 3+ Chinese characters in pinyin or homophones."""

from __future__ import annotations

from pathlib import Path

import pytest

from handlers.moderation.folding import fold
from handlers.moderation.matcher import Entry, Layer, Level, Matcher
from handlers.moderation.pinyin import pinyin_view, term_pinyin
from tests.harness import Harness
from tests.moderation.helpers import actions, sent_to

TERM = "加微信领红包"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(
        [
            Layer(
                [
                    Entry(TERM, Level.RED, "ads"),
                    Entry("加微信", Level.YELLOW, "ads"),
                    Entry("西安", Level.RED, "custom"),
                    Entry("代开发票", Level.BLUE, "illegal"),
                ]
            )
        ],
        allow=["代开发票的通知"],
    )


def _pinyin_terms(m: Matcher, text: str) -> list[str]:
    return sorted(h.entry.term for h in m.check(text, pinyin=True) if h.pinyin)


def test_view_spells_chinese_characters_and_keeps_latin_letters() -> None:
    assert pinyin_view(fold("加微信")) == "jiaweixin"
    assert pinyin_view(fold("加 Wei 信!")) == "jiaweixin"
    assert pinyin_view(fold("绿色")) == "luse"  # ü loses its dots, as the folding does to a typed ü
    assert term_pinyin("加微信") == "jiaweixin"
    assert term_pinyin("西安") is None  # two characters: never matched through pinyin
    assert term_pinyin("abc") is None


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("jia wei xin ling hong bao", ["加微信", TERM]),
        ("JiaWeiXin", ["加微信"]),
        ("想要 jiaweixin 吗", ["加微信"]),
        ("加wei信", ["加微信"]),
        ("家微信", ["加微信"]),  # homophone
        ("快来 jia weixin, ling hongbao!", ["加微信", TERM]),
        ("dai kai fa piao", ["代开发票"]),
    ],
)
def test_pinyin_and_homophones_match(matcher: Matcher, text: str, terms: list[str]) -> None:
    assert _pinyin_terms(matcher, text) == terms


def test_pinyin_hit_keeps_the_term_level(matcher: Matcher) -> None:
    hits = matcher.check("jia wei xin ling hong bao", pinyin=True)
    assert max(h.level for h in hits) is Level.RED
    top = max(hits, key=lambda h: h.level)
    assert top.entry.term == TERM and (top.start, top.end) == (0, len("jia wei xin ling hong bao"))


@pytest.mark.parametrize(
    "text",
    [
        "xi an",  # 西安 has two characters
        "先",  # xian: 西安's syllables, but one character
        "ninjaweixin",  # the Latin run starts before "jia"
        "jiaweixinx",  # …or ends after "xin"
        "jiaweixing",
        "代开发票的通知",  # allow-listed
    ],
)
def test_false_positive_traps(matcher: Matcher, text: str) -> None:
    assert _pinyin_terms(matcher, text) == []


def test_pinyin_does_not_undo_a_segmentation_veto() -> None:
    m = Matcher([Layer([Entry("色情况", Level.RED)])])
    assert m.check("颜色情况不错") == []
    assert m.check("颜色情况不错", pinyin=True) == []
    assert _pinyin_terms(m, "se qing kuang") == ["色情况"]


def test_half_a_syllable_is_not_a_hit() -> None:
    # 西安市 reads xi an shi; 先 reads xian: the term's syllables must line up with characters.
    m = Matcher([Layer([Entry("安市场", Level.RED)])])
    assert term_pinyin("安市场") == "anshichang"
    assert _pinyin_terms(m, "先市场") == []  # xian|shi|chang: "an" is half of 先
    assert _pinyin_terms(m, "暗示场") == ["安市场"]


def test_off_by_default_changes_nothing(matcher: Matcher) -> None:
    assert matcher.check("jia wei xin ling hong bao") == []
    assert matcher.check("家微信") == []
    assert [h.entry.term for h in matcher.check("加微信")] == ["加微信"]
    assert not any(h.pinyin for h in matcher.check("加微信", pinyin=True))


async def test_setting_turns_pinyin_matching_on_end_to_end(tmp_path: Path) -> None:
    message = "jia wei xin ling hong bao"
    async with Harness(tmp_path) as h:
        await h.say("demo", "max", f"/kw add red {TERM} ads", role="moderator")
        off = await h.say("demo", "bob", message)
        assert actions(off, "delete") == [] and actions(off, "mute") == []
        await h.say("demo", "max", "/set moderation.pinyin on", role="moderator")
        on = await h.say("demo", "bob", message)
        assert len(actions(on, "delete")) == 1
        (mute,) = actions(on, "mute")
        assert mute["user"] == "bob"
        (public,) = sent_to(on, "demo")
        assert "@bob" in public and TERM not in public and "jia" not in public


# -- issue 16: every reading, ü typed as v, the homophone guard, /kw test's view ----------


def test_polyphonic_characters_match_in_every_reading() -> None:
    m = Matcher([Layer([Entry("流血事件", Level.YELLOW, "abuse")])])
    assert _pinyin_terms(m, "liu xie shi jian 发生了") == ["流血事件"]
    assert _pinyin_terms(m, "liu xue shi jian 发生了") == ["流血事件"]


@pytest.mark.parametrize("typed", ["ri ben nv you", "ri ben nu you", "ri ben nü you", "日本nv优"])
def test_u_umlaut_typed_as_v_u_or_u_umlaut(typed: str) -> None:
    m = Matcher([Layer([Entry("日本女优", Level.YELLOW, "porn")])])
    assert _pinyin_terms(m, typed + " 合集") == ["日本女优"]


def test_a_homophone_made_of_everyday_words_counts_one_level_lower() -> None:
    m = Matcher([Layer([Entry("打飞机", Level.RED, "porn")])])
    (hit,) = m.check("周末我们搭飞机去上海", pinyin=True)
    assert hit.pinyin and hit.downgraded and hit.level is Level.YELLOW
    (typed,) = m.check("周末 da fei ji 吗", pinyin=True)
    assert typed.level is Level.RED and not typed.downgraded
    report = m.explain("周末我们搭飞机去上海", pinyin=True)
    assert [(c.view, c.lowered) for c in report.candidates] == [("pinyin", True)]


async def test_kw_test_shows_the_pinyin_view_and_which_view_matched(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "bob", "hi")
        await h.say("demo", "max", "hello", role="moderator")
        await h.say("demo", "max", "/set moderation.pinyin on")
        await h.say("demo", "max", "/kw add red 加微信领红包 ads")
        out = await h.say("demo", "max", "/kw test jia wei xin ling hong bao")
        (report,) = sent_to(out, "demo-mods")
        assert "拼音视图：jiaweixinlinghongbao" in report and "［拼音匹配］" in report
