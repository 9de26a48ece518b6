"""Polls through the console harness, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bot.adapter import Capability
from tests.harness import Harness, texts

Record = dict[str, Any]


def of(records: list[Record], action: str) -> list[Record]:
    """Records of one action."""
    return [r for r in records if r["action"] == action]


def public(records: list[Record], chat: str = "demo") -> list[Record]:
    """Messages posted in a group chat."""
    return [r for r in of(records, "send") if r.get("chat") == chat]


def private(records: list[Record], user: str) -> list[str]:
    """Texts sent privately to one member."""
    return [r["text"] for r in of(records, "send") if r.get("user") == user]


async def _setup(h: Harness, *people: str) -> None:
    await h.say("demo", "max", "hello", role="moderator")
    for name in people:
        await h.say("demo", name, "hi")


async def _ask(h: Harness, text: str, user: str = "max") -> Record:
    out = await h.say("demo", user, text)
    posts = [r for r in public(out) if r.get("buttons")]
    assert len(posts) == 1, out
    return posts[0]


async def test_single_choice_votes_change_and_close_by_themselves(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "alice", "bob", "carol")
        card = await _ask(h, "/poll for 1h 周六哪天有空？| 6号 | 13号 | 20号", user="alice")
        assert [[b["data"] for b in row] for row in card["buttons"]] == [
            ["pl:v:1:1"],
            ["pl:v:1:2"],
            ["pl:v:1:3"],
        ]
        assert "单选" in card["text"] and "10:00 截止" in card["text"]
        out = await h.press("demo", "alice", card["id"], "pl:v:1:1")
        assert private(out, "alice") == ["你在投票 #1 中选了：6号。"] and public(out) == []
        await h.press("demo", "bob", card["id"], "pl:v:1:2")
        out = await h.press("demo", "alice", card["id"], "pl:v:1:2")
        assert private(out, "alice") == ["你在投票 #1 中改投了：13号。"]
        out = await h.press("demo", "alice", card["id"], "pl:v:1:2")
        assert private(out, "alice") == ["你在投票 #1 中已经选了 13号。"]
        edits = of(await h.advance(6), "edit")
        assert len(edits) == 1 and "2. 13号  ██████████ 2 票（100%）" in edits[0]["text"]
        now = texts(await h.say("demo", "carol", "/poll results"))[0]
        assert "（目前结果）" in now and "alice、bob" in now and "1. 6号  ░░░░░░░░░░ 0 票（0%）" in now
        closed = await h.advance(3600)
        final = [r["text"] for r in public(closed) if "最终结果" in r["text"]]
        assert len(final) == 1 and "👥 2 人已投票" in final[0]
        assert [e for e in of(closed, "edit") if "投票已结束" in e["text"] and not e.get("buttons")]
        late = await h.press("demo", "carol", card["id"], "pl:v:1:3")
        assert private(late, "carol") == ["投票 #1 已经结束。"]
        assert "👥 2 人已投票" in texts(await h.say("demo", "carol", "/poll results 1"))[0]
        await h.restart()
        assert [r for r in public(await h.advance(7200)) if "投票" in r["text"]] == []


async def test_multi_anonymous_poll_hides_voters_from_everyone(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "alice", "bob")
        card = await _ask(h, "/poll 多选 匿名 吃什么 | 面 | 饭 | 粥")
        assert "多选 · 匿名" in card["text"]
        await h.press("demo", "alice", card["id"], "pl:v:1:1")
        await h.press("demo", "alice", card["id"], "pl:v:1:2")
        await h.press("demo", "bob", card["id"], "pl:v:1:2")
        out = await h.press("demo", "alice", card["id"], "pl:v:1:1")
        assert private(out, "alice") == ["你在投票 #1 中取消了：面。"]
        for user in ("alice", "max"):
            result = texts(await h.say("demo", user, "/poll results 1"))[0]
            assert "2. 饭  ██████████ 2 票（100%）" in result
            assert "alice" not in result and "bob" not in result
        # Only the asker or a moderator closes it.
        assert texts(await h.say("demo", "bob", "/poll close")) == ["抱歉，这个命令只有管理员可以使用。"]
        closed = await h.say("demo", "max", "/poll close")
        assert [t for t in texts(closed) if "最终结果" in t and "alice" not in t]
        assert texts(await h.say("demo", "max", "/poll close 1")) == ["投票 #1 已经结束了。"]


async def test_concurrent_votes_count_once(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        people = [f"v{i}" for i in range(10)]
        await _setup(h, *people)
        card = await _ask(h, "/poll 哪个 | A | B")
        tasks = [
            h.adapter.button("demo", p, card["id"], f"pl:v:1:{1 + (i + k) % 2}")
            for i, p in enumerate(people)
            for k in range(3)
        ]
        await asyncio.gather(*(t for t in tasks if t is not None))
        assert h.app.dispatcher is not None
        await h.app.dispatcher.drain()
        h.adapter.take()
        result = texts(await h.say("demo", "max", "/poll results"))[0]
        assert "👥 10 人已投票" in result
        a = int(result.split("1. A")[1].split(" 票")[0].split()[-1])
        b = int(result.split("2. B")[1].split(" 票")[0].split()[-1])
        assert a + b == 10  # one vote each, whichever press came last


async def test_numbered_replies_vote_where_there_are_no_buttons(tmp_path: Path) -> None:
    caps = frozenset(c for c in Capability if c is not Capability.BUTTONS)
    async with Harness(tmp_path, capabilities=caps) as h:
        await _setup(h, "alice")
        out = await h.say("demo", "max", "/poll 哪个 | A | B")
        post = public(out)[0]
        assert "/poll vote 1 2" in post["text"] and not post.get("buttons")
        vote = await h.say("demo", "alice", "2", reply_to=post["id"])
        assert private(vote, "alice") == ["你在投票 #1 中选了：B。"]
        typed = await h.say("demo", "alice", "/poll vote 1 1")
        assert private(typed, "alice") == ["你在投票 #1 中改投了：A。"]


BAD = [
    ("/poll", "用法："),
    ("/poll 只有问题", "投票需要 2 到 10 个选项，现在有 0 个。"),
    ("/poll 问题 | 一个", "投票需要 2 到 10 个选项，现在有 1 个。"),
    ("/poll 问题 " + "| x" * 3, "有两个选项是一样的。"),
    ("/poll 问题 " + "".join(f"| o{i}" for i in range(11)), "现在有 11 个。"),
    ("/poll | A | B", "请在第一个 | 前面写上问题。"),
    ("/poll 问题 | A || B", "有一个选项是空的"),
    ("/poll 问题 | A | a", "有两个选项是一样的。"),
    ("/poll 问题 | A | " + "长" * 200, "太长了，最多 100 个字。"),
    ("/poll " + "问" * 400 + " | A | B", "问题有 400 个字，最多 300 个。"),
    ("/poll for 0m 问题 | A | B", "看不懂时长"),
    ("/poll for 100d 问题 | A | B", "投票时长要在 1 分钟到 90 天之间。"),
    ("/poll for 400d 问题 | A | B", "太长了，最长一年。"),
    ("/poll results 42", "这里没有编号为 #42 的投票。"),
    ("/poll vote 42 1", "这里没有编号为 #42 的投票。"),
    ("/poll vote 1 11", "11 太大了，最大是 10。"),
]


async def test_bad_input_and_forged_buttons(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "alice")
        assert texts(await h.say("demo", "alice", "/poll results")) == [
            "本群还没有投票。\n" + texts(await h.say("demo", "alice", "/poll"))[0]
        ]
        for text, reply in BAD:
            answer = "\n".join(texts(await h.say("demo", "alice", text)))
            assert reply in answer, (text, answer)
        card = await _ask(h, "/poll 问题 | A | B")
        assert "这个投票的选项是 1 到 2。" in texts(await h.say("demo", "alice", "/poll vote 1 3"))[0]
        for data in (
            "pl:v:1:3",
            "pl:v:1:0",
            "pl:v:1:x",
            "pl:x:1:1",
            "pl:v:1",
            "pl:v:1:1:1",
            "pl:" + "9" * 5000,
        ):
            out = await h.press("demo", "alice", card["id"], data)
            assert of(out, "send") == [] and of(out, "edit") == [], data
        stale = await h.press("demo", "alice", card["id"], "pl:v:77:1")
        assert private(stale, "alice") == ["这里没有编号为 #77 的投票。"] and public(stale) == []
        assert "👥 0 人已投票" in texts(await h.say("demo", "alice", "/poll results"))[0]


async def test_numbered_replies_to_the_post_vote(tmp_path: Path, db_url: str) -> None:
    """``2`` or ``1 3`` as a reply to the poll's post (how WeChat/QQ groups vote): the member's
    whole choice; out of range, several numbers on a single-choice poll, or a closed poll get a
    clear answer; other replies are ordinary chat."""
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "alice", "bob")
        single = await _ask(h, "/poll 周六哪天有空？| 6号 | 13号 | 20号")
        out = await h.say("demo", "alice", "２", reply_to=single["id"])  # full-width digit
        assert private(out, "alice") == ["你在投票 #1 中选了：13号。"]
        out = await h.say("demo", "alice", "1 3", reply_to=single["id"])
        assert private(out, "alice") == [
            "投票 #1：请回复 1 到 3 之间的选项编号（多选投票才能回复多个编号）。"
        ]
        out = await h.say("demo", "bob", "4", reply_to=single["id"])
        assert private(out, "bob")[0].startswith("投票 #1：请回复 1 到 3")
        assert private(await h.say("demo", "bob", "2 号可以", reply_to=single["id"]), "bob") == []
        multi = await _ask(h, "/poll multi 想玩什么？| 羽毛球 | 爬山 | 桌游")
        out = await h.say("demo", "bob", "1，3", reply_to=multi["id"])
        assert private(out, "bob") == ["你在投票 #2 中选了：羽毛球、桌游。"]
        await h.advance(6)
        results = texts(await h.say("demo", "max", "/poll results 2"))[0]
        assert "羽毛球" in results and "桌游" in results
        await h.say("demo", "max", "/poll close 1")
        out = await h.say("demo", "bob", "1", reply_to=single["id"])
        assert private(out, "bob") == ["投票 #1 已经结束。"]
