"""``/id``: a member's platform user id and the chat's id, for config.toml (issue 21)."""

from __future__ import annotations

from pathlib import Path

from tests.harness import Harness, texts


async def test_id_in_a_group_zh(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        out = texts(await h.say("demo", "alice", "/id"))
    assert out == [
        "🆔 你的用户 ID：alice（平台 console）\n"
        "本聊天 ID：demo（适配器 console）\n"
        '设为超级用户：在 config.toml 的 [bot.superusers] 下写 console = ["alice"]\n'
        '设为所有群的默认管理员群：[core] mod_chat = "demo"（单个群请用 /modchat link）'
    ]


async def test_id_in_a_group_en_and_privately(tmp_path: Path) -> None:
    async with Harness(tmp_path, config={"bot": {"language": "en"}}) as h:
        out = texts(await h.say("demo", "bob", "/id"))
        private = texts(await h.dm("bob", "/id"))
        # Arguments are ignored, never an error: the command only reports.
        extra = texts(await h.say("demo", "bob", "/id @alice"))
    assert out == [
        "🆔 Your user id: bob (platform console)\n"
        "This chat's id: demo (adapter console)\n"
        'To make yourself a superuser, in config.toml under [bot.superusers]: console = ["bob"]\n'
        'To make this every group\'s default moderator chat: [core] mod_chat = "demo" (for one group, use /modchat link)'
    ]
    assert extra == out
    assert len(private) == 1
    lines = private[0].split("\n")
    assert lines[0] == "🆔 Your user id: bob (platform console)"
    assert lines[1].startswith("This private chat's id: ")
    assert (
        lines[2] == 'To make yourself a superuser, in config.toml under [bot.superusers]: console = ["bob"]'
    )
    assert len(lines) == 3


async def test_id_listed_in_help(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        assert "• /id — 查看你的用户 ID 和本聊天的 ID" in texts(await h.say("demo", "alice", "/help"))[
            0
        ].split("\n")
        assert "• /id — 查看你的用户 ID 和本聊天的 ID" in texts(await h.dm("alice", "/help"))[0].split("\n")
