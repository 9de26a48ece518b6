"""Issue 16 through the console: /kw info, /kw test with the fold guard, bad input."""

from __future__ import annotations

from pathlib import Path

from tests.harness import Harness
from tests.moderation.helpers import actions, sent_to


async def _setup(h: Harness) -> None:
    await h.say("demo", "bob", "hi")
    await h.say("demo", "max", "hello", role="moderator")


async def test_a_traditional_term_does_not_flag_the_common_word_and_kw_info_says_why(
    tmp_path: Path,
) -> None:
    async with Harness(tmp_path) as h:
        await _setup(h)
        await h.say("demo", "max", "/kw add yellow 發票 ads")
        assert actions(await h.say("demo", "bob", "商家的发票还没寄来"), "delete") == []
        assert actions(await h.say("demo", "bob", "要發票的找我"), "delete")
        info = sent_to(await h.say("demo", "max", "/kw info 發票"), "demo-mods")[0]
        assert "本群词库" in info and "只按原写法匹配（發票）" in info and "“发票”" in info
        tested = sent_to(await h.say("demo", "max", "/kw test 商家的发票还没寄来"), "demo-mods")[0]
        assert "变体写法" in tested and "结果：不违规" in tested


async def test_kw_info_in_private_reads_the_global_lexicon(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        out = await h.dm("zoe", "/kw info 百家乐")
        (text,) = [r["text"] for r in out if r["action"] == "send"]
        assert "全局词库" in text and "百家乐" in text and "严重" in text
        out = await h.dm("zoe", "/kw info 完全没有的词")
        (text,) = [r["text"] for r in out if r["action"] == "send"]
        assert "词库中没有这个词" in text


async def test_kw_info_bad_input(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await _setup(h)
        out = await h.say("demo", "max", "/kw info")
        assert "用法" in sent_to(out, "demo")[0]
        out = await h.say("demo", "max", "/kw info !!!")
        assert "什么都不剩" in sent_to(out, "demo")[0]
        out = await h.say("demo", "max", "/kw info " + "𝕏" * 5000)
        assert "词库中没有这个词" in sent_to(out, "demo-mods")[0]
