"""FAQ auto-replies through the console harness, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.events import UserRef
from tests.harness import Harness, sends, texts

Record = dict[str, Any]


def answers(records: list[Record], chat: str = "demo") -> list[Record]:
    """The bot's automatic answers (messages with vote buttons) in a chat."""
    return [r for r in sends(records) if r.get("chat") == chat and r.get("buttons")]


async def mod(h: Harness, text: str, chat: str = "demo") -> list[str]:
    return texts(await h.say(chat, "max", text, role="moderator"))


async def test_keyword_folding_exact_and_regex(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await mod(h, "/set desk.faq_cooldown 0")
        assert await mod(h, "/faq add 签到; check-in | 每天发 /checkin 就能签到，{name}！") == [
            "已添加问答 #1（关键词，2 个触发词）。"
        ]
        assert (await mod(h, "/faq add exact 群规 | 群规见置顶"))[0].startswith("已添加问答 #2（精确")
        assert (await mod(h, r"/faq add regex ^价格\s*\d+ | 价格请看官网"))[0].startswith(
            "已添加问答 #3（正则"
        )
        out = await h.say("demo", "bob", "请问在哪里簽　到")  # traditional, full-width space
        assert [r["text"] for r in answers(out)] == ["每天发 /checkin 就能签到，bob！"]
        assert answers(out)[0]["reply_to"] == out[0]["id"]
        assert [r["text"] for r in answers(await h.say("demo", "ann", "ＣＨＥＣＫ-IN how?"))] == [
            "每天发 /checkin 就能签到，ann！"
        ]
        assert answers(await h.say("demo", "bob", "群规呢")) == []  # exact: the whole message only
        assert [r["text"] for r in answers(await h.say("demo", "bob", "群 规"))] == ["群规见置顶"]
        assert [r["text"] for r in answers(await h.say("demo", "bob", "价格 30"))] == ["价格请看官网"]
        assert answers(await h.say("demo", "bob", "今天天气不错")) == []


async def test_question_mode_and_threshold_edges(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await mod(h, "/set desk.faq_cooldown 0")
        await mod(h, "/faq add question 如何签到; how do I check in | 发送 /checkin 即可")
        await mod(h, "/faq add question 怎么兑换积分 | 用 /shop 兑换")
        out = await h.say("demo", "bob", "怎么签到啊？")
        assert [r["text"] for r in answers(out)] == ["发送 /checkin 即可"]
        assert [r["text"] for r in answers(await h.say("demo", "ann", "积分怎么兑换"))] == ["用 /shop 兑换"]
        assert answers(await h.say("demo", "cat", "我签到了")) == []  # not a question
        # A question that only mentions the word: close, but below the default 60 %.
        near = (await mod(h, "/faq test 今天签到的人多吗"))[0]
        assert near.startswith("没有条目会回答。最接近的是 #1") and "低于阈值 60%" in near
        score = int(near.split("相似度 ")[1].split("%")[0])
        assert 0 < score < 60
        assert answers(await h.say("demo", "dan", "今天签到的人多吗")) == []
        await mod(h, f"/set desk.faq_threshold {score}")  # exactly the score: answers
        assert (await mod(h, "/faq test 今天签到的人多吗"))[0].startswith("会由 #1 回答")
        assert [r["text"] for r in answers(await h.say("demo", "dan", "今天签到的人多吗"))] == [
            "发送 /checkin 即可"
        ]
        await mod(h, f"/set desk.faq_threshold {score + 1}")  # one above: silent
        assert answers(await h.say("demo", "eve", "今天签到的人多吗")) == []
        await mod(h, "/lang en")
        assert [r["text"] for r in answers(await h.say("demo", "fay", "How can I check in?"))] == [
            "发送 /checkin 即可"
        ]


async def test_cooldown_per_chat_survives_restart(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await mod(h, "/faq add 会员 | 发 /checkin")
        assert len(answers(await h.say("demo", "bob", "会员"))) == 1
        assert answers(await h.say("demo", "ann", "会员怎么弄")) == []  # cooling down here
        await mod(h, "/faq add 会员 | other", chat="other")
        assert len(answers(await h.say("other", "bob", "会员"), "other")) == 1  # another chat
        await h.advance(30)
        await h.restart()
        assert answers(await h.say("demo", "ann", "会员")) == []  # 30 s left after the restart
        await h.advance(31)
        assert len(answers(await h.say("demo", "ann", "会员"))) == 1
        assert (await mod(h, "/faq edit 1 cooldown 0"))[0].startswith("问答 #1 已修改")
        assert len(answers(await h.say("demo", "cat", "会员"))) == 1
        assert len(answers(await h.say("demo", "dan", "会员"))) == 1


async def test_no_answer_to_deleted_messages_commands_or_bots(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await mod(h, "/faq add 会员 | 发 /checkin")
        await mod(h, "/faq add 代刷 | never shown")
        await mod(h, "/kw add red 代刷流水")
        out = await h.say("demo", "bob", "代刷流水 会员")  # moderation deletes it
        assert [r for r in out if r["action"] == "delete"] and answers(out) == []
        h.adapter.users["otherbot"] = UserRef(
            "console", "otherbot", "OtherBot", is_bot=True, username="otherbot"
        )
        assert answers(await h.say("demo", "otherbot", "会员")) == []
        assert answers(await h.say("demo", "bob", "/checkin 会员")) == []
        await mod(h, "/set desk.faq off")
        assert answers(await h.say("demo", "bob", "会员")) == []
        await mod(h, "/set desk.faq on")
        assert len(answers(await h.say("demo", "bob", "会员"))) == 1


async def test_votes_one_per_member_and_forged_presses(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await mod(h, "/faq add 会员 | 发 /checkin")
        await mod(h, "/faq add 会员 | other", chat="other")
        answer = answers(await h.say("demo", "bob", "会员"))[0]
        data_yes, data_no = (b["data"] for b in answer["buttons"][0])
        assert texts(await h.press("demo", "bob", answer["id"], data_yes)) == ["谢谢反馈，很高兴帮到你。"]
        assert texts(await h.press("demo", "bob", answer["id"], data_no)) == ["你已经评价过这条回答了。"]
        assert texts(await h.press("demo", "ann", answer["id"], data_no)) == [
            "谢谢反馈，管理员会改进这条回答。"
        ]
        # Forged: unknown shape is ignored; an unknown or another group's answer is stale.
        for data in ("desk:y", "desk:x:1", "desk:y:abc", "desk:y:1:2", "desk:y:" + "9" * 300):
            assert texts(await h.press("demo", "cat", answer["id"], data)) == []
        assert texts(await h.press("demo", "cat", answer["id"], "desk:y:999")) == ["这条回答已经找不到了。"]
        other = answers(await h.say("other", "bob", "会员"), "other")[0]
        forged = other["buttons"][0][0]["data"]
        assert texts(await h.press("demo", "cat", answer["id"], forged)) == ["这条回答已经找不到了。"]
        stats = (await mod(h, "/faq stats"))[0]
        assert "#1“会员”：回答 1 次，2 票中 50% 认为有帮助" in stats


async def test_members_and_moderators(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        assert texts(await h.say("demo", "bob", "/faq list")) == [
            "本群还没有问答条目。管理员可以用 /faq add 添加。"
        ]
        for line in (
            "/faq add a | b",
            "/faq remove 1",
            "/faq edit 1 cooldown 5",
            "/faq test x",
            "/faq export",
        ):
            assert texts(await h.say("demo", "bob", line)) == ["抱歉，这个命令只有管理员可以使用。"], line
        await mod(h, "/faq add 会员 | 发 /checkin")
        assert texts(await h.say("demo", "bob", "/faq list"))[0].endswith("#1 [关键词] 会员 → 发 /checkin")


async def test_bad_input(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        assert (await mod(h, "/faq add"))[0].startswith("用法：")
        assert (await mod(h, "/faq add 签到 发 checkin"))[0].startswith("请用“ | ”隔开")
        assert (await mod(h, "/faq add | 只有回答"))[0].startswith("“|”前面至少要有一个触发词")
        assert (await mod(h, "/faq add 签到 |"))[0].startswith("“|”后面需要写上回答")
        assert (await mod(h, "/faq add regex (a+)+$ | x"))[0].startswith("正则“(a+)+$”在长消息上太慢")
        assert (await mod(h, "/faq add regex [ | x"))[0].startswith("“[”不是有效的正则表达式")
        assert (await mod(h, "/faq add regex a* | x"))[0].startswith("正则“a*”能匹配空文本")
        assert (await mod(h, "/faq add ！！！ | x"))[0].startswith("触发词“！！！”里没有可匹配的文字")
        assert "最多 200 个字符" in (await mod(h, "/faq add " + "长" * 300 + " | x"))[0]
        assert "最多 2000 个字符" in (await mod(h, "/faq add 长 | " + "x" * 2500))[0]
        assert (await mod(h, "/faq edit 7 | x"))[0].startswith("本群没有编号为 #7 的问答")
        assert "用法" in (await mod(h, "/faq remove abc"))[0]
        assert (await mod(h, "/faq remove 7"))[0].startswith("本群没有编号为 #7")
        await mod(h, "/faq add 签到 | 发 /checkin")
        assert (await mod(h, "/faq edit 1 cooldown soon"))[0].startswith("“soon”不是有效的冷却时间")
        assert (await mod(h, "/faq edit 1 cooldown 3d"))[0].startswith("“3d”不是有效的冷却时间")
        assert (await mod(h, "/faq edit 1 lang klingon"))[0].startswith("“klingon”不是可用的语言")
        assert (await mod(h, "/faq edit 1 nothing here"))[0].startswith("请用“ | ”隔开")
        assert (await mod(h, "/faq edit 1 question"))[0].startswith("问答 #1 已修改")  # mode only
        assert (await mod(h, "/faq edit 1 | 新回答 {group}"))[0].endswith(
            "冷却 0:01:00，语言 不限，回答 所有人"
        )
        listed = (await mod(h, "/faq list"))[0]
        assert "#1 [问题] 签到 → 新回答 {group}" in listed
        assert (await mod(h, "/faq edit 1 lang en"))[0].endswith("语言 en，回答 所有人")
        assert answers(await h.say("demo", "bob", "签到怎么弄？")) == []  # an English entry, zh group
        assert (await mod(h, "/faq edit 1 lang any"))[0].endswith("语言 不限，回答 所有人")
        assert (await mod(h, "/faq test \u0000\ud800"))[0] == "没有条目会回答这句话。"


async def test_csv_import_with_bad_lines_and_export_round_trip(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        body = "\n".join(
            [
                "mode,triggers,answer,lang,cooldown",
                "keyword,签到;打卡,发 /checkin,any,30",
                "question,如何兑换积分,用 /shop,zh-CN,",
                "sometimes,x,y",
                "keyword,only two",
                "regex,(a+)+$,slow",
                "exact,群规,见置顶,klingon",
                "exact,群规,见置顶,en,forever",
                '"keyword,"broken',
            ]
        )
        out = (await mod(h, "/faq import\n" + body))[0]
        lines = out.split("\n")
        assert lines[0] == "已导入 2 条问答；6 行未导入。"
        assert lines[1].startswith("第 4 行：“sometimes”不是匹配模式")
        assert lines[2].startswith("第 5 行：应有 3 到 5 列")
        assert lines[3].startswith("第 6 行：正则“(a+)+$”在长消息上太慢")
        assert lines[4].startswith("第 7 行：“klingon”不是可用的语言")
        assert lines[5].startswith("第 8 行：“forever”不是有效的冷却时间")
        assert lines[6].startswith("第 9 行：")
        exported = (await mod(h, "/faq export"))[0]
        assert exported.split("\n")[1:3] == [
            "keyword,签到;打卡,发 /checkin,any,30",
            "question,如何兑换积分,用 /shop,zh-CN,60",
        ]
        await mod(h, "/faq remove 1")
        await mod(h, "/faq remove 2")
        assert (await mod(h, "/faq import\n" + exported))[0] == "已导入 2 条问答；0 行未导入。"
        assert len(answers(await h.say("demo", "bob", "今天打卡了吗"))) == 1
        assert (await mod(h, "/faq import"))[0].startswith("用法：")


async def test_english_group_end_to_end(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await mod(h, "/lang en")
        assert await mod(h, "/faq add question how do I check in | Type /checkin, {name}.") == [
            "FAQ entry #1 added (question, 1 trigger(s))."
        ]
        out = await h.say("demo", "bob", "How can I check in here?")
        assert [r["text"] for r in answers(out)] == ["Type /checkin, bob."]
        assert [b["text"] for b in answers(out)[0]["buttons"][0]] == ["👍 Helpful", "👎 Not helpful"]
        assert (await mod(h, "/faq test what time is it?"))[0] == "No entry would answer this."
        assert (await mod(h, "/faq stats"))[0].startswith("FAQ statistics: 1 entries, 1 have answered.")


async def test_unanswered_questions_grouped_with_make_faq(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await mod(h, "/faq add 会员 | 会员说明")
        asked = await h.say("demo", "bob", "APP 怎么下载？")
        await h.say("demo", "ann", "app怎么下载啊")
        answered = await h.say("demo", "cat", "周末有活动吗？")
        await h.say("demo", "dan", "有的，周六", reply_to=answered[0]["id"])  # answered by someone
        await h.say("demo", "eve", "会员怎么开？")  # answered by the FAQ
        await h.say("demo", "eve", "今天真热")  # not a question
        await h.advance(10 * 60)
        await h.say("demo", "fay", "发票怎么开？")
        await h.restart()  # the open questions are read back
        await h.say("demo", "bob", "顶一下", reply_to=asked[0]["id"])  # the asker is not an answer
        await h.advance(25 * 60)
        out = await h.say("demo", "max", "/faq unanswered")
        listing = next(r for r in out if r["action"] == "send")
        assert (
            listing["text"] == "30 分钟内无人回答的问题（最近一天）：2 个，分为 1 组：\n1. ×2 APP 怎么下载？"
        )
        data = listing["buttons"][0][0]["data"]
        assert texts(await h.press("demo", "max", listing["id"], data)) == [
            "补上回答后发送：\n/faq add question APP 怎么下载？ | "
        ]
        assert texts(await h.press("demo", "bob", listing["id"], data)) == [
            "抱歉，这个命令只有管理员可以使用。"
        ]
        assert texts(await h.press("demo", "max", listing["id"], "desk:mk:999")) == [
            "这个问题已经不在记录里了。"
        ]
        assert texts(await h.say("demo", "bob", "/faq unanswered")) == ["抱歉，这个命令只有管理员可以使用。"]
        await h.advance(8 * 86400)
        assert texts(await h.say("demo", "max", "/faq unanswered")) == ["最近一天没有无人回答的问题。"]


async def test_who_an_entry_answers(tmp_path: Path, db_url: str) -> None:
    """``who members`` leaves moderators unanswered; ``who newcomers`` answers members first seen
    in the last 7 days only (an old member, then the same newcomer 8 days later, get nothing)."""
    async with Harness(tmp_path, db_url=db_url) as h:
        await mod(h, "/set desk.faq_cooldown 0")
        await h.say("demo", "old", "大家好")
        await mod(h, "/faq add 签到 | 发 /checkin")
        await mod(h, "/faq add 积分 | 积分看 /points")
        assert await mod(h, "/faq edit 1 who members") == [
            "问答 #1 已修改：\n#1 [关键词] 签到 → 发 /checkin\n冷却 0s，语言 不限，回答 普通成员（管理员除外）"
        ]
        assert answers(await h.say("demo", "max", "怎么签到")) == []
        assert [r["text"] for r in answers(await h.say("demo", "bob", "怎么签到"))] == ["发 /checkin"]
        assert (await mod(h, "/faq edit 2 who 新成员"))[-1].endswith("回答 新成员（最近 7 天）")
        await h.advance(8 * 86400)
        await h.say("demo", "new", "你好")
        assert answers(await h.say("demo", "old", "积分在哪看")) == []
        assert [r["text"] for r in answers(await h.say("demo", "new", "积分在哪看"))] == ["积分看 /points"]
        await h.advance(8 * 86400)
        assert answers(await h.say("demo", "new", "积分在哪看")) == []
        assert (await mod(h, "/faq edit 2 who vips"))[0].split("\n")[0] == (
            "“vips”不是可用的回答对象，请用 all（所有人）、members（普通成员）或 newcomers（新成员）。"
        )
        assert (await mod(h, "/faq edit 2 who all"))[-1].endswith("回答 所有人")
        assert [r["text"] for r in answers(await h.say("demo", "old", "积分在哪看"))] == ["积分看 /points"]


async def test_who_in_english(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await mod(h, "/lang en")
        await mod(h, "/faq add refund | Ask support.")
        assert (await mod(h, "/faq edit 1 who members"))[-1].split("\n")[-1] == (
            "cooldown 0:01:00, language any, answers members (not moderators)"
        )
        assert (await mod(h, "/faq edit 1 who nobody"))[0].split("\n")[0] == (
            "“nobody” is not who an entry answers; use all, members or newcomers."
        )
