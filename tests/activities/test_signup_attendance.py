"""Attendance from a sign-up list (接龙): the organiser marks who came, by their numbers on the
list, and each gets the activity's attendance points once, as ``/here`` gives them at a
planned activity. Through the console harness, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.activities.test_signup import _setup, _start, public
from tests.harness import Harness, texts

Record = dict[str, Any]


async def _balance(h: Harness, who: str) -> int:
    out = texts(await h.say("demo", who, "/points"))
    found = re.search(r"(\d+)", out[0])
    assert found is not None, out
    return int(found.group(1))


async def test_the_organiser_marks_the_list_and_points_are_given_once(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "ann", "bob", "cat", "dan")
        card = await _start(h, "接龙 周六羽毛球 limit 2")
        for who in ("ann", "bob", "cat"):  # cat is on the waiting list
            await h.say("demo", who, "+1", reply_to=card["id"])
        before = {who: await _balance(h, who) for who in ("ann", "bob", "cat")}
        # A member cannot mark a list, nor check in to it with /here: its organiser marks it.
        refused = texts(await h.say("demo", "ann", "/signup here 1"))
        assert refused == ["只有发起人和管理员可以结束、导出接龙 #1 或标记到场。"]
        self_here = texts(await h.say("demo", "ann", "/here 1"))
        assert self_here[0].split("\n")[0] == "#1 是接龙：由发起人用 /signup here 1 标记到场。"
        # Bad numbers: a clear answer, nobody marked.
        for bad in ("/signup here 1 3", "/signup here 1 0", "/signup here 1 x"):
            answer = texts(await h.say("demo", "max", bad))
            assert answer[0].startswith("“") and "不是接龙 #1 名单上的序号：请写 1 到 2 的数字" in answer[0]
        assert texts(await h.say("demo", "max", "/signup here 9")) == ["没有编号为 9 的接龙。"]
        marked = texts(await h.say("demo", "max", "/signup here 1 2"))
        assert marked == ["接龙 #1 周六羽毛球：1 人已标记到场，每人 +20 积分。bob"]
        everyone = texts(await h.say("demo", "max", "/接龙 到场 1"))
        assert everyone == [
            "接龙 #1 周六羽毛球：1 人已标记到场，每人 +20 积分。ann\n另有 1 人之前已标记（积分不重复发放）。"
        ]
        again = texts(await h.say("demo", "max", "/signup here 1"))
        assert again == ["接龙 #1 周六羽毛球：0 人已标记到场。\n另有 2 人之前已标记（积分不重复发放）。"]
        after = {who: await _balance(h, who) for who in ("ann", "bob", "cat")}
        assert {w: after[w] - before[w] for w in after} == {"ann": 20, "bob": 20, "cat": 0}


async def test_an_empty_list_and_a_closed_one(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "ann")
        await _start(h, "/signup 聚餐")
        assert texts(await h.say("demo", "max", "/signup here 1")) == ["接龙 #1 还没有人报名，无人可标记。"]
        card = await _start(h, "/signup 爬山")
        await h.say("demo", "ann", "+1", reply_to=card["id"])
        await h.say("demo", "max", "/signup close 2")
        # A closed list is still marked (people come after the deadline, not before).
        out = await h.say("demo", "max", "/signup here 2 1")
        assert texts(out) == ["接龙 #2 爬山：1 人已标记到场，每人 +20 积分。ann"]
        assert len(public(out)) == 1
