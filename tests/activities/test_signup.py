"""Sign-up lists (接龙) through the console harness, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.capability import ALL_CAPABILITIES, Capability
from tests.harness import Harness, texts

Record = dict[str, Any]
TITLE_LONG = "标题最多 100 个字，这个有 101 个字。"


def of(records: list[Record], action: str) -> list[Record]:
    """Records of one action."""
    return [r for r in records if r["action"] == action]


def public(records: list[Record], chat: str = "demo") -> list[Record]:
    """Messages posted in a group chat."""
    return [r for r in of(records, "send") if r.get("chat") == chat]


def private(records: list[Record], user: str) -> list[str]:
    """Texts sent privately to one member."""
    return [r["text"] for r in of(records, "send") if r.get("user") == user]


def lists(records: list[Record]) -> list[Record]:
    """Public posts and edits that are the list itself (not badges or other features' posts)."""
    return [r for r in records if r["action"] in ("send", "edit") and "📋 接龙" in r.get("text", "")]


async def first_lines(h: Harness, text: str) -> list[str]:
    """The first line of each answer (a bad argument is followed by the usage line)."""
    return [t.split("\n", 1)[0] for t in texts(await h.say("demo", "ann", text))]


async def _setup(h: Harness, *people: str) -> None:
    await h.say("demo", "max", "hello", role="moderator")
    for name in people:
        await h.say("demo", name, "hi")
    h.adapter.take()


async def _start(h: Harness, text: str) -> Record:
    out = await h.say("demo", "max", text)
    posts = [r for r in public(out) if r.get("buttons")]
    assert len(posts) == 1, out
    return posts[0]


async def test_join_leave_waitlist_and_one_final_post(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "ann", "bob", "cat", "dan")
        card = await _start(h, "接龙 周六羽毛球 limit 2 until 明天 20:00")
        assert card["buttons"] == [
            [{"text": "+1 接龙", "data": "sg:join:1"}, {"text": "-1 退出", "data": "sg:leave:1"}]
        ]
        assert "📋 接龙 #1：周六羽毛球" in card["text"] and "已接龙 0/2 人" in card["text"]
        assert "截止：2026-03-03 20:00" in card["text"]
        burst = await h.say("demo", "ann", "+1 带球拍", reply_to=card["id"])
        assert private(burst, "ann") == ["你已加入接龙 #1 周六羽毛球。"] and public(burst) == []
        burst += await h.press("demo", "bob", card["id"], "sg:join:1")
        waiting = await h.say("demo", "cat", "接龙 晚点到", reply_to=card["id"])
        assert private(waiting, "cat") == [
            "接龙 #1 周六羽毛球 名额已满，你排在候补第 1 位；有人退出时会私信告诉你。"
        ]
        # Within the interval after the post, no edit yet; then exactly one with all three.
        assert of(burst + waiting, "edit") == []
        edits = of(await h.advance(6), "edit")
        assert len(edits) == 1 and edits[0]["id"] == card["id"]
        assert "1. ann（带球拍）\n2. bob\n候补 1 人：\n1. cat（晚点到）" in edits[0]["text"]
        assert of(await h.advance(60), "edit") == []  # nothing changed: no edit
        # ann leaves: cat moves up and is told privately.
        left = await h.say("demo", "ann", "-1", reply_to=card["id"])
        assert private(left, "ann") == ["你已退出接龙 #1 周六羽毛球。"]
        assert private(left, "cat") == ["有人退出了接龙 #1 周六羽毛球：你已从候补转为正式名单！"]
        edits = of(left, "edit")
        assert (
            len(edits) == 1
            and "1. bob\n2. cat（晚点到）" in edits[0]["text"]
            and "候补" not in edits[0]["text"]
        )
        not_in = await h.say("demo", "dan", "-1", reply_to=card["id"])
        assert private(not_in, "dan") == ["你还没有加入接龙 #1。"]
        # At the deadline: the post loses its buttons and one final post goes out.
        closed = await h.advance(to="2026-03-03T20:00:01+08:00")
        final = [r["text"] for r in public(closed) if "已截止" in r["text"]]
        assert final == ["⏰ 接龙 #1 周六羽毛球 已截止：共 2 人。\n已接龙 2/2 人\n1. bob\n2. cat（晚点到）"]
        edits = of(closed, "edit")
        assert len(edits) == 1 and "（已截止）" in edits[0]["text"] and not edits[0].get("buttons")
        late = await h.press("demo", "dan", card["id"], "sg:join:1")
        assert private(late, "dan") == ["接龙 #1 已经结束了。"] and public(late) == []
        late = await h.say("demo", "dan", "+1", reply_to=card["id"])
        assert private(late, "dan") == ["接龙 #1 已经结束了。"] and of(late, "edit") == []
        assert lists(await h.advance(3 * 86400)) == []


async def test_duplicate_plus_one_counts_once_and_updates_the_note(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "ann")
        card = await _start(h, "/signup 聚餐")
        await h.say("demo", "ann", "+1", reply_to=card["id"])
        await h.advance(6)
        again = await h.say("demo", "ann", "＋1", reply_to=card["id"])
        assert private(again, "ann") == ["你已经在接龙 #1 里了（有备注时已更新备注）。"]
        assert of(again + await h.advance(6), "edit") == []  # nothing changed: no edit
        noted = await h.say("demo", "ann", "+1 不吃辣", reply_to=card["id"])
        edits = of(noted + await h.advance(6), "edit")
        assert len(edits) == 1 and "已接龙 1 人\n1. ann（不吃辣）" in edits[0]["text"]
        # Chat that only looks like a sign-up is left alone.
        for text in ("+10", "+1s", "1+1"):
            assert of(await h.say("demo", "ann", text, reply_to=card["id"]), "send") == []
        assert of(await h.say("demo", "ann", "+1"), "send") == []  # not a reply to the list


async def test_presses_in_the_same_millisecond_count_once(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        people = [f"p{i}" for i in range(8)]
        await _setup(h, *people)
        card = await _start(h, "/signup 篮球 limit 3")
        tasks = [h.adapter.button("demo", p, card["id"], "sg:join:1") for p in people for _ in range(3)]
        await asyncio.gather(*(t for t in tasks if t is not None))
        assert h.app.dispatcher is not None
        await h.app.dispatcher.drain()
        out = h.adapter.take()
        for p in people:
            answers = private(out, p)
            assert len(answers) == 3 and sum("已经" in a for a in answers) == 2, answers
        edits = of(await h.advance(6), "edit")
        assert len(edits) == 1 and "已接龙 3/3 人" in edits[0]["text"] and "候补 5 人：" in edits[0]["text"]
        assert edits[0]["text"].count("\n1. ") == 2  # one numbered list of places, one of waiting


async def test_bad_input_gets_a_clear_answer(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "ann")
        cases = {
            "/signup 羽毛球 limit 0": "人数“0”不对：请写 1 到 100000 之间的整数。",
            "/signup 羽毛球 limit 99999999999": "人数“99999999999”不对：请写 1 到 100000 之间的整数。",
            "/signup 羽毛球 limit lots": "人数“lots”不对：请写 1 到 100000 之间的整数。",
        }
        for text, answer in cases.items():
            assert await first_lines(h, text) == [answer]
        bad_time = await first_lines(h, "/signup 羽毛球 until blah 20:00")
        past = await first_lines(h, "/signup 羽毛球 until 2026-03-01 20:00")
        years = await first_lines(h, "/signup 羽毛球 until +9999d")
        assert bad_time == ["“blah” 不是有效的日期。例如：2026-12-01 · 12-01 · 明天 · 后天 · 周五"]
        assert past == ["2026-03-01 20:00 已经过去了，请选一个将来的时间。"]
        assert years == [
            "看不懂开始时间 “9999d”。例如：2026-12-01 20:00 · 12-01 20:00 · 明天 20:00 · 周五 20:00 · +2h"
        ]
        usage = texts(await h.say("demo", "ann", "/signup"))
        assert len(usage) == 1 and "/signup" in usage[0]
        assert len(texts(await h.say("demo", "ann", "/signup 羽毛球 limit"))) == 1
        assert await first_lines(h, "/signup " + "长" * 101) == [TITLE_LONG]
        # Nothing above created a list.
        assert texts(await h.say("demo", "ann", "/signup list")) == ["这个群还没有接龙。"]


async def test_forged_and_stale_buttons(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "ann")
        card = await _start(h, "/signup 爬山")
        for data in ("sg:join", "sg:join:1:2", "sg:steal:1", "sg:join:abc", "sg:join:-1", "sg:join:01"):
            assert of(await h.press("demo", "ann", card["id"], data), "send") == [], data
        unknown = await h.press("demo", "ann", card["id"], "sg:join:999")
        assert private(unknown, "ann") == ["没有编号为 999 的接龙。"] and public(unknown) == []
        # A planned activity's id under a sign-up button is refused the same way.
        await h.say("demo", "max", "/event add 观影 | 明天 20:00")
        wrong = await h.press("demo", "ann", card["id"], "sg:join:2")
        assert private(wrong, "ann") == ["没有编号为 2 的接龙。"]
        assert texts(await h.say("demo", "ann", "/signup close 2")) == ["没有编号为 2 的接龙。"]


async def test_a_press_before_a_restart_still_reaches_the_post(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "ann")
        card = await _start(h, "/signup 爬山")
        pressed = await h.press("demo", "ann", card["id"], "sg:join:1")
        assert of(pressed, "edit") == []  # within the interval: the edit waits
        await h.restart()
        edits = of(await h.advance(2), "edit")
        assert len(edits) == 1 and edits[0]["id"] == card["id"] and "1. ann" in edits[0]["text"]


async def test_deadline_closes_once_across_restarts(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "ann", "bob")
        card = await _start(h, "/signup 夜跑 until +1h")
        await h.press("demo", "ann", card["id"], "sg:join:1")
        await h.restart()
        await h.press("demo", "bob", card["id"], "sg:join:1")
        await h.restart()
        out = await h.advance(3600)
        final = [r["text"] for r in public(out) if "已截止" in r["text"]]
        assert len(final) == 1 and "共 2 人" in final[0]
        await h.restart()
        assert [r for r in public(await h.advance(86400)) if "接龙" in r["text"]] == []
        assert "#1 夜跑 — 2 人 — 已结束" in texts(await h.say("demo", "bob", "/signup list"))[0]


async def test_closed_by_hand_then_the_deadline_posts_nothing(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "ann")
        card = await _start(h, "/signup 夜跑 until +1h")
        await h.press("demo", "ann", card["id"], "sg:join:1")
        refused = await h.say("demo", "ann", "/signup close 1")
        assert texts(refused) == ["只有发起人和管理员可以结束、导出接龙 #1 或标记到场。"]
        closed = await h.say("demo", "max", "/signup close 1")
        assert [t for t in texts(closed) if "已截止" in t] == [
            "⏰ 接龙 #1 夜跑 已截止：共 1 人。\n已接龙 1 人\n1. ann"
        ]
        assert texts(await h.say("demo", "max", "/signup close 1")) == ["接龙 #1 已经结束了。"]
        assert [r for r in public(await h.advance(7200)) if "接龙" in r["text"]] == []


async def test_a_deadline_missed_while_down_closes_after_the_start(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "ann")
        card = await _start(h, "/signup 夜跑 until +10m")
        await h.press("demo", "ann", card["id"], "sg:join:1")
        await h.session.stop()
        h.session.clock.set(h.now + timedelta(hours=5))  # down far beyond the scheduler's grace
        await h.session.start()
        h.adapter.take()
        # Past the deadline, before the close has run: no more sign-ups.
        late = await h.press("demo", "max", card["id"], "sg:join:1")
        assert private(late, "max") == ["接龙 #1 已经结束了。"]
        out = await h.advance(10)
        assert [r["text"] for r in public(out) if "已截止：共 1 人" in r["text"]]
        assert [r for r in public(await h.advance(3600)) if "已截止" in r["text"]] == []


async def test_export_is_a_csv_sent_privately(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "ann", "bob", "cat")
        card = await _start(h, "/signup 读书会 limit 1")
        await h.say("demo", "ann", "+1 =HYPERLINK(1)", reply_to=card["id"])
        await h.say("demo", "bob", "+1 带书", reply_to=card["id"])
        refused = await h.say("demo", "cat", "/signup export 1")
        assert texts(refused) == ["只有发起人和管理员可以结束、导出接龙 #1 或标记到场。"]
        out = await h.say("demo", "max", "/signup export 1")
        assert [r["text"] for r in public(out)] == ["接龙 #1 的名单已私信发给你。"]
        (sent,) = private(out, "max")
        head, body = sent.split("\n", 1)
        assert head == "接龙 #1 读书会（CSV）："
        rows = list(csv.reader(io.StringIO(body)))
        assert rows == [
            ["n", "status", "name", "user_id", "note"],
            ["1", "going", "ann", "ann", "'=HYPERLINK(1)"],
            ["1", "waiting", "bob", "bob", "带书"],
        ]
        assert "1. ann（=HYPERLINK(1)）" in lists(await h.advance(6))[0]["text"]


async def test_join_and_leave_by_command_and_event_info(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "ann", "bob")
        await _start(h, "/signup 羽毛球 limit 1")
        assert private(await h.say("demo", "ann", "/join 1"), "ann") == ["你已加入接龙 #1 羽毛球。"]
        assert "候补第 1 位" in private(await h.say("demo", "bob", "/join 1"), "bob")[0]
        out = await h.say("demo", "ann", "/leave 1")
        assert private(out, "bob") == ["有人退出了接龙 #1 羽毛球：你已从候补转为正式名单！"]
        info = texts(await h.say("demo", "ann", "/event info 1"))[0]
        assert "已接龙 1/1 人\n1. bob" in info
        # A sign-up list is not an upcoming planned activity.
        assert texts(await h.say("demo", "ann", "/events")) == ["近期没有活动。"]


async def test_platform_without_buttons_or_edits(tmp_path: Path, db_url: str) -> None:
    caps = ALL_CAPABILITIES - {Capability.BUTTONS, Capability.EDIT}
    async with Harness(tmp_path, db_url=db_url, capabilities=caps) as h:
        await _setup(h, "ann", "bob")
        out = await h.say("demo", "max", "/signup 羽毛球 limit 5")
        (card,) = public(out)
        assert "buttons" not in card and "1. +1 接龙" in card["text"] and "/join 1" in card["text"]
        await h.say("demo", "ann", "+1 带球", reply_to=card["id"])
        pressed = await h.say("demo", "bob", "1", reply_to=card["id"])  # the numbered "button"
        assert private(pressed, "bob") == ["你已加入接龙 #1 羽毛球。"] and public(pressed) == []
        fresh = lists(await h.advance(6))
        assert len(fresh) == 1 and fresh[0]["action"] == "send"
        assert "1. ann（带球）\n2. bob" in fresh[0]["text"]
        # Replies to the earlier copy still count; the fresh copy is one too.
        await h.say("demo", "ann", "-1", reply_to=card["id"])
        again = lists(await h.advance(6))
        assert len(again) == 1 and "已接龙 1/5 人\n1. bob" in again[0]["text"]
        await h.say("demo", "ann", "+1", reply_to=again[0]["id"])
        last = lists(await h.advance(6))
        assert len(last) == 1 and "1. bob\n2. ann" in last[0]["text"]


async def test_in_english(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "ann", "bob")
        await h.say("demo", "max", "/lang en", role="owner")
        card = await _start(h, "/signup Badminton limit 1 until tomorrow 20:00")
        assert card["text"].startswith("📋 Sign-up #1: Badminton\n⏰ Closes 2026-03-03 20:00")
        assert card["buttons"][0][0]["text"] == "+1 Sign up"
        assert private(await h.say("demo", "ann", "+1 rackets", reply_to=card["id"]), "ann") == [
            "You are on sign-up list #1 Badminton."
        ]
        waiting = private(await h.say("demo", "bob", "+1", reply_to=card["id"]), "bob")
        assert waiting == [
            "Sign-up list #1 Badminton is full; you are number 1 on the waiting list. "
            "I'll tell you privately when a place frees up."
        ]
        edits = of(await h.advance(6), "edit")
        assert "1/1 signed up\n1. ann (rackets)\nWaiting list, 1:\n1. bob" in edits[0]["text"]
        closed = await h.advance(to="2026-03-03T20:00:00+08:00")
        assert [r["text"].split("\n")[0] for r in public(closed) if "closed" in r["text"]] == [
            "⏰ Sign-up list #1 Badminton is closed: 1 signed up, 1 on the waiting list."
        ]


async def test_the_console_demo_has_a_list_with_a_waiting_list(tmp_path: Path, db_url: str) -> None:
    from bot.demo import seed_demo

    async with Harness(tmp_path, db_url=db_url) as h:
        await seed_demo(h.services, h.adapter, "demo")
        assert texts(await h.say("demo", "bob", "/signup list")) == [
            "最近的接龙：\n#2 周六羽毛球 — 3/3 人 — 进行中"
        ]
        info = texts(await h.say("demo", "bob", "/event info 2"))[0]
        assert "1. Alice（带球拍）\n2. Bob\n3. 小红\n候补 1 人：\n1. 大伟" in info
        out = await h.say("demo", "bob", "/leave 2")
        assert private(out, "dave") == ["有人退出了接龙 #2 周六羽毛球：你已从候补转为正式名单！"]
        closed = await h.advance(to="2026-03-03T20:00:00+08:00")
        assert [r["text"].split("\n")[0] for r in public(closed) if "已截止" in r["text"]] == [
            "⏰ 接龙 #2 周六羽毛球 已截止：共 3 人。"
        ]
