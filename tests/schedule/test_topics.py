"""Topic prompts on the real core."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from handlers.topics.bank import starter_topics
from storage.topics import topic_replies, topic_suggestions, topics
from tests.harness import Harness, sends, texts
from tests.schedule.conftest import HarnessFactory, planning_features

MOD = {"role": "moderator"}


def first_line(records: list[dict[str, object]]) -> list[str]:
    return [t.split("\n用法")[0].split("\nUsage")[0] for t in texts(records)]


async def test_topic_posts_the_next_from_the_starter_bank(h: Harness) -> None:
    out = await h.say("demo", "alice", "话题")
    bank = starter_topics("zh-CN")
    assert texts(out) == [f"💬 今日话题：{bank[0]}\n（回复这条消息参与讨论）"]
    # Asking again the same day shows the same topic, replying to the topic post.
    again = sends(await h.say("demo", "bob", "/topic"))
    assert again[0]["text"] == f"💬 今日话题：{bank[0]}"
    assert again[0]["reply_to"] == sends(out)[0]["id"]


async def test_no_topic_repeats_before_the_bank_is_used_up(h: Harness) -> None:
    bank = starter_topics("zh-CN")
    posted: list[str] = []
    for _ in range(len(bank) + 2):
        out = await h.say("demo", "mod", "/topic now", **MOD)
        posted.append(texts(out)[0].split("：", 1)[1].split("\n")[0])
    assert posted[: len(bank)] == list(bank)
    assert sorted(posted[: len(bank)]) == sorted(bank)
    assert posted[len(bank) :] == list(bank[:2])


async def test_daily_topic_at_a_local_time_with_restart(h: Harness) -> None:
    out = await h.say("demo", "mod", "/topic schedule 20:00", **MOD)
    assert texts(out) == ["以后每天 20:00 自动发一个话题。"]
    first = await h.advance(86400)
    await h.restart()
    second = await h.advance(86400)
    assert [r["at"] for r in sends(first + second)] == [
        "2026-03-02T20:00:00+08:00",
        "2026-03-03T20:00:00+08:00",
    ]
    bank = starter_topics("zh-CN")
    assert [t.split("：", 1)[1].split("\n")[0] for t in texts(first + second)] == list(bank[:2])
    assert texts(await h.say("demo", "mod", "/topic schedule off", **MOD)) == ["已关闭每日话题。"]
    assert texts(await h.advance(86400)) == []


async def test_daily_topic_waits_for_quiet_hours(h: Harness) -> None:
    await h.say("demo", "mod", "/quiet 22:00-08:00", **MOD)
    await h.say("demo", "mod", "/topic schedule 23:00", **MOD)
    posted = sends(await h.advance(86400))
    assert [r["at"] for r in posted] == ["2026-03-03T08:00:00+08:00"]


async def test_add_list_delete(h: Harness) -> None:
    out = await h.say("demo", "mod", "/topic add 你最喜欢的编程语言是什么？", **MOD)
    new_id = len(starter_topics("zh-CN")) + 1
    assert texts(out) == [f"话题 #{new_id} 已加入话题库。"]
    out = await h.say("demo", "mod", "/topic list", **MOD)
    listing = texts(out)[0].split("\n")
    assert listing[0] == f"话题库共 {new_id} 个话题（第 1/5 页，按下次使用顺序）："
    # The group's own topic is next (issue 21), then the starter bank.
    assert listing[1] == f"#{new_id} 你最喜欢的编程语言是什么？（用过 0 次）"
    assert listing[2].startswith("#1 ")
    out = await h.say("demo", "mod", f"/topic del {new_id}", **MOD)
    assert texts(out) == [f"话题 #{new_id} 已从话题库删除。"]
    out = await h.say("demo", "mod", f"/topic del {new_id}", **MOD)
    assert first_line(out) == [f"本群话题库里没有 #{new_id}，可用 /topic list 查看。"]


async def test_empty_bank_tells_the_moderators(h: Harness) -> None:
    await h.say("demo", "mod", "/topic list", **MOD)  # seeds the bank
    for topic_id in range(1, len(starter_topics("zh-CN")) + 1):
        await h.say("demo", "mod", f"/topic del {topic_id}", **MOD)
    out = await h.say("demo", "alice", "/topic")
    by_chat = {(r["chat"], r["text"]) for r in sends(out)}
    assert ("demo-mods", "本群话题库已空，今天的话题没有发出。请用 /topic add 内容 补充话题。") in by_chat
    assert ("demo", "话题库已空，已通知管理员。") in by_chat


async def test_replies_to_the_topic_count_three_times(h: Harness) -> None:
    topic_msg = sends(await h.say("demo", "alice", "/topic"))[0]["id"]
    for i in range(5):
        await h.say("demo", "bob", f"我的想法 {i}", reply_to=topic_msg)
    await h.say("demo", "carol", "跑题了")  # not a reply: does not count
    async with h.services.db.begin() as conn:
        rows = (await conn.execute(select(topic_replies.c.count))).all()
    assert [r.count for r in rows] == [3]


async def test_suggestion_approve_and_reject(h: Harness) -> None:
    out = await h.say("demo", "alice", "/topic suggest 最近看过最好看的电影？")
    replies = {r["chat"]: r for r in sends(out)}
    assert replies["demo"]["text"] == "谢谢！你的话题投稿 #1 已交给管理员审核。"
    alert = replies["demo-mods"]
    assert alert["text"] == "@alice 投稿了话题 #1：\n最近看过最好看的电影？"
    assert alert["buttons"] == [
        [{"text": "通过", "data": "topics:ok:1"}, {"text": "拒绝", "data": "topics:no:1"}]
    ]
    # A member pressing the button is refused; the moderator's press decides, once.
    await h.say("demo", "mod", "hi", **MOD)
    denied = await h.press("demo-mods", "alice", alert["id"], "topics:ok:1")
    assert texts(denied) == ["抱歉，这个命令只有管理员可以使用。"]
    done = await h.press("demo-mods", "mod", alert["id"], "topics:ok:1")
    assert len(texts(done)) == 1 and texts(done)[0].startswith("投稿 #1 已由 @mod 通过，成为话题 #")
    again = await h.press("demo-mods", "mod", alert["id"], "topics:no:1")
    assert texts(again) == ["投稿 #1 已经处理过了。"]
    async with h.services.db.begin() as conn:
        found = (
            await conn.execute(select(topics.c.source).where(topics.c.text == "最近看过最好看的电影？"))
        ).all()
    assert [r.source for r in found] == ["suggested"]
    await h.say("demo", "bob", "/topic suggest 不好的题目")
    rejected = await h.press("demo-mods", "mod", alert["id"], "topics:no:2")
    assert texts(rejected) == ["投稿 #2 已被 @mod 拒绝。"]
    async with h.services.db.begin() as conn:
        statuses = (
            await conn.execute(select(topic_suggestions.c.status).order_by(topic_suggestions.c.id))
        ).all()
    assert [r.status for r in statuses] == ["approved", "rejected"]


async def test_member_cannot_manage_the_bank(h: Harness) -> None:
    for command in ("/topic add x", "/topic del 1", "/topic now", "/topic schedule 20:00", "/topic list"):
        assert texts(await h.say("demo", "alice", command)) == ["抱歉，这个命令只有管理员可以使用。"], command


async def test_bad_topic_input(h: Harness) -> None:
    assert first_line(await h.say("demo", "mod", "/topic add", **MOD)) == [
        "话题内容是空的。例如：/topic add 这周最开心的一件事是什么？"
    ]
    assert first_line(await h.say("demo", "alice", "/topic suggest")) == [
        "话题内容是空的。例如：/topic add 这周最开心的一件事是什么？"
    ]
    assert first_line(await h.say("demo", "mod", "/topic add " + "x" * 600, **MOD)) == [
        "话题最多 500 个字，这条有 600 个字。"
    ]
    await h.say("demo", "mod", "/topic add 同一个问题", **MOD)
    assert first_line(await h.say("demo", "mod", "/topic add 同一个问题", **MOD)) == [
        "话题库里已经有这个话题了。"
    ]
    assert first_line(await h.say("demo", "mod", "/topic schedule 25:00", **MOD)) == [
        "“25:00” 不是有效的时刻，请写成 09:00 或 20:30 这样。"
    ]
    assert first_line(await h.say("demo", "alice", "/topic dance")) == [
        "/topic 没有这个操作。可用 suggest，管理员还可用 add、list、del、now、schedule。"
    ]


async def test_english_group_gets_the_english_bank(h: Harness) -> None:
    await h.say("en", "mod", "/lang en", **MOD)
    out = await h.say("en", "alice", "/topic")
    assert texts(out) == [f"💬 Today's topic: {starter_topics('en')[0]}\n(Reply to this message to join in.)"]


async def test_daily_topic_once_on_the_night_the_clocks_go_back(make_harness: HarnessFactory) -> None:
    # 02:30 happens twice in Berlin on 25 October 2026; the scheduler itself posts it once.
    async with make_harness(clock="2026-10-24T12:00:00+02:00") as h:
        await h.say("berlin", "mod", "/set timezone Europe/Berlin", **MOD)
        await h.say("berlin", "mod", "/topic schedule 02:30", **MOD)
        posted = sends(await h.advance(2 * 86400))
    assert [r["at"] for r in posted] == ["2026-10-25T02:30:00+02:00", "2026-10-26T03:30:00+02:00"]


def _posted(records: list[dict[str, object]]) -> list[str]:
    return [t.split("：", 1)[1].split("\n")[0] for t in texts(records)]


async def test_own_topics_come_before_the_starter_bank(db_url: str, tmp_path: Path) -> None:
    """Issue 21: the group's own topics are picked first; the bank is the fallback once they are used."""
    async with Harness(tmp_path, db_url=db_url, features=planning_features()) as h:
        bank = starter_topics("zh-CN")
        await h.say("demo", "mod", "/topic now", **MOD)  # one starter topic used before any own one
        await h.say("demo", "mod", "/topic add 你最喜欢的编程语言是什么？", **MOD)
        suggested = sends(await h.say("demo", "alice", "/topic suggest 最近看过最好看的电影？"))
        alert = next(r for r in suggested if r["chat"] == "demo-mods")
        await h.press("demo-mods", "mod", alert["id"], "topics:ok:1")
        await h.say("demo", "mod", "/topic schedule 20:00", **MOD)
        posted = _posted(await h.advance(3 * 86400))
        assert posted == ["你最喜欢的编程语言是什么？", "最近看过最好看的电影？", bank[1]]
        # The listing shows the same order: the next topic first.
        listing = texts(await h.say("demo", "mod", "/topic list", **MOD))[0].split("\n")
        assert listing[1].startswith("#3 ")
        # An own topic added later still goes before the unused starters.
        await h.say("demo", "mod", "/topic add 这周最开心的一件事？", **MOD)
        assert _posted(await h.advance(2 * 86400)) == ["这周最开心的一件事？", bank[2]]


async def test_own_topics_first_in_english(make_harness: HarnessFactory) -> None:
    async with make_harness(config={"bot": {"language": "en"}}) as h:
        await h.say("demo", "mod", "/topic add What did you learn this week?", **MOD)
        out = await h.say("demo", "mod", "/topic now", **MOD)
        assert texts(out)[0].split("\n")[0] == "💬 Today's topic: What did you learn this week?"
        assert _posted_en(await h.say("demo", "mod", "/topic now", **MOD)) == [starter_topics("en")[0]]


def _posted_en(records: list[dict[str, object]]) -> list[str]:
    return [t.split(": ", 1)[1].split("\n")[0] for t in texts(records)]
