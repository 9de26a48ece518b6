"""Scheduled posts and quiet hours on the real core: console adapter, SQLite file, virtual clock."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.events import ChatMigrated
from storage.schedules import scheduled_posts
from tests.harness import Harness, sends, texts
from tests.schedule.conftest import HarnessFactory

MOD = {"role": "moderator"}


def berlin(at: str) -> str:
    return datetime.fromisoformat(at).astimezone(ZoneInfo("Europe/Berlin")).isoformat()


def first_line(records: list[dict[str, object]]) -> list[str]:
    """Reply texts without the usage line the core appends to a bad-argument answer."""
    return [t.split("\n用法")[0].split("\nUsage")[0] for t in texts(records)]


async def count_rows(h: Harness) -> int:
    async with h.services.db.begin() as conn:
        return int((await conn.execute(select(func.count()).select_from(scheduled_posts))).scalar_one())


async def test_daily_post_fires_every_day_at_local_time(h: Harness) -> None:
    out = await h.say("demo", "mod", "/schedule add daily 09:30 早上好，今天也加油", **MOD)
    assert texts(out) == ["已保存定时消息 #1：每天 09:30。下次发送：2026-03-02 09:30。"]
    posted = await h.advance(3 * 86400)
    assert texts(posted) == ["早上好，今天也加油"] * 3
    assert [r["at"] for r in posted] == [
        "2026-03-02T09:30:00+08:00",
        "2026-03-03T09:30:00+08:00",
        "2026-03-04T09:30:00+08:00",
    ]


async def test_weekly_chinese_form_and_english_reply(h: Harness) -> None:
    await h.say("demo", "mod", "/lang en", **MOD)
    out = await h.say("demo", "mod", "/schedule add 每周五 20:00 Have a nice weekend", **MOD)
    assert texts(out) == ["Scheduled post #1 saved: every Friday 20:00. Next: 2026-03-06 20:00."]
    posted = await h.advance(14 * 86400)
    assert [r["at"] for r in sends(posted)] == ["2026-03-06T20:00:00+08:00", "2026-03-13T20:00:00+08:00"]


async def test_cron_sunday_zero_means_sunday(h: Harness) -> None:
    await h.say("demo", "mod", "/schedule add 0 10 * * 0 周日快乐", **MOD)
    posted = await h.advance(7 * 86400)
    assert [r["at"] for r in sends(posted)] == ["2026-03-08T10:00:00+08:00"]  # 8 March 2026 is a Sunday


async def test_once_posts_once_and_is_done(h: Harness) -> None:
    await h.say("demo", "mod", "/schedule add once 2026-03-03 12:00 午饭时间", **MOD)
    posted = await h.advance(5 * 86400)
    assert texts(posted) == ["午饭时间"]
    out = await h.say("demo", "mod", "/schedule list", **MOD)
    assert texts(out) == ["还没有定时消息。用 /schedule add 每天 09:00 内容 添加一条。"]


async def test_list_pause_resume_delete(h: Harness) -> None:
    await h.say("demo", "mod", "/schedule add weekdays 18:00 下班啦", **MOD)
    await h.say("demo", "mod", "/schedule add urgent monthly 1 10:00 月初提醒", **MOD)
    out = await h.say("demo", "mod", "/schedule list", **MOD)
    assert texts(out) == [
        "定时消息（2 条）：\n"
        "#1 工作日 18:00 → 下次 2026-03-02 18:00：下班啦\n"
        "#2 每月1日 10:00（紧急：不受静默时段限制） → 下次 2026-04-01 10:00：月初提醒"
    ]
    out = await h.say("demo", "mod", "/schedule pause 1", **MOD)
    assert texts(out) == ["定时消息 #1 已暂停。发送 /schedule resume 1 可恢复。"]
    assert texts(await h.advance(86400)) == []
    out = await h.say("demo", "mod", "/schedule resume 1", **MOD)
    assert texts(out) == ["定时消息 #1 已恢复。下次发送：2026-03-03 18:00。"]
    assert texts(await h.advance(86400)) == ["下班啦"]
    out = await h.say("demo", "mod", "/schedule del 1", **MOD)
    assert texts(out) == ["定时消息 #1 已删除。"]
    assert texts(await h.advance(86400)) == []
    assert await count_rows(h) == 1


async def test_restart_loses_nothing_and_repeats_nothing(h: Harness) -> None:
    await h.say("demo", "mod", "/schedule add daily 09:30 早", **MOD)
    assert texts(await h.advance(3600)) == ["早"]
    await h.restart()
    assert texts(await h.advance(60)) == []  # today's post is not repeated after the restart
    await h.restart()
    assert texts(await h.advance(86400)) == ["早"]


async def test_post_missed_while_down_is_sent_late_within_grace(h: Harness) -> None:
    await h.say("demo", "mod", "/schedule add daily 09:30 早", **MOD)
    await h.services.scheduler.stop()  # the bot is "down" across 09:30
    h.session.clock.set(h.now.replace(hour=1, minute=35))  # 09:35 Shanghai
    posted = await h.restart()
    posted += await h.advance(0)
    assert texts(posted) == ["早"]
    assert posted[0]["at"] == "2026-03-02T09:35:00+08:00"


async def test_post_missed_beyond_grace_is_skipped_not_doubled(h: Harness) -> None:
    await h.say("demo", "mod", "/schedule add daily 09:30 早", **MOD)
    await h.services.scheduler.stop()
    h.session.clock.set(h.now.replace(hour=2, minute=0))  # 10:00 Shanghai: 30 minutes late
    assert texts(await h.restart()) == []
    assert texts(await h.advance(0)) == []
    assert texts(await h.advance(86400)) == ["早"]  # the next day's is on time


async def test_quiet_hours_defer_to_the_end_of_the_window(h: Harness) -> None:
    out = await h.say("demo", "mod", "/quiet 22:00-08:00", **MOD)
    assert texts(out) == ["静默时段已设为 22:00-08:00，期间的自动消息会在结束后再发。"]
    await h.say("demo", "mod", "/schedule add daily 23:00 晚安", **MOD)
    await h.say("demo", "mod", "/schedule add urgent daily 23:30 紧急维护通知", **MOD)
    posted = await h.advance(86400)
    assert [(r["at"], r["text"]) for r in sends(posted)] == [
        ("2026-03-02T23:30:00+08:00", "紧急维护通知"),
        ("2026-03-03T08:00:00+08:00", "晚安"),
    ]


async def test_deferred_post_survives_a_restart(h: Harness) -> None:
    await h.say("demo", "mod", "/quiet 22:00-08:00", **MOD)
    await h.say("demo", "mod", "/schedule add daily 23:00 晚安", **MOD)
    assert texts(await h.advance(to="2026-03-02T23:05:00+08:00")) == []
    await h.restart()
    posted = await h.advance(to="2026-03-03T08:30:00+08:00")
    assert texts(posted) == ["晚安"]
    await h.restart()
    assert texts(await h.advance(60)) == []


async def test_quiet_off_and_show(h: Harness) -> None:
    assert texts(await h.say("demo", "mod", "/quiet", **MOD)) == [
        "尚未设置静默时段。例如：/quiet 22:00-08:00"
    ]
    await h.say("demo", "mod", "/quiet 22:00-08:00", **MOD)
    assert texts(await h.say("demo", "mod", "/quiet", **MOD)) == ["当前静默时段：22:00-08:00。"]
    assert texts(await h.say("demo", "mod", "/quiet off", **MOD)) == ["已关闭静默时段。"]
    await h.say("demo", "mod", "/schedule add daily 23:00 晚安", **MOD)
    posted = await h.advance(86400)
    assert [r["at"] for r in sends(posted)] == ["2026-03-02T23:00:00+08:00"]


async def test_dst_in_berlin(make_harness: HarnessFactory) -> None:
    # Saturday 24 October 2026, 08:00 in Berlin; summer time ends on Sunday 25 October at 03:00.
    async with make_harness(clock="2026-10-24T08:00:00+02:00") as h:
        await h.say("berlin", "mod", "/set timezone Europe/Berlin", **MOD)
        await h.say("berlin", "mod", "/schedule add daily 09:00 Guten Morgen", **MOD)
        await h.say("berlin", "mod", "/schedule add daily 02:30 Nachtschicht", **MOD)
        posted = sends(await h.advance(3 * 86400))
        morning = [r["at"] for r in posted if r["text"] == "Guten Morgen"]
        night = [r["at"] for r in posted if r["text"] == "Nachtschicht"]
    # The console writes times in the clock's original offset (+02:00): 09:00 CET shows as 10:00+02:00.
    assert morning == ["2026-10-24T09:00:00+02:00", "2026-10-25T10:00:00+02:00", "2026-10-26T10:00:00+02:00"]
    assert {berlin(at)[11:16] for at in morning} == {"09:00"}
    # 02:30 happens twice on the night of the change; it is posted once.
    assert night == ["2026-10-25T02:30:00+02:00", "2026-10-26T03:30:00+02:00", "2026-10-27T03:30:00+02:00"]
    assert {berlin(at)[11:16] for at in night} == {"02:30"}


# ------------------------------------------------------------------------------ bad input


async def test_member_cannot_schedule(h: Harness) -> None:
    out = await h.say("demo", "alice", "/schedule add daily 09:00 hi")
    assert first_line(out) == ["抱歉，这个命令只有管理员可以使用。"]
    assert await count_rows(h) == 0


async def test_bad_when_names_the_bad_part(h: Harness) -> None:
    cases = {
        "/schedule add daily 25:00 hi": "“25:00” 不是有效的时刻，请写成 09:00 或 20:30 这样。",
        "/schedule add weekly fryday 20:00 hi": "“fryday” 不是星期几。请用 周一…周日（或 mon…sun）。",
        "/schedule add 61 9 * * * hi": "cron 的 分钟 段 “61” 超出范围，应在 0–59 之间。",
        "/schedule add 0 9 * * x hi": "cron 的 星期 段 “x” 无效。例如：0 9 * * 1-5（周一到周五 09:00）",
        "/schedule add sometimes hi": "看不懂时间 “sometimes”。例如：每天 09:00 · 工作日 09:00 · 每周五 20:00 · "
        "每月1日 10:00 · once 2026-12-01 20:00 · 0 9 * * 1-5",
        "/schedule add once 2026-03-01 10:00 hi": "2026-03-01 10:00 已经过去了，请选一个将来的时间。",
        "/schedule add daily 09:00": "要发什么内容？请把内容写在时间后面：/schedule add 每天 09:00 早上好！",
        "/schedule frobnicate": "“frobnicate” 不是 /schedule 的操作，可用 add、list、del、pause、resume。",
    }
    for command, reply in cases.items():
        assert first_line(await h.say("demo", "mod", command, **MOD)) == [reply], command
    assert await count_rows(h) == 0


async def test_cron_weekday_name_error(h: Harness) -> None:
    out = await h.say("demo", "mod", "/schedule add 0 9 * * 9 hi", **MOD)
    assert first_line(out) == ["cron 的 星期 段 “9” 超出范围，应在 0–7 之间。"]


async def test_duplicate_schedule_is_refused(h: Harness) -> None:
    await h.say("demo", "mod", "/schedule add daily 09:00 hi", **MOD)
    out = await h.say("demo", "mod", "/schedule add 每天 9:00 hi", **MOD)
    assert first_line(out) == [
        "本群已经有一条相同时间（每天 09:00）、相同内容的定时消息，可用 /schedule list 查看。"
    ]
    assert await count_rows(h) == 1


async def test_unknown_id_and_missing_id(h: Harness) -> None:
    for sub in ("del", "pause", "resume"):
        out = await h.say("demo", "mod", f"/schedule {sub} 42", **MOD)
        assert first_line(out) == ["本群没有编号为 #42 的定时消息，可用 /schedule list 查看。"]
    out = await h.say("demo", "mod", "/schedule del", **MOD)
    assert texts(out)[0].startswith("用法")
    out = await h.say("demo", "mod", "/schedule del abc", **MOD)
    assert "abc" in texts(out)[0]


async def test_over_long_text_is_refused(h: Harness) -> None:
    h.adapter.max_text_length = 4096
    out = await h.say("demo", "mod", "/schedule add daily 09:00 " + "长" * 5000, **MOD)
    assert first_line(out) == ["内容有 5000 个字，本平台一条消息最多 4096 个字。"]
    assert await count_rows(h) == 0


async def test_bad_quiet_window(h: Harness) -> None:
    out = await h.say("demo", "mod", "/quiet 22:00", **MOD)
    assert first_line(out) == ["“22:00” 不是有效的时段，请写成 22:00-08:00 这样。"]
    out = await h.say("demo", "mod", "/quiet 08:00-08:00", **MOD)
    assert first_line(out) == ["“08:00-08:00” 的开始和结束是同一时刻，请写成 22:00-08:00 这样。"]
    out = await h.say("demo", "alice", "/quiet 22:00-08:00")
    assert first_line(out) == ["抱歉，这个命令只有管理员可以使用。"]


async def test_garbled_huge_when_is_answered_not_crashed(h: Harness) -> None:
    out = await h.say("demo", "mod", "/schedule add " + "\u202e\x00⚠️" * 3000, **MOD)
    reply = texts(out)[0]
    assert reply.startswith("看不懂时间")
    assert len(reply) < 200  # the bad part is quoted as a short excerpt


async def test_planned_posts_follow_a_chat_id_change(h: Harness) -> None:
    # Telegram gives a group a new id when it becomes a supergroup; planned posts must follow it.
    await h.say("-100", "mod", "/schedule add daily 09:30 早", **MOD)
    await h.say("-100", "mod", "/topic schedule 20:00", **MOD)
    event = ChatMigrated(
        event_id="migrate-1",
        at=h.now,
        chat=h.adapter.group_chat("-100"),
        new_scope_id="-200",
        new_channel_id="-200",
    )
    assert h.app.dispatcher is not None
    task = h.app.dispatcher.submit(event)
    assert task is not None
    await task
    posted = sends(await h.advance(to="2026-03-02T21:00:00+08:00"))
    assert [(r["chat"], r["text"].split("：")[0]) for r in posted] == [
        ("-200", "早"),
        ("-200", "💬 今日话题"),
    ]


async def test_per_group_limit_on_scheduled_posts(h: Harness) -> None:
    await h.say("demo", "mod", "/set schedule.max_posts 2", **MOD)
    await h.say("demo", "mod", "/schedule add daily 09:00 a", **MOD)
    await h.say("demo", "mod", "/schedule add daily 10:00 b", **MOD)
    out = await h.say("demo", "mod", "/schedule add daily 11:00 c", **MOD)
    assert first_line(out) == [
        "本群的定时消息已达上限 2 条，请先删除一些（/schedule list、/schedule del 编号）。"
    ]
    assert await count_rows(h) == 2


async def test_an_edited_reply_does_not_count_again(h: Harness) -> None:
    from dataclasses import replace

    from sqlalchemy import select as sel

    from bot.events import MessageEvent
    from storage.topics import topic_replies

    topic = sends(await h.say("demo", "alice", "/topic"))[0]["id"]
    await h.say("demo", "bob", "first", reply_to=topic, id="r1")
    original = MessageEvent(
        event_id="edit-r1",
        at=h.now,
        chat=h.adapter.group_chat("demo"),
        sender=h.adapter.user("bob"),
        message_id="r1",
        text="first, edited",
        reply_to=topic,
    )
    assert h.app.dispatcher is not None
    task = h.app.dispatcher.submit(replace(original, edited=True))
    assert task is not None
    await task
    async with h.services.db.begin() as conn:
        counted = (await conn.execute(sel(topic_replies.c.count))).scalar_one()
    assert counted == 1
