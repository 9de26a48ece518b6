"""Issue 16: terms that are everyday words (系统, 管理, "system") count one level lower when
nothing else in the message matches; the fast paths of the matcher agree with the slow ones."""

from __future__ import annotations

import random
from pathlib import Path

from handlers.moderation.evaluate import evaluate
from handlers.moderation.folding import fold, folds_as_written
from handlers.moderation.frequency import is_everyday_term
from handlers.moderation.lint import lint_entries
from handlers.moderation.matcher import Entry, Layer, Level, Matcher
from handlers.moderation.segment import SEGMENTER, WindowCache
from tests.harness import Harness, texts
from tests.moderation.helpers import actions, sent_to


def _matcher(*entries: Entry) -> Matcher:
    layer = Layer(entries)
    SEGMENTER.set_words("test-everyday", layer.cjk_words())
    return Matcher([layer])


def _levels(matcher: Matcher, text: str, **kw: bool) -> dict[str, Level]:
    return {h.entry.term: h.level for h in matcher.check(text, **kw)}


def test_which_terms_are_everyday_words() -> None:
    assert is_everyday_term("系统", "custom")
    assert is_everyday_term("system", "custom")
    assert not is_everyday_term("代开发票", "ads")
    assert not is_everyday_term("百家乐", "gambling")
    # Profanity is frequent because people swear: the abuse category keeps its level.
    assert not is_everyday_term("fuck", "abuse")


def test_an_everyday_word_alone_counts_one_level_lower() -> None:
    matcher = _matcher(Entry("系统", Level.YELLOW), Entry("代开发票", Level.YELLOW, "ads"))
    assert _levels(matcher, "系统更新以后好用多了") == {"系统": Level.BLUE}
    # Next to another term it is part of the evidence and keeps its level.
    assert _levels(matcher, "系统通知：代开发票请加我") == {"系统": Level.YELLOW, "代开发票": Level.YELLOW}
    # The operator's switch (moderation.everyday_guard off) keeps every term at its level.
    assert _levels(matcher, "系统更新以后好用多了", everyday=False) == {"系统": Level.YELLOW}


def test_red_everyday_words_drop_to_yellow_and_abuse_terms_keep_their_level() -> None:
    matcher = _matcher(Entry("system", Level.RED), Entry("fuck", Level.YELLOW, "abuse"))
    assert _levels(matcher, "the system is down") == {"system": Level.YELLOW}
    assert _levels(matcher, "fuck this") == {"fuck": Level.YELLOW}


def test_kw_test_explains_the_lowering() -> None:
    report = _matcher(Entry("系统", Level.YELLOW)).explain("系统更新以后好用多了")
    assert [(c.entry.term, c.rejected, c.everyday) for c in report.candidates] == [("系统", None, True)]
    assert report.level is Level.BLUE


def test_eval_counts_deleted_lines_apart_from_any_hit() -> None:
    matcher = _matcher(Entry("系统", Level.YELLOW), Entry("代开发票", Level.YELLOW, "ads"))
    texts = ["系统更新以后好用多了", "代开发票请加我", "今天天气不错"]
    result = evaluate(matcher, texts)
    assert (result.flagged, result.acted) == (2, 1)
    assert evaluate(matcher, texts, everyday=False).acted == 2


def test_lint_names_everyday_words_and_common_abuse_terms_apart() -> None:
    issues = lint_entries(
        [
            (1, Entry("系统", Level.YELLOW)),
            (2, Entry("fuck", Level.YELLOW, "abuse")),
            (3, Entry("代开发票", Level.YELLOW)),
        ]
    )
    assert [(i.line, i.code) for i in issues] == [(1, "everyday"), (2, "too_common")]


def test_the_fast_segmentation_agrees_with_jieba() -> None:
    SEGMENTER.set_words("test-everyday", ["系统", "白粉", "色情"])
    rng = random.Random(16)
    texts = [
        "颜色情况很好看",
        "老师拿着白粉笔写字",
        "操作系统更新以后好用多了",
        "我们在研究生命的起源",
        "南京市长江大桥欢迎你",
        "这家店的发票还没寄来，客服说明天",
    ]
    for text in texts:
        folded = fold(text)
        assert SEGMENTER.boundaries(folded) == SEGMENTER.boundaries_jieba(folded)
        for _ in range(20):
            a = rng.randrange(len(folded) - 1)
            b = min(len(folded), a + rng.randint(1, 4))
            lo, hi = max(0, a - 8), min(len(folded), b + 8)
            cuts = SEGMENTER.boundaries_jieba(folded[lo:hi])
            expected = (a - lo) in cuts and (b - lo) in cuts
            assert WindowCache(SEGMENTER, folded, [(a, b)]).on_boundaries(a, b) is expected, (text, a, b)


def test_folds_as_written() -> None:
    assert folds_as_written("商家的发票还没寄来，ＯＫ！ Free money")
    assert not folds_as_written("要發票的找我")
    assert not folds_as_written("fück")
    assert not folds_as_written("㈠ 开始")


def test_the_guard_fast_path_rejects_exactly_what_the_slow_path_does() -> None:
    matcher = _matcher(Entry("幹", Level.YELLOW), Entry("發票", Level.YELLOW))
    for text, expected in (
        ("下雨了衣服都不干", []),
        ("衣服都不幹", ["幹"]),
        ("商家的发票还没寄来", []),
        ("要發票的找我", ["發票"]),
        ("衣服不干，要發票", ["發票"]),
    ):
        assert sorted(h.entry.term for h in matcher.check(text)) == expected, text
        assert sorted(h.entry.term for h in matcher.explain(text).hits) == expected, text


async def test_everyday_words_through_the_console(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "bob", "hi")
        await h.say("demo", "max", "hello", role="moderator")
        await h.say("demo", "max", "/kw add yellow 系统")
        await h.say("demo", "max", "/kw add yellow 代开发票 ads")
        assert actions(await h.say("demo", "bob", "系统更新以后好用多了"), "delete") == []
        assert actions(await h.say("demo", "bob", "系统通知：代开发票请加我"), "delete")
        info = sent_to(await h.say("demo", "max", "/kw info 系统"), "demo-mods")[0]
        assert "日常常用词" in info and "moderation.everyday_guard" in info
        tested = sent_to(await h.say("demo", "max", "/kw test 系统更新以后好用多了"), "demo-mods")[0]
        assert "降一级计：日常常用词" in tested
        await h.say("demo", "max", "/set moderation.everyday_guard off")
        assert actions(await h.say("demo", "bob", "系统更新以后好用多了"), "delete")
        (answer,) = texts(
            await h.say("demo", "max", "/set moderation.everyday_guard maybe", role="moderator")
        )
        assert answer.split("\n")[0] == "“moderation.everyday_guard” 的值不对，可以是：on / off"
