"""Interest circles through the console harness, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.adapter import Capability
from bot.demo import seed_demo
from storage.circles import CircleRepo
from tests.harness import Harness, texts

Record = dict[str, Any]
DENIED = "抱歉，这个命令只有管理员可以使用。"


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


async def test_moderators_make_circles_members_join_leave_and_list(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "alice", "bob")
        assert texts(await h.say("demo", "alice", "/circles")) == [
            "本群还没有兴趣圈。管理员可以用 /circle add 圈名 [介绍] 创建。"
        ]
        out = texts(await h.say("demo", "max", "/circle add 徒步 周末一起走走"))
        assert out == ["已创建兴趣圈「徒步」。成员可以用 /circle join 徒步 或在 /circles 里加入。"]
        await h.say("demo", "max", "/circle add Games")
        assert texts(await h.say("demo", "alice", "/circle join 徒步")) == ["你已加入兴趣圈「徒步」。"]
        assert texts(await h.say("demo", "alice", "/circle join 徒步")) == ["你已经在兴趣圈「徒步」里了。"]
        # Case and width do not make another circle: ｇａｍｅｓ is Games.
        assert texts(await h.say("demo", "bob", "/circle join ｇａｍｅｓ")) == ["你已加入兴趣圈「Games」。"]
        assert texts(await h.say("demo", "alice", "/圈 加入 games")) == ["你已加入兴趣圈「Games」。"]
        card = public(await h.say("demo", "alice", "/circles"))[0]
        assert card["text"].splitlines()[:3] == [
            "兴趣圈（2 个）：",
            "• Games（2 人）",
            "• 徒步（1 人）— 周末一起走走",
        ]
        assert card["buttons"] == [[{"text": "Games", "data": "cc:t:2"}, {"text": "徒步", "data": "cc:t:1"}]]
        assert texts(await h.say("demo", "alice", "/circle mine")) == ["你的兴趣圈：Games、徒步"]
        assert texts(await h.say("demo", "alice", "/circle leave 徒步")) == ["你已退出兴趣圈「徒步」。"]
        assert texts(await h.say("demo", "alice", "/circle leave 徒步")) == ["你不在兴趣圈「徒步」里。"]
        assert texts(await h.say("demo", "max", "/circle remove games")) == [
            "已删除兴趣圈「Games」（原有 2 人）。"
        ]
        assert texts(await h.say("demo", "bob", "/circle mine")) == [
            "你还没有加入任何兴趣圈。看看 /circles 吧。"
        ]


async def test_buttons_toggle_membership_and_forged_ones_are_ignored(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "alice")
        await h.say("demo", "max", "/circle add games")
        card = public(await h.say("demo", "alice", "/circles"))[0]
        out = await h.press("demo", "alice", card["id"], "cc:t:1")
        assert private(out, "alice") == ["你已加入兴趣圈「games」。"] and public(out) == []
        out = await h.press("demo", "alice", card["id"], "cc:t:1")
        assert private(out, "alice") == ["你已退出兴趣圈「games」。"]
        # Forged shapes are ignored quietly; an id no circle of this group has is answered privately.
        for data in ("cc:t", "cc:x:1", "cc:t:abc", "cc:t:-1", "cc:t:1:2", "cc:t:" + "9" * 40):
            assert of(await h.press("demo", "alice", card["id"], data), "send") == []
        assert private(await h.press("demo", "alice", card["id"], "cc:t:99"), "alice") == [
            "这个兴趣圈已经不存在了。看看 /circles。"
        ]
        # A circle of another group is not this group's, whatever the button says.
        await h.say("other", "max", "hello", role="moderator")
        await h.say("other", "max", "/circle add secret")
        assert private(await h.press("demo", "alice", card["id"], "cc:t:2"), "alice") == [
            "这个兴趣圈已经不存在了。看看 /circles。"
        ]
        assert texts(await h.say("demo", "alice", "/circle mine")) == [
            "你还没有加入任何兴趣圈。看看 /circles 吧。"
        ]


async def test_bad_input_gets_clear_answers(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "alice")
        await h.say("demo", "max", "/circle add games")
        assert texts(await h.say("demo", "max", "/circle add Games")) == ["已经有叫「Games」的兴趣圈了。"]
        assert texts(await h.say("demo", "alice", "/circle join chess")) == [
            "没有叫「chess」的兴趣圈。看看 /circles。"
        ]
        long = "长" * 25
        out = texts(await h.say("demo", "max", f"/circle add {long}"))
        assert out[0].startswith("兴趣圈的名字最多 24 个字（这个有 25 个）。")
        out = texts(await h.say("demo", "max", "/circle add \u200b\u200b"))
        assert out[0].startswith("兴趣圈需要一个名字。")
        assert texts(await h.say("demo", "max", "/circle add"))[0].startswith("用法：")
        out = texts(await h.say("demo", "max", "/circle add hiking " + "x" * 201))
        assert out[0].startswith("介绍最多 200 个字（这段有 201 个）。")
        # Members trying moderator actions get the same polite refusal.
        for text in (
            "/circle add chess",
            "/circle remove games",
            "/circle ping games hi",
            "/circle role games off",
        ):
            assert texts(await h.say("demo", "alice", text)) == [DENIED], text
        assert texts(await h.say("demo", "alice", "/circle frobnicate"))[0].startswith(
            "没有这个 /circle 选项"
        )
        # A huge line is refused with a short echo, never the whole text.
        huge = texts(await h.say("demo", "alice", "/circle join " + "z" * 100_000))[0]
        assert len(huge) < 200
        # Role binding is for platforms with roles: the console has none.
        out = texts(await h.say("demo", "max", "/circle role games <@&700000000000000005>"))
        assert out[0].startswith("这个平台没有机器人可以授予的身份组")
        out = texts(await h.say("demo", "max", "/circle role games admins"))
        assert out[0].startswith("“admins”不是身份组。")
        assert texts(await h.say("demo", "max", "/circle role games off")) == ["「games」不再绑定身份组。"]


async def test_too_many_circles_is_refused(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await _setup(h)
        for i in range(20):
            await h.say("demo", "max", f"/circle add c{i}")
        assert texts(await h.say("demo", "max", "/circle add c20"))[0].startswith("每个群最多 20 个兴趣圈")
        card = public(await h.say("demo", "max", "/circles"))[0]
        assert len(card["buttons"]) == 5 and all(len(row) == 4 for row in card["buttons"])


async def test_ping_mentions_members_in_chunks_skips_muted_and_is_rate_limited(
    tmp_path: Path, db_url: str
) -> None:
    config = {"circles": {"ping_chunk": 3}}
    async with Harness(tmp_path, db_url=db_url, config=config) as h:
        people = [f"p{i}" for i in range(7)]
        await _setup(h, *people)
        await h.say("demo", "max", "/circle add games")
        assert texts(await h.say("demo", "max", "/circle ping games 今晚开黑")) == [
            "「games」里没有可以通知的人：还没有成员，或者大家都开了免打扰。"
        ]
        for p in people:
            await h.say("demo", p, "/circle join games")
        await h.say("demo", "max", "/circle join games")  # the sender is not pinged by their own ping
        assert texts(await h.say("demo", "p0", "/circle mute games")) == [
            "已为你关闭「games」的通知，你仍在圈里。"
        ]
        assert texts(await h.say("demo", "p0", "/circle mute games")) == ["「games」的通知已经是关闭的。"]
        assert texts(await h.say("demo", "p1", "/circle unmute games")) == ["「games」的通知本来就是开着的。"]
        assert texts(await h.say("demo", "alice", "/circle mute games")) == ["你不在兴趣圈「games」里。"]
        out = public(await h.say("demo", "max", "/circle ping games 今晚开黑"))
        assert [r["text"] for r in out] == [
            "📣 兴趣圈「games」通知（来自 max）：\n今晚开黑\n@p1 @p2 @p3",
            "📣 「games」（2/2）：\n@p4 @p5 @p6",
        ]
        assert texts(await h.say("demo", "p0", "/circle mine")) == ["你的兴趣圈：games（免打扰）"]
        # The group's cooldown (60 minutes by default) holds for every circle.
        await h.say("demo", "max", "/circle add chess")
        await h.say("demo", "p0", "/circle join chess")
        await h.advance(30 * 60)
        assert texts(await h.say("demo", "max", "/circle ping chess hi")) == [
            "本群刚刚通知过一个兴趣圈，30 分钟后才能再次通知。"
        ]
        await h.restart()
        await h.advance(30 * 60)
        out = public(await h.say("demo", "max", "/circle ping chess 开局"))
        assert [r["text"] for r in out] == ["📣 兴趣圈「chess」通知（来自 max）：\n开局\n@p0"]
        out = texts(await h.say("demo", "max", "/circle ping chess " + "y" * 501))
        assert out[0].startswith("通知最多 500 个字（这段有 501 个）。")


async def test_two_pings_at_once_send_one(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "alice")
        await h.say("demo", "mia", "hello", role="moderator")
        await h.say("demo", "max", "/circle add games")
        await h.say("demo", "alice", "/circle join games")
        tasks = [h.adapter.message("demo", who, "/circle ping games go") for who in ("max", "mia")]
        await asyncio.gather(*(t for t in tasks if t is not None))
        assert h.app.dispatcher is not None
        await h.app.dispatcher.drain()
        sent = [r["text"] for r in public(h.adapter.take())]
        assert len([t for t in sent if t.startswith("📣")]) == 1
        assert len([t for t in sent if "分钟后才能再次通知" in t]) == 1


async def test_concurrent_presses_join_once(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "alice")
        await h.say("demo", "max", "/circle add games")
        card = public(await h.say("demo", "alice", "/circles"))[0]
        tasks = [h.adapter.button("demo", "alice", card["id"], "cc:t:1") for _ in range(2)]
        await asyncio.gather(*(t for t in tasks if t is not None))
        assert h.app.dispatcher is not None
        await h.app.dispatcher.drain()
        h.adapter.take()
        # Two presses at once: joined then left, or joined and "already in"; never two rows.
        mine = texts(await h.say("demo", "alice", "/circle mine"))[0]
        assert mine in ("你的兴趣圈：games", "你还没有加入任何兴趣圈。看看 /circles 吧。")
        listed = public(await h.say("demo", "alice", "/circles"))[0]["text"]
        assert "（1 人）" in listed or "（0 人）" in listed


async def test_numbered_replies_join_where_there_are_no_buttons(tmp_path: Path) -> None:
    caps = frozenset(c for c in Capability if c not in (Capability.BUTTONS, Capability.ROLES))
    async with Harness(tmp_path, capabilities=caps) as h:
        await _setup(h, "alice")
        await h.say("demo", "max", "/circle add games")
        card = public(await h.say("demo", "alice", "/circles"))[0]
        assert "1. games" in card["text"] and "/circle join games" in card["text"]
        out = await h.say("demo", "alice", "1", reply_to=card["id"])
        assert "你已加入兴趣圈「games」。" in [r["text"] for r in of(out, "send")]


async def test_mydata_and_forgetme_cover_circles(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "alice")
        await h.say("demo", "alice", "/promote @alice moderator", role="admin")
        await h.say("demo", "alice", "/circle add games")
        await h.say("demo", "alice", "/circle join games")
        await h.say("demo", "alice", "/circle mute games")
        await h.say("demo", "max", "/circle join games")
        await h.say("demo", "alice", "/circle ping games hi")
        out = await h.say("demo", "alice", "/mydata")
        mine = next(r for r in of(out, "send") if r.get("user") == "alice")
        body = json.loads(mine["text"].split("\n", 1)[1])
        stored = body["groups"][0]["stored"]
        assert [(r["muted"]) for r in stored["circle_members"]] == [1]
        assert len(stored["circles"]) == 1 and len(stored["circle_pings"]) == 1
        ask = public(await h.say("demo", "alice", "/forgetme"))[0]
        await h.press("demo", "alice", ask["id"], ask["buttons"][0][0]["data"])
        # Her membership is gone; the circle (unsigned) and its ping count stay for the group.
        listed = public(await h.say("demo", "max", "/circles"))[0]["text"]
        assert "games（1 人）" in listed
        repo = CircleRepo(h.services.db)
        (stat,) = await repo.stats(1, h.now - timedelta(days=1))
        assert (stat.members, stat.pings_since) == (1, 1)
        circle = await repo.by_id(1)
        assert circle is not None and circle.created_by is None


async def test_presses_edit_the_card_in_place_at_most_once_per_interval(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h, "alice", "bob", "carol")
        await h.say("demo", "max", "/circle add games")
        card = public(await h.say("demo", "alice", "/circles"))[0]
        assert "• games（0 人）" in card["text"]
        first = of(await h.press("demo", "alice", card["id"], "cc:t:1"), "edit")
        assert [e["id"] for e in first] == [card["id"]] and "• games（1 人）" in first[0]["text"]
        assert first[0]["buttons"] == card["buttons"]
        # Two more presses within the interval: no edit now, one at the next flush after it.
        assert of(await h.press("demo", "bob", card["id"], "cc:t:1"), "edit") == []
        assert of(await h.press("demo", "carol", card["id"], "cc:t:1"), "edit") == []
        later = of(await h.advance(6), "edit")
        assert len(later) == 1 and "• games（3 人）" in later[0]["text"]
        assert of(await h.advance(60), "edit") == []


async def test_the_console_demo_has_circles(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await seed_demo(h.services, h.adapter, "demo")
        card = public(await h.say("demo", "alice", "/circles"))[0]
        assert card["text"].splitlines()[1:3] == [
            "• 徒步（3 人）— 周末一起走走",
            "• 游戏（3 人）— 桌游和电子游戏",
        ]
        assert texts(await h.say("demo", "alice", "/circle mine")) == ["你的兴趣圈：游戏"]
