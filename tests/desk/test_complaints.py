"""Complaints and level 1 of the response under the virtual clock, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.harness import Harness, texts

Record = dict[str, Any]
LEVEL1_PUBLIC = "各位，感谢你的反馈。"


def posted(records: list[Record], chat: str) -> list[str]:
    return [r["text"] for r in records if r["action"] == "send" and r.get("chat") == chat]


async def complain(h: Harness, user: str, text: str = "客服一直不回消息") -> list[Record]:
    return await h.say("demo", user, f"/complain {text}")


async def test_crossed_at_2359_fires_and_a_new_day_starts_over_at_0001(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url, clock="2026-03-02T23:55:00+08:00") as h:
        await h.say("demo", "max", "/set desk.complaint_threshold 2", role="moderator")
        first = await complain(h, "a")
        assert posted(first, "demo-mods") == ["📮 投诉 #1，来自 a：客服一直不回消息"]
        assert posted(first, "demo")[0].startswith("@a，感谢你的反馈。")
        await complain(h, "b")
        await h.advance(to="2026-03-02T23:59:00+08:00")
        third = await complain(h, "c")  # the third of the day: over 2
        assert [t.split("\n")[0] for t in posted(third, "demo")] == ["@c，感谢你的反馈。", LEVEL1_PUBLIC]
        assert (
            posted(third, "demo-mods")[-1]
            == "🚨 #4 今日投诉已达 3 条，超过阈值 2。已在群里自动发出投诉回应。"
        )
        await h.advance(to="2026-03-03T00:01:00+08:00")
        for user in ("d", "e"):  # a new local day: one and two are not over the threshold
            out = await complain(h, user)
            assert LEVEL1_PUBLIC not in [t.split("\n")[0] for t in posted(out, "demo")]
            assert not any("今日投诉" in t for t in posted(out, "demo-mods"))
        shown = texts(await h.say("demo", "max", "/complaints"))[0].split("\n")
        assert shown[0] == "今日投诉：2 条（超过 2 条触发一级响应）。最近 7 天："
        assert shown[1] == "• 03-03 00:01 e：客服一直不回消息 #6" and len(shown) == 6


async def test_level1_at_most_once_an_hour_across_a_restart(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url, clock="2026-03-02T10:00:00+08:00") as h:
        await h.say("demo", "max", "/set desk.complaint_threshold 1", role="moderator")
        await complain(h, "a")
        out = await complain(h, "b")
        assert LEVEL1_PUBLIC in [t.split("\n")[0] for t in posted(out, "demo")]
        await h.restart()
        await h.advance(30 * 60)
        out = await complain(h, "c")  # still over, but within the hour: no second response
        assert LEVEL1_PUBLIC not in [t.split("\n")[0] for t in posted(out, "demo")]
        await h.advance(31 * 60)
        out = await complain(h, "d")
        assert LEVEL1_PUBLIC in [t.split("\n")[0] for t in posted(out, "demo")]


async def test_default_threshold_scales_and_one_member_cannot_flood(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        assert texts(await h.say("demo", "max", "/complaints", role="moderator"))[0].startswith(
            "今日投诉：0 条（超过 3 条触发一级响应）"
        )
        await complain(h, "a")
        assert texts(await complain(h, "a", "again")) == ["你的上一条投诉刚刚登记，10 分钟后可以再补充。"]
        await h.advance(10 * 60)
        assert posted(await complain(h, "a", "again"), "demo-mods") == ["📮 投诉 #2，来自 a：again"]


async def test_bad_input_members_and_english(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        assert texts(await h.say("demo", "bob", "/complain"))[0].startswith("用法：/complain")
        assert texts(await h.say("demo", "bob", "/complain " + "长" * 600))[0].startswith(
            "请控制在 500 个字以内"
        )
        assert texts(await h.say("demo", "bob", "/complaints")) == ["抱歉，这个命令只有管理员可以使用。"]
        out = await h.say("demo", "bob", "/complain \u202e<b>x</b>")
        assert posted(out, "demo-mods") == ["📮 投诉 #1，来自 bob：\u202e<b>x</b>"]
        await h.say("demo", "max", "/lang en", role="moderator")
        out = await complain(h, "ann", "the shop is broken")
        assert posted(out, "demo-mods") == ["📮 Complaint #2 from ann: the shop is broken"]
        assert posted(out, "demo")[0].startswith("Hello @ann, thank you for telling us.")
        assert texts(await h.say("demo", "max", "/ack 2")) == ["Alert #2 acknowledged."]
