"""``/complain`` in a private chat with the bot: filed for the member's group (named by number
or name when there are several), tracked as an alert like a report, and counted for level 1,
whose public acknowledgement then goes to the group's chat."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.harness import Harness, texts

Record = dict[str, Any]


def to_user(records: list[Record], user: str) -> list[str]:
    return [r["text"] for r in records if r["action"] == "send" and r.get("user") == user]


def in_chat(records: list[Record], chat: str) -> list[str]:
    return [r["text"] for r in records if r["action"] == "send" and r.get("chat") == chat]


async def test_one_group_private_complaint_is_tracked_and_counted(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "a", "大家好")
        out = await h.dm("a", "/complain 客服一直不回消息")
        [ack] = to_user(out, "a")
        assert ack.startswith("已登记你对「demo」的投诉，管理员会跟进。\na，感谢你的反馈。")
        assert in_chat(out, "demo-mods") == ["📮 私信投诉 #1，来自 a：客服一直不回消息"]
        assert in_chat(out, "demo") == []  # nothing in public: it was private
        again = await h.dm("a", "/complain 还有一件事")
        assert to_user(again, "a") == ["你的上一条投诉刚刚登记，10 分钟后可以再补充。"]
        shown = texts(await h.say("demo", "max", "/complaints", role="moderator"))[0].split("\n")
        assert shown[0].startswith("今日投诉：1 条")
        assert shown[1].endswith("a：客服一直不回消息 #1")
        # Tracked like a report: the moderators close it, with its handling time.
        assert any("#1" in t for t in texts(await h.say("demo", "max", "/alerts")))
        acked = texts(await h.say("demo", "max", "/ack 1"))
        assert acked and "#1" in acked[0]


async def test_several_groups_name_the_group_by_number_or_name(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "a", "hi")
        await h.say("other", "a", "hi")
        out = to_user(await h.dm("a", "/complain 客服一直不回消息"), "a")
        assert out == [
            "你在好几个群里，投诉哪个群？请发 /complain 序号 内容，例如 /complain 1 客服一直不回消息：\n"
            "1. demo\n2. other"
        ]
        out2 = await h.dm("a", "/complain 2 活动奖品一直没发")
        assert to_user(out2, "a")[0].startswith("已登记你对「other」的投诉")
        assert in_chat(out2, "other-mods") == ["📮 私信投诉 #1，来自 a：活动奖品一直没发"]
        out3 = await h.dm("a", "/complain DEMO 退款没人处理")  # by name, any case
        assert to_user(out3, "a")[0].startswith("已登记你对「demo」的投诉")
        assert to_user(await h.dm("a", "/complain 2"), "a")[0].startswith("用法")  # no text
        assert to_user(await h.dm("stranger", "/complain 太差了"), "stranger") == [
            "我不知道你在哪个群里。请在群里发 /complain 内容，或先在群里说句话。"
        ]


async def test_private_complaint_can_start_level1_in_the_group(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url, config={"bot": {"language": "en"}}) as h:
        await h.say("demo", "max", "/set desk.complaint_threshold 1", role="moderator")
        await h.say("demo", "b", "/complain the app keeps crashing")
        out = await h.dm("a", "/complain refunds are never handled")
        assert to_user(out, "a") == [  # a has never been seen in a group
            "I don't know which group you are in. Send /complain TEXT in the group, or say something there first."
        ]
        await h.say("demo", "a", "hello")
        out = await h.dm("a", "/complain refunds are never handled")
        assert to_user(out, "a")[0].startswith("Your complaint about “demo” is recorded")
        public = in_chat(out, "demo")
        assert len(public) == 1 and "everyone" in public[0]  # the acknowledgement to everyone
        mods = in_chat(out, "demo-mods")
        assert mods[0] == "📮 Private complaint #2 from a: refunds are never handled"
        assert mods[1].startswith("🚨 #3 Complaints today: 2, over the threshold of 1.")
