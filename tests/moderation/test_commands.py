"""Moderator, lexicon and report commands, floods and surges, and every bad-input path."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness import Harness
from tests.moderation.helpers import actions, alert_of, sent_to


async def _setup(h: Harness) -> None:
    await h.say("demo", "bob", "hi")
    await h.say("demo", "max", "hello", role="moderator")


async def test_lexicon_add_test_list_export_delete(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await _setup(h)
        out = await h.say("demo", "max", '/kw add yellow "cheap pills" custom')
        # the command message is removed and the reply never repeats the term in public
        assert [r["message"] for r in actions(out, "delete")] == [out[0]["id"]]
        (reply,) = sent_to(out, "demo")
        assert "pills" not in reply and "警告" in reply
        hit = await h.say("demo", "bob", "buy CHEAP  PILLS here")
        assert actions(hit, "delete") and "违规内容" in sent_to(hit, "demo")[0]
        tested = await h.say("demo", "max", "/kw test c.h.e.a.p p.i.l.l.s and free money")
        (report,) = sent_to(tested, "demo-mods")
        assert "cheappillsandfreemoney" in report and "cheap pills" in report and "结果：警告" in report
        assert sent_to(tested, "demo") == ["已发送到管理员群。"]
        listed = sent_to(await h.say("demo", "max", "/kw list yellow"), "demo-mods")[0]
        assert "cheap pills" in listed and "命中 1" in listed
        exported = sent_to(await h.say("demo", "max", "/kw export"), "demo-mods")[0]
        assert exported == 'yellow "cheap pills" custom'
        out = await h.say("demo", "max", "/kw del cheap pills")
        assert sent_to(out, "demo") == ["已删除 1 个词条。"]
        assert actions(await h.say("demo", "bob", "cheap pills"), "delete") == []


async def test_lexicon_import_reports_added_duplicate_and_invalid(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await _setup(h)
        body = "\n".join(
            ["red 代刷流水 gambling", 'yellow "spam link" ads', "purple x", "red 代刷流水", "red 🙂"]
        )
        out = await h.say("demo", "max", "/kw import\n" + body)
        (text,) = sent_to(out, "demo")
        assert "新增 2 条，重复 1 条，无效 2 行" in text
        assert "第 3 行" in text and "第 5 行" in text
        hit = await h.say("demo", "bob", "专业代刷流水")
        assert actions(hit, "mute")


async def test_lexicon_commands_in_the_moderator_chat_act_on_the_group(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await _setup(h)
        # Acting on the group from its moderator chat needs moderator rank in both chats.
        out = await h.say("demo-mods", "max", "/kw add red 内部词 custom")
        assert sent_to(out, "demo-mods") == ["抱歉，这个命令只有管理员可以使用。"]
        out = await h.say("demo-mods", "max", "/kw add red 内部词 custom", role="moderator")
        assert "本群词库共 1 条" in sent_to(out, "demo-mods")[0]
        assert actions(out, "delete") == []  # nothing to hide in the moderator chat
        assert actions(await h.say("demo", "bob", "这是内部词"), "mute")
        listed = await h.say("demo-mods", "max", "/alerts all", role="moderator")
        assert "#1" in sent_to(listed, "demo-mods")[0]


async def test_kw_test_in_private_uses_the_global_lexicon(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        out = await h.dm("zoe", "/kw test 網 上 賭 場 和 颜色情况")
        (text,) = [r["text"] for r in out if r["action"] == "send"]
        assert "网上赌场" in text and "结果：严重" in text and "不在分词边界上" in text
        out = await h.dm("zoe", "/kw add red x")
        assert [r["text"] for r in out if r["action"] == "send"] == [
            h.services.i18n.t("zh-CN", "moderation.kw.group_needed")
        ]


async def test_allow_list_cancels_a_hit(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await _setup(h)
        await h.say("demo", "max", "/kw add red casino gambling")
        assert actions(await h.say("demo", "bob", "watching Casino Royale tonight"), "mute")
        await h.say("demo", "max", "/unmute @bob")
        out = await h.say("demo", "max", '/allow add "casino royale"')
        assert sent_to(out, "demo") == ["已加入白名单。"]
        assert actions(await h.say("demo", "bob", "watching Casino Royale tonight"), "delete") == []
        assert actions(await h.say("demo", "bob", "best casino in town"), "delete")
        listed = sent_to(await h.say("demo", "max", "/allow list"), "demo-mods")[0]
        assert "casino royale" in listed
        assert sent_to(await h.say("demo", "max", "/allow del casino royale"), "demo") == ["已从白名单删除。"]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/kw add purple 词", "级别“purple”不对"),
        ("/kw add red", "用法"),
        ("/kw add red !!!", "去掉符号和空格后什么都不剩"),
        ('/kw add red "(a|aa)+$" regex', "太慢"),
        ('/kw add red "(oops" regex', "无法编译"),
        ("/kw add red " + "长" * 61, "太长"),
        ("/kw frob", "用法"),
        ("/kw", "用法"),
        ("/kw list purple", "级别“purple”不对"),
        ("/kw del 不存在的词", "没有这个词条"),
        ("/kw del 百家乐", "全局词库"),
        ("/allow add 🙂", "什么都不剩"),
        ("/mute @bob 10x", "看不懂时长"),
        ("/mute @bob 999d", "太长"),
        ("/warn", "请回复要处理的成员的消息"),
        ("/warn @nobody", "找不到"),
        ("/warn @max", "不能对管理员"),
        ("/warn @qunyou", "不能对机器人"),
        ("/ack 999", "找不到告警 #999"),
        ("/ack abc", "不是有效的编号"),
        ("/alerts maybe", "用法"),
        ("/reports", "用法"),
        ("/del", "请回复要删除的那条消息"),
    ],
)
async def test_bad_input_gets_a_clear_reply_and_changes_nothing(
    tmp_path: Path, command: str, expected: str
) -> None:
    async with Harness(tmp_path) as h:
        await _setup(h)
        await h.say("demo", "olga", "hi", role="moderator")
        out = await h.say("demo", "olga", command)
        texts = sent_to(out, "demo")
        assert texts and expected in texts[0], texts
        assert actions(out, "mute") == [] and actions(out, "ban") == []
        assert await h.services.state["moderation"].repos.lexicon.terms(1) == []


async def test_garbled_and_huge_input_is_handled(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await _setup(h)
        out = await h.say("demo", "bob", "\x00\ufffd" * 50_000 + "百家乐")
        assert actions(out, "mute")
        out = await h.say("demo", "max", "/kw test " + "𝕏" * 20_000)
        assert "结果：不违规" in sent_to(out, "demo-mods")[0]


async def test_members_cannot_use_moderator_commands(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await _setup(h)
        denied = h.services.i18n.t("zh-CN", "core.denied")
        for command in ("/warn @max", "/mute @max 1h", "/kw add red 词", "/kw list", "/alerts", "/ack 1", "/modlog",
                        "/allow add 词", "/reports stats", "/credit @max", "/ban @max"):  # fmt: skip
            await h.advance(seconds=5)  # not a flood
            out = await h.say("demo", "bob", command)
            texts = sent_to(out, "demo")
            assert texts and (texts[0] == denied or "只有管理员" in texts[0]), (command, texts)
            assert actions(out, "mute") == [] and actions(out, "ban") == []


async def test_moderator_commands(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await _setup(h)
        out = await h.say("demo", "max", "/mute @bob 2小时 刷屏")
        assert actions(out, "mute")[0]["until"] == "2026-03-02T11:00:00+08:00"
        assert "2 小时" in sent_to(out, "demo")[0]
        assert actions(await h.say("demo", "max", "/unmute @bob"), "unmute")
        out = await h.say("demo", "max", "/mute @bob")
        assert actions(out, "mute")[0]["until"] == "2026-03-02T10:00:00+08:00"
        out = await h.say("demo", "max", "/ban @bob 3d")
        assert actions(out, "ban")[0]["until"] == "2026-03-05T09:00:00+08:00"
        assert actions(await h.say("demo", "max", "/unban @bob"), "unban")
        assert actions(await h.say("demo", "max", "/kick @bob"), "kick")
        target = await h.say("demo", "bob", "some message")
        out = await h.say("demo", "max", "/del", reply_to=target[0]["id"])
        assert [r["message"] for r in actions(out, "delete")] == [target[0]["id"], out[0]["id"]]
        out = await h.say("demo", "max", "/warn 广告太多", reply_to=target[0]["id"])
        assert "@bob" in sent_to(out, "demo")[0] and "广告太多" in sent_to(out, "demo")[0]
        log = sent_to(await h.say("demo", "max", "/modlog @bob"), "demo-mods")[0]
        for action in ("mute", "unmute", "ban", "unban", "kick", "delete", "warn"):
            assert f" {action} " in log, action
        # a ban with a duration lifts itself
        await h.say("demo", "max", "/ban @bob 1h")
        assert actions(await h.advance(seconds=3600), "unban")


async def test_ack_command_records_handling(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await _setup(h)
        alert = alert_of(await h.say("demo", "bob", "来玩百家乐"))
        await h.advance(seconds=600)
        out = await h.say("demo-mods", "max", "/ack 1", role="moderator")
        assert "告警 #1 已确认" in sent_to(out, "demo-mods")[-1]
        assert [r["id"] for r in actions(out, "edit")] == [alert["id"]]
        assert sent_to(await h.advance(seconds=3600), "demo-mods") == []


async def test_reports_merge_and_handling_time_stats(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await _setup(h)
        bad = await h.say("demo", "bob", "加群领福利，私聊")
        out = await h.say("demo", "eve", "/report 骚扰", reply_to=bad[0]["id"])
        assert sent_to(out, "demo") == ["谢谢举报，管理员会尽快处理。"]
        alert = alert_of(out)
        assert "加群领福利" in alert["text"] and "骚扰" in alert["text"] and "举报人数：1" in alert["text"]
        assert [b["data"] for b in alert["buttons"][0]] == ["mod:ack:1", "mod:del:1", "mod:ban:1"]
        out = await h.say("demo", "fay", "举报", reply_to=bad[0]["id"])
        assert sent_to(out, "demo-mods") == []
        (edit,) = actions(out, "edit")
        assert "举报人数：2" in edit["text"]
        # the same member reporting twice does not count twice
        await h.say("demo", "fay", "举报", reply_to=bad[0]["id"])
        await h.advance(seconds=2 * 3600)
        out = await h.press("demo-mods", "max", alert["id"], "mod:del:1")
        assert [r["message"] for r in actions(out, "delete")] == [bad[0]["id"]]
        second = await h.say("demo", "bob", "another one")
        await h.say("demo", "eve", "/report", reply_to=second[0]["id"])
        await h.advance(seconds=4 * 3600)
        await h.say("demo-mods", "max", "/ack 2", role="moderator")
        stats = sent_to(await h.say("demo", "max", "/reports stats"), "demo")[0]
        assert "最近 7 天：2 次举报，已处理 2 次，处理时长中位数 3 小时" in stats
        assert "P90 4 小时" in stats


async def test_report_of_red_content_shows_the_category_not_the_text(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await _setup(h)
        await h.say("demo", "max", "/set moderation.enabled off")
        bad = await h.say("demo", "bob", "来玩百家乐")
        alert = alert_of(await h.say("demo", "eve", "/report", reply_to=bad[0]["id"]))
        assert "百家乐" not in alert["text"] and "赌博" in alert["text"]


async def test_report_needs_a_reply(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        out = await h.say("demo", "eve", "/report")
        assert "请回复要举报的那条消息" in sent_to(out, "demo")[0]


async def test_flood_by_rate_and_by_repetition(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await _setup(h)
        records = []
        for i in range(9):
            records += await h.say("demo", "spam", f"msg {i}")
        (mute,) = actions(records, "mute")
        assert mute["until"] == "2026-03-02T09:10:00+08:00"
        assert "刷屏" in sent_to(records, "demo")[0]
        assert "🚫 刷屏" in sent_to(records, "demo-mods")[0]
        records = []
        for _ in range(4):
            await h.advance(seconds=15)
            records += await h.say("demo", "echo", "same thing again")
        assert [r["user"] for r in actions(records, "mute")] == ["echo"]
        assert "重复发送相同内容" in sent_to(records, "demo-mods")[0]


async def test_surge_alert(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await _setup(h)
        records = []
        for i in range(6):
            records += await h.say("demo", f"u{i}", "get free money now")
            await h.advance(seconds=30)
        surge = [t for t in sent_to(records, "demo-mods") if "📈" in t]
        assert len(surge) == 1 and "超过 5 次" in surge[0]


async def test_english_group_gets_english_replies(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "olga", "/lang en", role="owner")
        out = await h.say("demo", "bob", "get free money now")
        assert sent_to(out, "demo") == [
            "⚠️ @bob's message was removed: it looked like a scam. Warning 1/5 (active for 30 days)."
        ]
        out = await h.say("demo", "olga", "/mute @bob 10x")
        assert sent_to(out, "demo")[0].startswith("I can't read the duration")
        out = await h.say("demo", "bob", "/warn @olga")
        assert sent_to(out, "demo") == ["Sorry, only moderators can use this command."]


async def test_exact_and_regex_entries_through_commands(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await _setup(h)
        await h.say("demo", "max", "/kw add yellow 在吗 ads exact")
        await h.say("demo", "max", r'/kw add yellow "t\.me/\w+" ads regex')
        assert actions(await h.say("demo", "bob", "在吗？"), "delete")
        await h.advance(seconds=30)
        assert actions(await h.say("demo", "carl", "你在吗"), "delete") == []
        out = await h.say("demo", "dan", "join t.me/spamchannel now")
        assert actions(out, "delete") and "广告" in sent_to(out, "demo")[0]
        exported = sent_to(await h.say("demo", "max", "/kw export"), "demo-mods")[0]
        assert exported.splitlines() == ["yellow 在吗 ads exact", r"yellow t\.me/\w+ ads regex"]
