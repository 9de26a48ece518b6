"""Giveaways through the console harness, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot import fairdraw
from bot.ports import PointsLedger
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


async def _start(h: Harness, text: str = "/giveaway start 2h 2 周边T恤") -> Record:
    out = await h.say("demo", "max", text)
    posts = [r for r in public(out) if r.get("buttons")]
    assert len(posts) == 1, out
    return posts[0]


def _seed(text: str) -> str:
    match = re.search(r"种子：([0-9a-f]{64})", text)
    assert match, text
    return match.group(1)


async def test_a_giveaway_from_post_to_verified_draw(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        people = [f"m{i}" for i in range(6)]
        await _setup(h, *people)
        await h.advance(60)
        card = await _start(h)
        assert card["buttons"] == [[{"text": "🎁 参加抽奖", "data": "gw:join:1"}]]
        commitment = re.search(r"SHA-256）：([0-9a-f]{64})", card["text"])
        assert commitment and "已参加：0 人" in card["text"]
        first = await h.press("demo", "m0", card["id"], "gw:join:1")
        assert private(first, "m0") == ["你已参加抽奖 #1（周边T恤），祝你好运！"]
        assert public(first) == []  # never a public post per entry
        # Every entry within the interval after the post waits for one edit.
        burst: list[Record] = list(first)
        for name in people[1:]:
            burst += await h.press("demo", name, card["id"], "gw:join:1")
        again = await h.press("demo", "m0", card["id"], "gw:join:1")
        assert private(again, "m0") == ["你已经参加过抽奖 #1 了，每人只能参加一次。"]
        assert of(burst, "edit") == [] and of(again, "edit") == []
        later = await h.advance(6)
        edits = of(later, "edit")
        assert len(edits) == 1 and "已参加：6 人" in edits[0]["text"]
        assert of(await h.advance(60), "edit") == []  # nothing new: no edit
        drawn = await h.advance(2 * 3600)
        announcement = [r["text"] for r in public(drawn) if "开奖啦" in r["text"]]
        assert len(announcement) == 1 and "共 6 人参加" in announcement[0]
        seed = _seed(announcement[0])
        assert fairdraw.commitment(seed) == commitment.group(1)
        proof = texts(await h.say("demo", "m5", "/giveaway proof 1"))[0]
        listed = dict(row for row in csv.reader(io.StringIO(proof.split("\n", 3)[3])) if row[0] != "entrant")
        assert sorted(listed.values()) == people and fairdraw.read_entrants(proof.split("\n", 3)[3]) == list(
            listed
        )
        entrants = list(listed)
        winners = [listed[k] for k in fairdraw.pick(seed, entrants, 2)]
        assert [f"@{w}" in announcement[0] for w in winners] == [True, True]
        for w in winners:
            assert any("中奖" in t for t in private(drawn, w))
        closed = of(drawn, "edit")
        assert len(closed) == 1 and "已开奖" in closed[0]["text"] and not closed[0].get("buttons")
        # Later presses of the stale button are told it is over, privately.
        late = await h.press("demo", "m5", card["id"], "gw:join:1")
        assert private(late, "m5") == ["抽奖 #1 已经结束。"] and public(late) == []
        assert seed in proof
        reroll = await h.say("demo", "max", "/giveaway reroll 1 2")
        picked = fairdraw.pick(seed, entrants, 2)
        again_winners = [listed[k] for k in fairdraw.pick(seed, entrants, 2, exclude=picked)]
        assert all(f"@{w}" in texts(reroll)[0] for w in again_winners)
        assert not any(f"@{w}" in texts(reroll)[0] for w in winners)
        # Nothing more fires later: the draw happened once.
        assert [r for r in public(await h.advance(86400)) if "抽奖" in r["text"]] == []


async def test_restart_mid_giveaway_draws_once(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "alice", "bob")
        card = await _start(h, "/giveaway start 30m 1 奖品")
        await h.press("demo", "alice", card["id"], "gw:join:1")
        await h.restart()
        await h.press("demo", "bob", card["id"], "gw:join:1")
        await h.restart()
        out = await h.advance(1800)
        drawn = [r["text"] for r in public(out) if "开奖啦" in r["text"]]
        assert len(drawn) == 1 and "共 2 人参加" in drawn[0]
        await h.restart()
        assert [r for r in public(await h.advance(3600)) if "开奖" in r["text"]] == []
        listing = texts(await h.say("demo", "bob", "/giveaway list"))[0]
        assert "#1 奖品 · 已开奖 · 2 人参加" in listing


async def test_a_press_before_a_restart_still_reaches_the_post(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "alice")
        card = await _start(h, "/giveaway start 30m 1 奖品")
        pressed = await h.press("demo", "alice", card["id"], "gw:join:1")
        assert of(pressed, "edit") == []  # within the interval: the edit waits
        await h.restart()
        edits = of(await h.advance(2), "edit")
        assert len(edits) == 1 and edits[0]["id"] == card["id"] and "已参加：1 人" in edits[0]["text"]


async def test_a_draw_missed_while_down_is_made_after_the_start(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "alice")
        card = await _start(h, "/giveaway start 10m 1 奖品")
        await h.press("demo", "alice", card["id"], "gw:join:1")
        await h.session.stop()
        h.session.clock.set(h.now + timedelta(hours=5))  # down far beyond the scheduler's grace
        await h.session.start()
        h.adapter.take()
        out = await h.advance(10)
        assert [r["text"] for r in public(out) if "开奖啦" in r["text"] and "@alice" in r["text"]]


async def test_concurrent_presses_count_once(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        people = [f"p{i}" for i in range(8)]
        await _setup(h, *people)
        card = await _start(h)
        tasks = [h.adapter.button("demo", p, card["id"], "gw:join:1") for p in people for _ in range(3)]
        await asyncio.gather(*(t for t in tasks if t is not None))
        assert h.app.dispatcher is not None
        await h.app.dispatcher.drain()
        out = h.adapter.take()
        for p in people:
            answers = private(out, p)
            assert sorted(answers).count("你已经参加过抽奖 #1 了，每人只能参加一次。") == 2, answers
        listing = texts(await h.say("demo", "max", "/giveaway list"))[0]
        assert "8 人参加" in listing


async def test_price_is_paid_once_and_refunded_on_cancel(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "rich", "poor")
        await h.say("demo", "max", "/points give @rich 100")
        group = await h.services.groups.find("console", "demo")
        assert group is not None
        ledger = h.services.ports.get(PointsLedger)

        async def balance(user: str) -> int:
            assert group is not None
            member = await h.services.members.find(group.id, user)
            assert member is not None
            return await ledger.balance(group, member)

        before = await balance("rich")
        card = await _start(h, "/giveaway start 1h 1 奖品 | price 30")
        assert "参加需花 30 积分" in card["text"]
        paid = await h.press("demo", "rich", card["id"], "gw:join:1")
        assert private(paid, "rich")[0].startswith("你已参加抽奖 #1")
        await h.press("demo", "rich", card["id"], "gw:join:1")  # a second press pays nothing
        assert await balance("rich") == before - 30
        poor_before = await balance("poor")
        refused = await h.press("demo", "poor", card["id"], "gw:join:1")
        assert private(refused, "poor") == [f"这个抽奖需要 30 积分，你现在有 {poor_before}。"]
        assert public(refused) == [] and await balance("poor") == poor_before
        cancelled = await h.say("demo", "max", "/giveaway cancel 1")
        assert "已给 1 位成员退回参加费" in texts(cancelled)[0]
        assert await balance("rich") == before
        again = await h.say("demo", "max", "/giveaway cancel 1")
        assert texts(again) == ["抽奖 #1 已经不在进行中了。"] and await balance("rich") == before
        assert [r for r in public(await h.advance(7200)) if "开奖" in r["text"]] == []


async def test_member_age_condition(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h)
        await h.join("demo", "newbie")
        card = await _start(h, "/giveaway start 3d 1 奖品 | days 1")
        out = await h.press("demo", "newbie", card["id"], "gw:join:1")
        assert private(out, "newbie") == ["这个抽奖要求入群满 1 天。"]
        await h.advance(86400)
        out = await h.press("demo", "newbie", card["id"], "gw:join:1")
        assert private(out, "newbie")[0].startswith("你已参加抽奖 #1")


async def test_checkin_condition(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "alice")
        card = await _start(h, "/giveaway start 3d 1 奖品 | checkins 2")
        assert "最近 7 天至少签到 2 天" in card["text"]
        await h.say("demo", "alice", "/checkin")
        out = await h.press("demo", "alice", card["id"], "gw:join:1")
        assert private(out, "alice") == ["这个抽奖要求最近 7 天签到至少 2 天，你签到了 1 天。"]
        await h.advance(86400)
        await h.say("demo", "alice", "/checkin")
        out = await h.press("demo", "alice", card["id"], "gw:join:1")
        assert private(out, "alice")[0].startswith("你已参加抽奖 #1")


async def test_end_now_and_no_entrants(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "alice")
        await _start(h, "/giveaway start 1h 1 奖品")
        out = await h.say("demo", "max", "/giveaway end 1")
        assert [t for t in texts(out) if "没有人参加" in t]
        assert texts(await h.say("demo", "max", "/giveaway end 1")) == ["抽奖 #1 已经不在进行中了。"]
        # The job was dropped with the draw.
        assert [r for r in public(await h.advance(7200)) if "抽奖" in r["text"]] == []


BAD_STARTS = [
    ("/giveaway start 0m 1 奖品", "看不懂时长"),
    ("/giveaway start 300d 1 奖品", "抽奖时长要在 1 分钟到 90 天之间。"),
    ("/giveaway start 1h 0 奖品", "0 太小了，最小是 1。"),
    ("/giveaway start 1h 1000 奖品", "1000 太大了，最大是 100。"),
    ("/giveaway start 1h 1 奖品 | colour red", "“colour red”不是可用的条件。"),
    ("/giveaway start 1h 1 奖品 | price 5 5", "“price 5 5”不是可用的条件。"),
    ("/giveaway start 1h 1 奖品 | price -5", "“price -5”：数字要在 0 到 1000000 之间。"),
    ("/giveaway start 1h 1 奖品 | checkins 8", "“checkins 8”：数字要在 0 到 7 之间。"),
    ("/giveaway start 1h 1 " + "奖" * 500, "奖品名称有 500 个字，最多 100 个。"),
    ("/giveaway start 1h 1 | price 5", "请写上奖品。"),
    ("/giveaway start 1h 1 \u200b\u0000", "请写上奖品。"),
    ("/giveaway start", "用法："),
    ("/giveaway end 42", "这里没有编号为 #42 的抽奖。"),
    ("/giveaway reroll 42", "这里没有编号为 #42 的抽奖。"),
    ("/giveaway cancel abc", "用法"),
]


async def test_bad_input_is_answered_and_nothing_counts(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "alice")

        async def answer(user: str, text: str) -> str:
            return "\n".join(texts(await h.say("demo", user, text)))

        for text in (
            "/giveaway start 1h 1 奖品",
            "/giveaway end 1",
            "/giveaway reroll 1",
            "/giveaway cancel 1",
        ):
            assert await answer("alice", text) == "抱歉，这个命令只有管理员可以使用。", text
        for text, reply in BAD_STARTS:
            assert reply in await answer("max", text), text
        assert await answer("alice", "/giveaway") == "还没有抽奖。"
        assert "没有这个 /giveaway 子命令" in await answer("alice", "/giveaway frobnicate")
        assert "这里没有编号为 #42 的抽奖。" in await answer("alice", "/giveaway join 42")
        card = await _start(h, "/giveaway start 1h 1 奖品")
        assert await answer("max", "/giveaway reroll 1") == "抽奖 #1 还没开奖，不能重抽。"
        assert (await answer("alice", "/giveaway proof 1")).startswith("抽奖 #1 还没开奖。")
        for data in ("gw:join:abc", "gw:join:1:2", "gw:nope:1", "gw:join:" + "9" * 40, "gw:" + "x" * 5000):
            out = await h.press("demo", "alice", card["id"], data)
            assert of(out, "send") == [] and of(out, "edit") == [], data
        stale = await h.press("demo", "alice", card["id"], "gw:join:77")
        assert private(stale, "alice") == ["这里没有编号为 #77 的抽奖。"] and public(stale) == []
        assert "0 人参加" in await answer("alice", "/giveaway list")
