"""Standard replies (/reply, /replies) through the console harness, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from tests.harness import Harness, texts


async def mod(h: Harness, text: str) -> list[str]:
    return texts(await h.say("demo", "max", text, role="moderator"))


async def test_starter_posted_by_the_bot_and_the_command_deleted(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "bob", "hi")
        listed = (await mod(h, "/replies"))[0].split("\n")
        assert listed[0] == "标准话术（/reply 名称 [@成员]）："
        assert [line.split(" — ")[0] for line in listed[1:]] == [
            "• apology",
            "• complaint",
            "• event_change",
            "• maintenance",
            "• outage",
            "• refund",
            "• rules",
        ]
        out = await h.say("demo", "max", "/reply outage")
        assert [r["message"] for r in out if r["action"] == "delete"] == [out[0]["id"]]
        posted = [r for r in out if r["action"] == "send"]
        assert len(posted) == 1 and "reply_to" not in posted[0]
        assert posted[0]["text"].split("\n") == [
            "各位，感谢大家的耐心。",
            "目前服务出现故障。",
            "部分功能可能暂时无法使用或响应较慢。",
            "技术同事正在紧急处理，一小时内会在群里更新进展。",
            "给大家带来不便，非常抱歉，我们会持续同步。",
        ]
        assert texts(await h.say("demo", "max", "/reply 投诉 @bob"))[0].startswith("@bob，感谢你的反馈。")


async def test_edit_from_chat_per_language_and_restore(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "bob", "hi")
        assert await mod(h, "/replies set outage plan 预计今晚 8 点恢复。") == [
            "已保存本群话术“outage”的计划。"
        ]
        assert "预计今晚 8 点恢复。" in texts(await h.say("demo", "max", "/reply 故障"))[0]
        assert "（本群自定义）" in (await mod(h, "/replies"))[0]
        await mod(h, "/replies set outage impact -")
        shown = (await mod(h, "/replies show outage"))[0]
        assert "【影响】\n" in shown + "\n" and "【计划】预计今晚 8 点恢复。" in shown
        await mod(h, "/replies set hello fact 欢迎 {name} 来到 {group}！")
        assert texts(await h.say("demo", "max", "/reply hello @bob")) == ["欢迎 @bob 来到 demo！"]
        await h.restart()
        assert texts(await h.say("demo", "max", "/reply hello")) == ["欢迎 各位 来到 demo！"]
        await mod(h, "/lang en")
        assert texts(await h.say("demo", "max", "/reply outage"))[0].startswith("Hello everyone, thanks")
        assert (await mod(h, "/reply hello"))[0].startswith("There is no reply named “hello”")
        await mod(h, "/lang zh")
        assert await mod(h, "/replies remove outage") == ["已删除本群对“outage”的修改，恢复为标准内容。"]
        assert "技术同事正在紧急处理" in texts(await h.say("demo", "max", "/reply outage"))[0]
        assert await mod(h, "/replies remove hello") == ["已删除话术“hello”。"]


async def test_bad_input_and_members(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        for line in ("/reply outage", "/replies", "/replies set outage plan x", "/replies remove outage"):
            assert texts(await h.say("demo", "bob", line)) == ["抱歉，这个命令只有管理员可以使用。"], line
        assert (await mod(h, "/reply"))[0].startswith("用法：/reply")
        assert (await mod(h, "/reply nosuch"))[0].startswith("没有名为“nosuch”的话术")
        assert (await mod(h, "/reply ../etc"))[0].startswith("“../etc”不能作话术名称")
        assert (await mod(h, "/reply outage @nobody"))[0].startswith("群里找不到 “nobody”")
        assert (await mod(h, "/replies set outage color x"))[0].startswith("“color”不是字段")
        assert (await mod(h, "/replies set outage plan"))[0].startswith("用法：")
        assert (await mod(h, "/replies set outage plan " + "长" * 1200))[0].startswith("内容太长了")
        assert (await mod(h, "/replies set empty fact -"))[0] == "话术至少要有一个字段有内容。\n" + (
            "用法：/replies | /replies show 名称 | /replies set 名称 字段 内容 | /replies remove 名称 — 标准话术库（管理员）"
        )
        assert (await mod(h, "/replies remove outage"))[0].startswith("本群没有自定义过话术“outage”")
        assert (await mod(h, "/replies show nosuch"))[0].startswith("没有名为“nosuch”的话术")
