"""Built-in commands through the real core and the console adapter."""

from __future__ import annotations

import json
from pathlib import Path

from bot.adapter import Capability
from tests.harness import Harness, sends, texts


async def test_help_in_chinese_lists_member_commands_only(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        out = await h.say("demo", "alice", "/help")
        assert out[0] == {
            "at": "2026-03-02T09:00:00+08:00",
            "action": "seen",
            "chat": "demo",
            "user": "alice",
            "id": "m1",
        }
        reply = sends(out)[0]
        assert reply["reply_to"] == "m1"
        assert reply["text"].startswith("可用的命令")
        assert "/ping" in reply["text"]
        assert "/set " not in reply["text"]  # a moderator command is not offered to a member
        mod = texts(await h.say("demo", "max", "/help", role="moderator"))[0]
        assert "/set " in mod and "/status" in mod


async def test_help_for_one_command_and_unknown(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        detail = texts(await h.say("demo", "alice", "/help set"))[0]
        assert "/set" in detail and "管理" in detail
        unknown = texts(await h.say("demo", "alice", "/help nosuch"))[0]
        assert "nosuch" in unknown


async def test_prefixes_aliases_and_bot_name(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        for text in ("/ping", "!ping", "！ping", "/ping@qunyou", "ping", "/PING"):
            assert texts(await h.say("demo", "alice", text)) == ["pong 🏓 我在。"], text
        assert texts(await h.say("demo", "alice", "帮助"))[0].startswith("可用的命令")
        # addressed to another bot: not ours to answer
        assert texts(await h.say("demo", "alice", "/ping@otherbot")) == []
        # an English plain word inside a sentence is chat, not a command
        assert texts(await h.say("demo", "alice", "ping me later")) == []


async def test_unknown_command_hints_help(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        assert texts(await h.say("demo", "alice", "/frobnicate now")) == [
            "没有 /frobnicate 这个命令。发送 /help 查看可用的命令。"
        ]


async def test_member_refused_moderator_command_nothing_changed(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        assert texts(await h.say("demo", "alice", "/set language en")) == [
            "抱歉，这个命令只有管理员可以使用。"
        ]
        assert texts(await h.say("demo", "alice", "/ping")) == ["pong 🏓 我在。"]


async def test_set_validates_and_lang_switches(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        out = texts(await h.say("demo", "max", "/set language klingon", role="moderator"))[0]
        assert "zh | en" in out and "用法" in out
        out = texts(await h.say("demo", "max", "/set nosuch 1"))[0]
        assert "nosuch" in out
        assert texts(await h.say("demo", "max", "/set"))[0].startswith("用法：/set")
        assert texts(await h.say("demo", "max", "/set timezone Mars/Base"))[0].count("Asia/Shanghai") == 1
        assert texts(await h.say("demo", "max", "/lang en")) == [
            "OK, this group will be in English from now on."
        ]
        assert texts(await h.say("demo", "alice", "/ping")) == ["pong 🏓 I'm here."]
        group = await h.services.directory.group_for(h.adapter.group_chat("demo"))
        assert group.language == "en"
        await h.say("demo", "max", "/set timezone Europe/Berlin")
        shown = texts(await h.say("demo", "alice", "/settings"))[0]
        assert "timezone = Europe/Berlin" in shown and "language = en" in shown


async def test_promote_and_demote(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "bob", "hello")
        assert texts(await h.say("demo", "max", "/promote @bob moderator", role="moderator")) == [
            "抱歉，这个命令只有管理员可以使用。"
        ]
        assert texts(await h.say("demo", "olga", "/promote @bob moderator", role="owner")) == [
            "已将 @bob 设为管理。"
        ]
        assert "/status" in texts(await h.say("demo", "bob", "/help"))[0]
        assert texts(await h.say("demo", "olga", "/promote @ghost moderator"))[0].startswith(
            "群里找不到 “ghost”"
        )
        assert texts(await h.say("demo", "olga", "/promote @bob emperor"))[0].startswith("用法：/promote")
        assert texts(await h.say("demo", "olga", "/demote @bob")) == ["已取消 @bob 的管理身份。"]
        assert "/status" not in texts(await h.say("demo", "bob", "/help"))[0]


async def test_promote_by_reply(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "bob", "hello", id="hello-1")
        out = texts(await h.say("demo", "olga", "/promote moderator", role="owner", reply_to="hello-1"))
        assert out == ["已将 @bob 设为管理。"]


async def test_status_lists_adapters_database_and_jobs(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        out = texts(await h.say("demo", "max", "/status", role="moderator"))[0]
        assert "console" in out and "sqlite" in out and "定时任务" in out


async def test_mydata_is_sent_privately_as_json(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "alice", "hello there")
        out = await h.say("demo", "alice", "/mydata")
        private = [r for r in out if r["action"] == "send" and r.get("user") == "alice"]
        assert len(private) == 1
        body = json.loads(private[0]["text"].split("\n", 1)[1])
        assert body["user_id"] == "alice"
        assert body["groups"][0]["member"]["display_name"] == "alice"
        # The credit /me shows (100 for a member never penalised), not null (issue 21).
        assert body["groups"][0]["moderation"] == {"credit": 100}
        # Counts still in memory are flushed first, so today's message is in the export.
        assert [r["messages"] for r in body["groups"][0]["stored"]["activity_daily"]] == [1]
        assert texts(out)[-1] == "已私聊发给你。"


async def test_forgetme_asks_then_erases(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "alice", "hi", name="Alice Liddell")
        out = await h.say("demo", "alice", "/forgetme")
        ask = sends(out)[0]
        yes = ask["buttons"][0][0]["data"]
        assert yes.startswith("core:forget:yes:")
        # someone else cannot press it
        assert texts(await h.press("demo", "bob", ask["id"], yes)) == ["这个按钮不是给你的。"]
        out = await h.press("demo", "alice", ask["id"], yes)
        assert out[-1]["action"] == "edit" and out[-1]["text"] == "已删除你的个人数据。"
        # Their platform id is gone with their name: the row left is anonymous.
        assert await h.services.members.find(1, "alice") is None
        assert [m.display_name for m in await h.services.members.in_group(1)] == ["(forgotten)", "bob"]
        # Pressing the button again changes nothing and says so.
        again = await h.press("demo", "alice", ask["id"], yes)
        assert again[-1]["text"] == "已删除你的个人数据。"


async def test_buttons_degrade_to_numbered_options(tmp_path: Path) -> None:
    caps = frozenset(c for c in Capability if c is not Capability.BUTTONS)
    async with Harness(tmp_path, capabilities=caps) as h:
        ask = sends(await h.say("demo", "alice", "/forgetme"))[0]
        assert "buttons" not in ask
        assert "1. 确定删除（/forgetme）" in ask["text"] and "2. 取消" in ask["text"]
        # replying "2" to the message presses the second option
        out = await h.say("demo", "alice", "2", reply_to=ask["id"])
        assert next(r for r in out if r["action"] == "edit")["text"] == "好的，什么都没删。"


async def test_private_chat_commands(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        out = await h.dm("alice", "/ping")
        assert out[0] == {"at": "2026-03-02T09:00:00+08:00", "action": "seen", "user": "alice", "id": "m1"}
        assert sends(out)[0]["user"] == "alice"
        assert texts(await h.dm("alice", "/settings")) == ["这个命令请在群里使用。"]
        assert texts(await h.dm("bob", "/ping", lang="en")) == ["pong 🏓 I'm here."]


async def test_set_accepts_a_unique_short_key(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        out = texts(await h.say("demo", "max", "/set store_text off", role="moderator"))
        assert out == ["已将 stats.store_text 设为 off。"]
        assert await h.services.settings.get(1, "stats.store_text") is False


async def test_console_meets_the_adapter_contract_full_and_reduced(tmp_path: Path) -> None:
    from tests.adapters.contract import check_declared_reach_platform, check_undeclared_raise

    async with Harness(tmp_path) as h:
        chat = h.adapter.group_chat("demo")
        await h.say("demo", "bob", "hi", id="m-x")
        h.adapter.take()

        lookups = [h.adapter.role_lookups]

        def called() -> bool:
            # a record was written, or the platform's role table was read
            looked = h.adapter.role_lookups != lookups[0]
            lookups[0] = h.adapter.role_lookups
            return bool(h.adapter.take()) or looked

        assert await check_declared_reach_platform(h.adapter, chat, "bob", "m-x", called) >= 9
    caps = frozenset({Capability.SEND, Capability.REPLY})
    async with Harness(tmp_path / "reduced", capabilities=caps) as h:
        chat = h.adapter.group_chat("demo")
        assert await check_undeclared_raise(h.adapter, chat, "bob", "m1") == 9
