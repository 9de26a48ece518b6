"""Activities on the real core: the whole timeline, the waitlist, attendance, feedback, bad input."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from bot.adapter import Capability
from storage.activities import activities, activity_attendance
from tests.harness import Harness, sends, texts
from tests.schedule.conftest import planning_features

MOD = {"role": "moderator"}


def first_line(records: list[dict[str, object]]) -> list[str]:
    return [t.split("\n用法")[0].split("\nUsage")[0] for t in texts(records)]


async def count_activities(h: Harness) -> int:
    async with h.services.db.begin() as conn:
        return int((await conn.execute(select(func.count()).select_from(activities))).scalar_one())


async def test_whole_timeline(h: Harness) -> None:
    # Monday 09:00; the activity is on Friday 20:00, so every phase lies ahead.
    out = await h.say("demo", "mod", "/event add 观影夜 | 周五 20:00 | 2h | 一起看电影 | 10", **MOD)
    announce = sends(out)[0]
    assert announce["text"] == (
        "📅 新活动！\n#1 观影夜\n🕒 2026-03-06 20:00（Asia/Shanghai），2 小时\n👥 名额 10 人\n一起看电影\n"
        "点“参加”，或发送 /join 1 报名。"
    )
    assert announce["buttons"] == [
        [{"text": "参加", "data": "ev:join:1"}, {"text": "取消", "data": "ev:leave:1"}]
    ]
    joined = await h.press("demo", "alice", announce["id"], "ev:join:1")
    assert texts(joined) == ["@alice 报名了 #1 观影夜，到时见！"]
    await h.say("demo", "bob", "/join 1")
    timeline = sends(await h.advance(to="2026-03-06T21:00:00+08:00"))
    assert [(r["at"], r["text"].split("\n")[0]) for r in timeline] == [
        (
            "2026-03-03T20:00:00+08:00",
            "⏳ 还有 3 天：#1 观影夜 将于 2026-03-06 20:00 开始，目前已有 2 人报名。",
        ),
        ("2026-03-05T20:00:00+08:00", "⏳ 明天见：#1 观影夜 将于 2026-03-06 20:00 开始，已有 2 人报名。"),
        ("2026-03-06T19:00:00+08:00", "⏰ 还有 1 小时：#1 观影夜 将于 2026-03-06 20:00 开始。"),
        ("2026-03-06T20:00:00+08:00", "🎉 #1 观影夜 现在开始！发送 /here 1 签到（截至 2026-03-06 22:00）。"),
    ]
    assert timeline[2]["text"].split("\n")[1] == "@alice @bob"  # the reminder mentions the participants
    assert texts(await h.say("demo", "alice", "/here 1")) == ["@alice 已到场 #1 观影夜，欢迎！"]
    assert texts(await h.say("demo", "alice", "到场 1")) == ["你已经在 #1 签到过了。"]
    feedback = sends(await h.advance(to="2026-03-07T20:00:00+08:00"))
    assert [r["text"] for r in feedback] == ["#1 观影夜 怎么样？请打分，1（一般）到 5（很棒）："]
    assert [b["data"] for b in feedback[0]["buttons"][0]] == [f"ev:rate:1:{n}" for n in range(1, 6)]
    assert texts(await h.press("demo", "alice", feedback[0]["id"], "ev:rate:1:5")) == [
        "谢谢你给 #1 打分：5/5。"
    ]
    assert texts(await h.press("demo", "bob", feedback[0]["id"], "ev:rate:1:4")) == [
        "谢谢你给 #1 打分：4/5。"
    ]
    assert texts(await h.press("demo", "bob", feedback[0]["id"], "ev:rate:1:3")) == [
        "你给 #1 的评分已改为 3/5。"
    ]
    outsider = await h.press("demo", "zed", feedback[0]["id"], "ev:rate:1:1")
    assert texts(outsider) == ["只有报名或到场的成员才能给 #1 打分。"]
    summary = sends(await h.advance(to="2026-03-10T00:00:00+08:00"))
    assert [(r["chat"], r["text"]) for r in summary] == [
        ("demo-mods", "#1 观影夜 的反馈：2 人打分，平均 4.0/5。")
    ]
    late = await h.press("demo", "alice", feedback[0]["id"], "ev:rate:1:1")
    assert texts(late) == ["#1 的反馈已截止。"]


async def test_waitlist_promotion_tells_the_promoted(h: Harness) -> None:
    await h.say("demo", "mod", "/event add 桌游 | 明天 19:00 | 3h | | 2", **MOD)
    await h.say("demo", "alice", "/join 1")
    await h.say("demo", "bob", "参加 1")
    out = await h.say("demo", "carol", "/join 1")
    assert texts(out) == ["#1 桌游 名额已满，@carol 排在候补第 1 位，有空位时会通知你。"]
    out = await h.say("demo", "dave", "/join 1")
    assert texts(out) == ["#1 桌游 名额已满，@dave 排在候补第 2 位，有空位时会通知你。"]
    out = await h.say("demo", "alice", "/leave 1")
    assert texts(out) == ["@alice 取消了 #1 桌游 的报名。", "@carol，有人让出了名额：你已成功报名 #1 桌游！"]
    out = await h.say("demo", "alice", "/event info 1")
    assert texts(out) == [
        "#1 桌游\n🕒 2026-03-03 19:00（Asia/Shanghai），3 小时\n👥 名额 2 人\n已报名（2/2）：bob、carol\n候补（1）：dave"
    ]
    assert texts(await h.say("demo", "eve", "/leave 1")) == ["@eve，你还没有报名 #1。"]
    assert texts(await h.say("demo", "bob", "/join 1")) == ["@bob，你已经报名了 #1。"]


async def test_events_list_and_cancel_tells_everyone(h: Harness) -> None:
    await h.say("demo", "mod", "/event add 读书会 | 2026-03-10 20:00", **MOD)
    await h.say("demo", "mod", "/event add 徒步 | 03-08 08:00 | 6h | 带水 | 1", **MOD)
    await h.say("demo", "alice", "/join 2")
    await h.say("demo", "bob", "/join 2")
    out = await h.say("demo", "alice", "活动")
    assert texts(out) == [
        "近期活动：\n#2 徒步 — 2026-03-08 08:00 — 已报名 1/1，候补 1\n#1 读书会 — 2026-03-10 20:00 — 已报名 0"
    ]
    out = await h.say("demo", "mod", "/event cancel 2", **MOD)
    assert texts(out) == ["❌ 活动 #2 徒步 已取消，抱歉通知各位报名的朋友：\n@alice @bob"]
    # Nothing of the cancelled activity's timeline is posted.
    posted = texts(await h.advance(to="2026-03-09T00:00:00+08:00"))
    assert all("徒步" not in t for t in posted)
    assert first_line(await h.say("demo", "alice", "/join 2")) == ["活动 #2 已取消。"]
    assert first_line(await h.say("demo", "mod", "/event cancel 2", **MOD)) == ["活动 #2 已取消。"]


async def test_timeline_survives_restart_without_repeats(h: Harness) -> None:
    await h.say("demo", "mod", "/event add 线上分享 | +26h", **MOD)
    await h.say("demo", "alice", "/join 1")
    part1 = texts(await h.advance(to="2026-03-03T10:30:00+08:00"))
    await h.restart()
    part2 = texts(await h.advance(to="2026-03-03T11:30:00+08:00"))
    await h.restart()
    part3 = texts(await h.advance(to="2026-03-04T12:00:00+08:00"))
    heads = [t.split("\n")[0] for t in part1 + part2 + part3]
    assert heads == [
        "⏳ 明天见：#1 线上分享 将于 2026-03-03 11:00 开始，已有 1 人报名。",
        "⏰ 还有 1 小时：#1 线上分享 将于 2026-03-03 11:00 开始。",
        "🎉 #1 线上分享 现在开始！发送 /here 1 签到（截至 2026-03-03 13:00）。",
        "#1 线上分享 怎么样？请打分，1（一般）到 5（很棒）：",
    ]


async def test_reminders_close_to_start_ignore_quiet_hours(h: Harness) -> None:
    await h.say("demo", "mod", "/quiet 22:00-08:00", **MOD)
    # Starts at 23:30 tomorrow: the T-1h reminder at 22:30 falls in quiet hours but goes out anyway,
    # the T-1d countdown at 23:30 tonight waits for the morning.
    await h.say("demo", "mod", "/event add 夜观星空 | 明天 23:30", **MOD)
    posted = sends(await h.advance(to="2026-03-04T00:00:00+08:00"))
    assert [(r["at"], r["text"].split("：")[0]) for r in posted] == [
        ("2026-03-03T08:00:00+08:00", "⏳ 明天见"),
        ("2026-03-03T22:30:00+08:00", "⏰ 还有 1 小时"),
        (
            "2026-03-03T23:30:00+08:00",
            "🎉 #1 夜观星空 现在开始！发送 /here 1 签到（截至 2026-03-04 01:30）。",
        ),
    ]


async def test_here_only_while_it_runs(h: Harness) -> None:
    await h.say("demo", "mod", "/event add 茶话会 | 今天 15:00 | 1h", **MOD)
    assert first_line(await h.say("demo", "alice", "/here 1")) == [
        "只能在 #1 进行期间签到（开始时间 2026-03-02 15:00）。"
    ]
    await h.advance(to="2026-03-02T14:50:00+08:00")
    assert texts(await h.say("demo", "alice", "/here 1")) == ["@alice 已到场 #1 茶话会，欢迎！"]
    await h.advance(to="2026-03-02T16:01:00+08:00")
    assert first_line(await h.say("demo", "bob", "/here 1")) == [
        "只能在 #1 进行期间签到（开始时间 2026-03-02 15:00）。"
    ]
    assert first_line(await h.say("demo", "bob", "/join 1")) == ["活动 #1 已经开始，报名已截止。"]
    async with h.services.db.begin() as conn:
        assert (await conn.execute(select(func.count()).select_from(activity_attendance))).scalar_one() == 1


async def test_english_group(h: Harness) -> None:
    await h.say("en", "mod", "/lang en", **MOD)
    out = await h.say("en", "mod", "/event add Movie night | fri 20:00 | 90m | | 1", **MOD)
    assert texts(out)[0].startswith(
        "📅 New activity!\n#1 Movie night\n🕒 2026-03-06 20:00 (Asia/Shanghai), 1 h 30 min"
    )
    assert sends(out)[0]["buttons"][0][0]["text"] == "Join"
    assert texts(await h.say("en", "alice", "/join 1")) == ["@alice joined #1 Movie night. See you there!"]
    assert texts(await h.say("en", "bob", "/join 1")) == [
        "#1 Movie night is full; @bob is number 1 on the waitlist. I'll tell you when a place frees up."
    ]


# ------------------------------------------------------------------------------ bad input


async def test_bad_event_input_writes_nothing(h: Harness) -> None:
    cases = {
        "/event add  | 明天 20:00": "标题是空的。例如：/event add 观影夜 | 周五 20:00",
        "/event add 观影夜 | 明天 25:00": "“25:00” 不是有效的时刻，请写成 20:00 这样。例如：明天 20:00",
        "/event add 观影夜 | 某天 20:00": "“某天” 不是有效的日期。例如：2026-12-01 · 12-01 · 明天 · 后天 · 周五",
        "/event add 观影夜 | 2026-03-01 20:00": "2026-03-01 20:00 已经过去了，请选一个将来的时间。",
        "/event add 观影夜 | 今天 08:00": "今天 08:00 已经过去了，请选一个将来的时间。",
        "/event add 观影夜 | 明天 20:00 | 两小时": "“两小时” 不是有效的时长，请写成 2h、90m 或 1h30m 这样。",
        "/event add 观影夜 | 明天 20:00 | 2h | | 0": "人数上限 “0” 必须是不小于 1 的整数（不限人数就不写）。",
        "/event add 观影夜 | 明天 20:00 | 2h | | -3": "人数上限 “-3” 必须是不小于 1 的整数（不限人数就不写）。",
        "/event add 观影夜 | 明天 20:00 | 2h | | 十": "人数上限 “十” 必须是不小于 1 的整数（不限人数就不写）。",
        "/event add a | b | c | d | e | f": "分段太多（6 段），最多用 | 分成五段：标题 | 开始时间 | 时长 | 介绍 | 人数上限。",
        "/event add " + "长" * 101 + " | 明天 20:00": "标题最多 100 个字，这个有 101 个字。",
        "/event frobnicate": "/event 没有这个操作，可用 add、info、cancel。",
    }
    for command, reply in cases.items():
        assert first_line(await h.say("demo", "mod", command, **MOD)) == [reply], command
    assert texts(await h.say("demo", "mod", "/event add 只有标题", **MOD))[0].startswith("用法")
    assert await count_activities(h) == 0


async def test_unknown_ids_and_members(h: Harness) -> None:
    for command in ("/join 7", "/leave 7", "/here 7", "/event info 7"):
        assert first_line(await h.say("demo", "alice", command)) == [
            "本群没有编号为 #7 的活动，可用 /events 查看。"
        ]
    assert first_line(await h.say("demo", "alice", "/join")) == ["用法：/join 编号 — 报名活动"]
    assert "abc" in texts(await h.say("demo", "alice", "/join abc"))[0]
    assert texts(await h.say("demo", "alice", "/event add x | 明天 20:00")) == [
        "抱歉，这个命令只有管理员可以使用。"
    ]
    assert texts(await h.say("demo", "alice", "/event cancel 1")) == ["抱歉，这个命令只有管理员可以使用。"]
    assert texts(await h.say("demo", "alice", "/events")) == ["近期没有活动。"]
    assert await count_activities(h) == 0


async def test_over_long_description(h: Harness) -> None:
    h.adapter.max_text_length = 2000
    out = await h.say("demo", "mod", "/event add 读书会 | 明天 20:00 | 1h | " + "字" * 2500, **MOD)
    assert first_line(out) == ["内容有 2500 个字，本平台一条消息最多 2000 个字。"]
    assert await count_activities(h) == 0


# ------------------------------------------------------------------------------ /events buttons


async def test_events_list_has_join_buttons(db_url: str, tmp_path: Path) -> None:
    """Issue 21: the README promises Join buttons under /events; pressing one signs up."""
    async with Harness(tmp_path, db_url=db_url, features=planning_features()) as h:
        await h.say("demo", "mod", "/event add 观影夜 | 周五 20:00 | 2h | | 10", **MOD)
        await h.say("demo", "mod", "/event add 桌游 | 周六 14:00 | 3h", **MOD)
        listing = sends(await h.say("demo", "alice", "/events"))[0]
        assert listing["text"] == (
            "近期活动：\n#1 观影夜 — 2026-03-06 20:00 — 已报名 0/10\n#2 桌游 — 2026-03-07 14:00 — 已报名 0"
        )
        assert listing["buttons"] == [
            [{"text": "参加 #1", "data": "ev:join:1"}, {"text": "参加 #2", "data": "ev:join:2"}]
        ]
        assert texts(await h.press("demo", "alice", listing["id"], "ev:join:2")) == [
            "@alice 报名了 #2 桌游，到时见！"
        ]
        assert texts(await h.press("demo", "alice", listing["id"], "ev:join:2")) == [
            "@alice，你已经报名了 #2。"
        ]
        # Once an activity has started it is still listed, without a Join button.
        await h.advance(to="2026-03-06T20:30:00+08:00")
        listing = sends(await h.say("demo", "bob", "/events"))[0]
        assert listing["buttons"] == [[{"text": "参加 #2", "data": "ev:join:2"}]]


async def test_events_join_buttons_degrade_to_numbered_lines(tmp_path: Path) -> None:
    caps = frozenset(c for c in Capability if c is not Capability.BUTTONS)
    async with Harness(tmp_path, features=planning_features(), capabilities=caps) as h:
        await h.say("en", "mod", "/lang en", **MOD)
        await h.say("en", "mod", "/event add Movie night | fri 20:00 | 90m", **MOD)
        listing = sends(await h.say("en", "bob", "/events"))[0]
        assert "buttons" not in listing
        assert listing["text"].endswith("Reply with a number, or send the command:\n1. Join #1 (/join 1)")
        out = await h.say("en", "bob", "1", reply_to=listing["id"])
        assert texts(out) == ["@bob joined #1 Movie night. See you there!"]
