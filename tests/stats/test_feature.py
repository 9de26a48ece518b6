"""The stats feature end to end: the real core, the console adapter, a SQLite file, a virtual clock.

Weeks of activity are scripted message by message and the figures asserted exactly.
"""

from __future__ import annotations

import struct
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.adapter import Capability
from bot.data_rights import export_member, forget_member
from storage.stats.tables import stats_text
from tests.harness import Harness, sends, texts

# A Monday, 09:00 in Shanghai.
START = "2026-03-02T09:00:00+08:00"
DAY = 86400
HOUR = 3600

#: First-message badges would be announced between the replies these tests count, one by one.
QUIET_BADGES = {"announce_badges": False}


def _one(records: list[dict[str, Any]]) -> str:
    out = texts(records)
    assert len(out) == 1, out
    return out[0]


async def _to(h: Harness, iso: str) -> list[dict[str, Any]]:
    return await h.advance(to=iso)


async def _count_text(h: Harness) -> int:
    async with h.services.db.begin() as conn:
        return int((await conn.execute(select(func.count()).select_from(stats_text))).scalar_one())


# -- KPIs -------------------------------------------------------------------------------------------


async def _kpi_weeks(h: Harness) -> None:
    """Week 1 (03-02…03-08): u1 at 09:00 and u2 at 20:00, two messages each a day, u2 replying
    once to u1. Week 2 (03-09…03-15): the same plus u3 at 21:00 (two a day, one reply to u1),
    u4 at 21:00 once a day on 03-09…03-11. Joins: u3, u4 on 03-09, u5 on 03-10 who leaves 03-12."""
    for day in range(14):
        date = f"2026-03-{2 + day:02d}"
        await _to(h, f"{date}T09:00:00+08:00")
        if day == 7:
            await h.join("demo", "u3")
            await h.join("demo", "u4")
        if day == 8:
            await h.join("demo", "u5")
        if day == 10:
            await h.leave("demo", "u5")
        first = (await h.say("demo", "u1", f"早上好 第{day}天"))[0]["id"]
        await h.say("demo", "u1", "今天天气不错")
        await _to(h, f"{date}T20:00:00+08:00")
        await h.say("demo", "u2", "晚上好", reply_to=first)
        await h.say("demo", "u2", "吃了吗")
        if day >= 7:
            await _to(h, f"{date}T21:00:00+08:00")
            await h.say("demo", "u3", "我也来了", reply_to=first)
            await h.say("demo", "u3", "周末爬山")
            if day <= 9:
                await h.say("demo", "u4", "新人报到")
    await _to(h, "2026-03-16T09:00:00+08:00")


async def test_stats_two_scripted_weeks_exact(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url, clock=START, config={"stats": {"weekly_report": False}}) as h:
        await _kpi_weeks(h)
        text = _one(await h.say("demo", "mod", "/stats", role="moderator"))
    lines = text.splitlines()
    assert lines[0] == "📊 近 7 天群数据（2026-03-09 至 2026-03-15）"
    # u1, u2, u3, u4 and the moderator who asked; u5 left.
    assert "👥 成员：5" in lines
    assert "➕ 入群：3" in lines  # nothing to compare with: no bracket
    assert "➖ 退群：1" in lines
    assert "日活（昨天）：3（+50%）" in lines  # 03-15: u1 u2 u3 against 03-08: u1 u2
    assert "周活：4（+100%）" in lines
    assert "月活：4（+100%）" in lines
    # Average DAU (3×7 + 3)/7 over MAU 4 = 85.7 %, against 2/2 = 100 %.
    assert "粘性（日活÷月活）：85.7%（-14.3 个百分点）" in lines
    # (6×7 + 3)/7 = 6.4 a day against 4.
    assert "日均消息：6.4（+61%）" in lines
    # 14 replies in 45 messages against 7 in 28.
    assert "互动率（回复÷消息）：31.1%（+6.1 个百分点）" in lines
    assert (
        "签到率（签到÷活跃人次）：0.0%（+0.0 个百分点）" in lines
    )  # check-ins are loaded; nobody checked in
    top = lines[lines.index("🏅 发言前五：") + 1 : lines.index("⏰ 最热闹的时段：")]
    assert top == ["1. u1：14 条（+0%）", "2. u2：14 条（+0%）", "3. u3：14 条", "4. u4：3 条"]
    hours = lines[lines.index("⏰ 最热闹的时段：") + 1 : -1]
    assert hours == ["21:00–22:00：17 条", "09:00–10:00：14 条（+0%）", "20:00–21:00：14 条（+0%）"]


async def test_stats_30d_and_english(tmp_path: Path) -> None:
    async with Harness(tmp_path, clock=START, config={"stats": {"weekly_report": False}}) as h:
        await _kpi_weeks(h)
        await h.say("demo", "mod", "/lang en", role="moderator")
        text = _one(await h.say("demo", "mod", "/stats 30d"))
    lines = text.splitlines()
    assert lines[0] == "📊 The last 30 days (2026-02-14 to 2026-03-15)"
    assert "Daily actives (yesterday): 3" in lines  # 30 days earlier had nobody: no change shown
    assert "Monthly actives: 4" in lines
    assert "Messages per day: 2.4" in lines  # (28 + 45) / 30
    assert "Interaction rate (replies÷messages): 28.8%" in lines  # 21 / 73


# -- bad input and permissions ---------------------------------------------------------------------


async def test_stats_bad_input_and_permissions(tmp_path: Path) -> None:
    async with Harness(tmp_path, clock=START) as h:
        assert (
            _one(await h.say("demo", "mod", "/stats", role="moderator"))
            == "这个群还没有数据，过一天再来看看吧。"
        )
        await h.say("demo", "alice", "hello")
        assert _one(await h.say("demo", "alice", "/stats")) == "抱歉，这个只有管理可以查看。"
        assert _one(await h.say("demo", "alice", "数据")) == "抱歉，这个只有管理可以查看。"
        await h.advance(DAY)
        bad = _one(await h.say("demo", "mod", "/stats 9d"))
        assert bad.startswith("看不懂周期 “9d”")
        assert "/stats [7d|30d|chart]" in bad
        # Words beyond the declared arguments get the usage line, as for every command.
        assert _one(await h.say("demo", "mod", "/stats 7d extra")).startswith("用法：/stats [7d|30d|chart]")
        huge = "x" * 5000
        assert "x" * 21 not in _one(await h.say("demo", "mod", f"/stats {huge}"))
        # Opening /stats to members is a guarded setting: owners and admins only.
        refused = _one(await h.say("demo", "mod", "/set stats.public on"))
        assert refused == "抱歉，只有群主或管理员可以修改这个设置。"
        assert _one(await h.say("demo", "alice", "/stats")) == "抱歉，这个只有管理可以查看。"
        await h.say("demo", "olga", "/set stats.public on", role="owner")
        assert _one(await h.say("demo", "alice", "/stats")).startswith("📊 近 7 天群数据")
        assert _one(await h.say("demo", "alice", "/lifecycle")) == "抱歉，这个命令只有管理员可以使用。"
        assert _one(await h.say("demo", "alice", "/kol")) == "抱歉，这个命令只有管理员可以使用。"
        assert _one(await h.say("demo", "mod", "/lifecycle zombies")).startswith("没有 “zombies” 这个分层")
        assert _one(await h.say("demo", "mod", "/hot 3y")).startswith("看不懂时间范围 “3y”")
        assert _one(await h.say("demo", "alice", "/nudge")).startswith("用法：/nudge off|on")
        assert _one(await h.say("demo", "alice", "/feedback")).startswith("用法：/feedback")
        assert _one(await h.say("demo", "alice", "/feedback " + "长" * 1200)).startswith(
            "反馈太长了，请控制在 1000 字以内。"
        )
        assert _one(await h.say("demo", "alice", "/feedback list")) == "抱歉，这个只有管理可以查看。"
        assert _one(await h.say("demo", "mod", "/feedback list")) == "近 30 天没有收到反馈。"
        assert _one(await h.say("demo", "mod", "/kol")).startswith("✨ 星火计划候选")
        bad_time = _one(await h.say("demo", "mod", "/set stats.recall_time 25:00"))
        assert bad_time.startswith("“stats.recall_time” 的值不对，可以是：HH:MM, 00:00–23:59")
        assert _one(await h.say("demo", "mod", "/set stats.recall_day funday")).startswith(
            "“stats.recall_day” 的值不对"
        )
        # A new recall time applies at once: the job moves to the coming Friday 18:30.
        await h.say("demo", "mod", "/set stats.recall_day fri")
        await h.say("demo", "mod", "/set stats.recall_time 18:30")
        job = await h.services.scheduler.get("stats:recall:1")
        assert job is not None and job.next_run_at is not None
        assert job.next_run_at.isoformat() == "2026-03-06T10:30:00+00:00"


# -- lifecycle, recall, nudge ----------------------------------------------------------------------


async def test_lifecycle_stages_and_recall(tmp_path: Path, db_url: str) -> None:
    config = {
        "stats": {"weekly_report": False, "recall_day": "sat", "recall_time": "10:00"},
        "checkin": QUIET_BADGES,
    }
    async with Harness(tmp_path, db_url=db_url, clock="2026-03-01T09:00:00+08:00", config=config) as h:
        # 03-01: everyone posts; old1 and old2 then stop for good; the others come back 03-20.
        for user in ("old1", "old2", "quiet1", "quiet2", "optout"):
            await h.say("demo", user, "大家好")
        # Sat 03-14: all five have slept 13 days and are named (once per quiet spell).
        first = [r["text"] for r in sends(await _to(h, "2026-03-14T10:30:00+08:00")) if r["chat"] == "demo"]
        await _to(h, "2026-03-20T09:00:00+08:00")
        for user in ("quiet1", "quiet2", "optout"):
            await h.say("demo", user, "我还在")
        await h.say("demo", "optout", "/nudge off")
        # Sat 03-28: quiet1 and quiet2 are named; optout opted out; old1/old2 were named already.
        second = [r["text"] for r in sends(await _to(h, "2026-03-28T10:30:00+08:00")) if r["chat"] == "demo"]
        await _to(h, "2026-04-01T09:00:00+08:00")
        await h.say("demo", "quiet1", "我回来了")
        await _to(h, "2026-04-02T09:00:00+08:00")
        await h.say("demo", "regular", "早")
        await h.join("demo", "newbie")
        await h.join("demo", "gone")
        await h.leave("demo", "gone")
        counts = _one(await h.say("demo", "mod", "/lifecycle", role="moderator"))
        sleeping = _one(await h.say("demo", "mod", "/lifecycle 沉睡"))
        third = [r["text"] for r in sends(await _to(h, "2026-04-04T10:30:00+08:00")) if r["chat"] == "demo"]
        rate = await h.services.state["stats"].repo.recall_rate(1, h.now - timedelta(days=60), h.now)
    assert first == [
        "🌙 好久不见，大家都挺想你们的：\n@old1、@old2、@quiet1、@quiet2、@optout\n"
        "有空来聊聊近况吧！（不想被点名可以发 /nudge off）"
    ]
    assert len(second) == 1 and "@quiet1" in second[0] and "@quiet2" in second[0]
    assert "optout" not in second[0] and "old1" not in second[0]
    assert third == []  # everyone sleeping was named already
    assert counts.splitlines() == [
        "👥 成员分层（共 9 人）：",
        "新人：1 人（11.1%）",
        "活跃：3 人（33.3%）",  # quiet1 (came back), regular, and mod who just asked
        "沉睡：2 人（22.2%）",  # quiet2, optout: quiet since 03-20
        "流失：2 人（22.2%）",  # old1, old2: 32 days
        "已退群：1 人（11.1%）",
        "发送 /lifecycle sleeping 之类查看某一层的成员。",
    ]
    assert sleeping == "沉睡（显示 2 位）：quiet2, optout"
    # Seven namings; quiet1, quiet2 and optout came back within 7 days of 03-14, quiet1 again after 03-28.
    assert rate == (7, 4)


async def test_the_recall_post_waits_out_quiet_hours(tmp_path: Path) -> None:
    # Quiet hours belong to the schedule feature; stats reaches them through the QuietHours port.
    config = {
        "stats": {"weekly_report": False, "recall_day": "sat", "recall_time": "10:00"},
        "checkin": QUIET_BADGES,
    }
    async with Harness(tmp_path, clock="2026-03-01T09:00:00+08:00", config=config) as h:
        await h.say("demo", "sleepy", "大家好")
        await h.say("demo", "mod", "/quiet 09:00-12:00", role="moderator")
        # Sat 03-14 10:00 falls inside the window: nothing until it ends at 12:00, then once.
        during = [r for r in sends(await _to(h, "2026-03-14T11:59:00+08:00")) if r["chat"] == "demo"]
        after = [r for r in sends(await _to(h, "2026-03-14T12:30:00+08:00")) if r["chat"] == "demo"]
    assert during == []
    assert len(after) == 1 and "@sleepy" in after[0]["text"]
    assert after[0]["at"].startswith("2026-03-14T12:00")


# -- churn ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("recent", "warns"), [((3, 2, 2, 2, 2, 2, 2), True), ((3, 3, 3, 2, 2, 2, 2), False)])
async def test_churn_warning(tmp_path: Path, recent: tuple[int, ...], warns: bool) -> None:
    """Baseline: 28 days with 80 active member-days (24 days of 3, 4 of 2). Recent: 15 member-days
    is a 25 % drop (warn), 17 is a 15 % drop (no warning)."""
    baseline = [3] * 24 + [2] * 4
    series = baseline + list(recent)
    async with Harness(
        tmp_path, clock="2026-03-01T10:00:00+08:00", config={"stats": {"weekly_report": False}}
    ) as h:
        alerts: list[str] = []
        for day, dau in enumerate(series):
            if day:
                alerts += [r["text"] for r in sends(await h.advance(DAY)) if r["chat"] == "demo-mods"]
            # c is part of the baseline only; in the recent week d is the occasional third.
            users = ["a", "b", "c"] if day < 28 else ["a", "b", "d"]
            for user in users[:dau]:
                await h.say("demo", user, "打卡聊天")
        alerts += [r["text"] for r in sends(await h.advance(DAY)) if r["chat"] == "demo-mods"]
    churn = [a for a in alerts if a.startswith("⚠️")]
    if warns:
        assert churn == [
            "⚠️ 流失预警：近 7 天日均活跃 2.1 人，比之前 28 天的日均 2.9 人下降了 25%。\n"
            "之前很活跃、最近 7 天没说话的成员：\n· c（之前 4 周 24 条）"
        ]
    else:
        assert churn == []


# -- NPS -----------------------------------------------------------------------------------------------


async def test_nps_with_buttons_last_answer_counts(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url, clock=START) as h:
        assert _one(await h.say("demo", "alice", "/nps start")) == "抱歉，这个只有管理可以查看。"
        assert _one(await h.say("demo", "mod", "/nps result", role="moderator")) == "现在没有进行中的调查。"
        poll = sends(await h.say("demo", "mod", "/nps start 你会推荐本群吗？"))[0]
        assert poll["text"].startswith("📋 你会推荐本群吗？")
        buttons = [b["data"] for row in poll["buttons"] for b in row]
        assert buttons == [f"nps:1:{n}" for n in range(11)]
        assert _one(await h.say("demo", "mod", "/nps result")) == "“你会推荐本群吗？” 还没有人作答。"
        assert _one(await h.press("demo", "alice", poll["id"], "nps:1:3")) == "谢谢，你打了 3 分。"
        assert _one(await h.press("demo", "alice", poll["id"], "nps:1:10")) == "已改为 10 分。"
        for user, score in (("bob", "9"), ("carol", "7"), ("dave", "0")):
            await h.say("demo", user, f"/nps {score}")
        assert (
            _one(await h.say("demo", "erin", "/nps 11"))
            == "“11” 不是 0–10 之间的分数。\n用法：/nps start [问题] | result | close | 0-10 — 推荐度（NPS）调查"
        )
        result = _one(await h.say("demo", "mod", "/nps close"))
        assert result == "📋 你会推荐本群吗？\nNPS：+25（已结束，4 人作答）\n推荐者 2 · 中立 1 · 贬损者 1"
        assert _one(await h.say("demo", "bob", "/nps 5")) == "这次调查已经结束了。"


async def test_nps_without_buttons_numbers_as_text(tmp_path: Path) -> None:
    async with Harness(tmp_path, clock=START) as h:
        h.adapter.capabilities = frozenset(h.adapter.capabilities - {Capability.BUTTONS})
        poll = sends(await h.say("demo", "mod", "/nps start", role="moderator"))[0]
        assert "buttons" not in poll
        assert "请回复这条消息一个 0–10 的数字" in poll["text"]
        assert _one(await h.say("demo", "alice", "8", reply_to=poll["id"])) == "谢谢，你打了 8 分。"
        assert _one(await h.say("demo", "alice", "９", reply_to=poll["id"])) == "已改为 9 分。"
        assert texts(await h.say("demo", "bob", "8")) == []  # not a reply to the poll: just chat
        assert "NPS：+100（进行中，1 人作答）" in _one(await h.say("demo", "mod", "/nps result"))


# -- hot words and retention ------------------------------------------------------------------------------


async def test_hot_words_retention_and_store_text_off(tmp_path: Path, db_url: str) -> None:
    config = {"stats": {"weekly_report": False}, "checkin": QUIET_BADGES}
    async with Harness(tmp_path, db_url=db_url, clock=START, config=config) as h:
        for user in ("a", "b", "c"):
            await h.say("demo", user, "周末一起去爬山吧，爬山装备准备好")
        await h.say("demo", "d", "/stats")  # commands are never kept as text
        await h.say("demo", "e", "乱" * 5000)  # kept only up to 500 characters
        await h.flush()
        assert await _count_text(h) == 4
        hot = _one(await h.say("demo", "a", "/hot"))
        assert hot.splitlines()[:2] == ["🔥 最近 24 小时热词：", "1. 爬山（3 条消息，3 人）"]
        await h.advance(2 * DAY)
        assert _one(await h.say("demo", "a", "/hot 24h")) == "最近 24 小时还没有足够的消息来找热词。"
        assert "爬山" in _one(await h.say("demo", "a", "/hot 7d"))
        # After the retention window (7 days) the daily job purges the text.
        await _to(h, "2026-03-09T00:10:00+08:00")
        assert await _count_text(h) == 4
        await _to(h, "2026-03-10T00:10:00+08:00")
        assert await _count_text(h) == 0
        await h.say("demo", "a", "新的消息 继续聊爬山")
        await h.flush()
        assert await _count_text(h) == 1
        await h.say("demo", "b", "还没写进数据库的一条")
        # Turning keeping text off forgets what was kept at once, flushed or not.
        await h.say("demo", "mod", "/set stats.store_text off", role="moderator")
        await h.say("demo", "a", "这条不该保存")
        await h.flush()
        assert await _count_text(h) == 0
        assert _one(await h.say("demo", "a", "/hot")).startswith("本群已关闭保存消息文本")
        await h.say("demo", "mod", "/set stats.store_text on")
        await h.say("demo", "a", "又开始保存了")
        await h.flush()
        assert await _count_text(h) == 1


# -- charts -----------------------------------------------------------------------------------------------


def _file_size(path: Path) -> int:
    return path.stat().st_size


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


async def test_chart_png_and_text_fallback(tmp_path: Path) -> None:
    async with Harness(tmp_path, clock=START, config={"stats": {"weekly_report": False}}) as h:
        await _kpi_weeks(h)
        sent = sends(await h.say("demo", "mod", "/stats chart", role="moderator"))
        assert len(sent) == 1 and sent[0]["text"] == "📈 近 30 天群数据图表"
        image = Path(sent[0]["image"])
        assert image.parent == tmp_path / "charts"
        assert _png_size(image) == (800, 880)
        assert 30_000 < _file_size(image) < 400_000
        h.adapter.capabilities = frozenset(h.adapter.capabilities - {Capability.IMAGES})
        fallback = sends(await h.say("demo", "mod", "数据图表"))
        assert "image" not in fallback[0]
        assert fallback[0]["text"].startswith("这个平台不能发图片，以下是文字版：")
        assert "👥 成员分层" in fallback[0]["text"]


# -- weekly report ---------------------------------------------------------------------------------


async def test_weekly_report_monday_morning(tmp_path: Path) -> None:
    async with Harness(tmp_path, clock=START) as h:
        await _kpi_weeks(h)  # ends Monday 03-16 09:00: the report went out on the way
        await h.say("demo", "mod", "/nps start", role="moderator")
        week3 = sends(await _to(h, "2026-03-23T09:00:01+08:00"))
        # The report is the moderators' message with the chart (the desk's level 2 alert about
        # the falling activity goes there too).
        charts = [Path(r["image"]) for r in week3 if r["chat"] == "demo-mods" and r.get("image")]
        # The desk's level 2 alert sends a chart of its own to the moderators in the same week.
        (chart,) = [c for c in charts if not c.name.startswith("desk-level2-")]
        chart_size = _file_size(chart)
        await _to(h, "2026-03-24T09:00:00+08:00")
        await h.say("demo", "u4", "我回来啦")  # named on Saturday 03-21, back within 7 days
        week4 = sends(await _to(h, "2026-03-30T09:00:01+08:00"))
        chart_gone = not chart.exists()  # sent charts are removed by the daily job after a day
    recall = [r["text"] for r in week3 if r["chat"] == "demo"]
    assert recall == [
        "🌙 好久不见，大家都挺想你们的：\n@u4\n有空来聊聊近况吧！（不想被点名可以发 /nudge off）"
    ]
    reports = [r for r in week3 if r["chat"] == "demo-mods" and r["text"].startswith("🗓")]
    assert len(reports) == 1
    text = reports[0]["text"]
    assert text.startswith("🗓 demo 周报\n\n📊 近 7 天群数据（2026-03-16 至 2026-03-22）")
    assert "日活（昨天）：0（-100%）" in text and "周活：1（-75%）" in text
    assert "最近 7 天还没有足够的消息来找热词。" in text
    assert text.endswith("🌙 召回率：上周没有点名。")
    assert chart_size > 30_000 and chart_gone
    later = [r["text"] for r in week4 if r["chat"] == "demo-mods" and r["text"].startswith("🗓")]
    assert len(later) == 1
    assert later[0].endswith("🌙 召回率：上周点名 1 人，7 天内回来 1 人（100%）")
    assert "1. u4：1 条" in later[0]


# -- feedback, KOL, member data ---------------------------------------------------------------------


async def test_feedback_grouped_and_member_data(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url, clock=START) as h:
        for user, text in (
            ("a", "签到积分太少了"),
            ("b", "积分商城东西太少"),
            ("c", "希望多办线下活动"),
            ("d", "线下活动时间不合适"),
        ):
            assert (
                _one(await h.say("demo", user, f"/feedback {text}")) == "收到你的反馈了，谢谢！管理们会看到。"
            )
        assert _one(await h.say("demo", "e", "反馈 嗯")) == "收到你的反馈了，谢谢！管理们会看到。"
        listing = _one(await h.say("demo", "mod", "/feedback list", role="moderator"))
        member = await h.services.members.find(1, "a")
        assert member is not None
        exported = (await export_member(h.services, member))["stored"]
        await forget_member(h.services, member)
        after = (await export_member(h.services, member))["stored"]
    lines = listing.splitlines()
    assert lines[0] == "📮 近 30 天的反馈（5 条），按关键词分组："
    groups = [line for line in lines if line.startswith("【")]
    assert "【积分】2 条" in groups and "【线下】2 条" in groups and "【其他】1 条" in groups
    assert [f["text"] for f in exported["stats_feedback"]] == ["签到积分太少了"]
    assert "stats_feedback" not in after and "stats_text" not in after


async def test_kol_excludes_moderators(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url, clock=START) as h:
        first = (await h.say("demo", "star", "大家来讨论"))[0]["id"]
        for user in ("fan1", "fan2", "fan3"):
            await h.say("demo", user, "同意", reply_to=first)
        for _ in range(5):
            await h.say("demo", "talker", "刷一下")
            await h.say("demo", "boss", "管理发言", role="moderator")
        await h.advance(DAY)
        text = _one(await h.say("demo", "boss", "/kol"))
    lines = text.splitlines()
    assert lines[1].startswith("1. star — ")
    assert "被回复 3" in lines[1]
    assert not any("boss" in line for line in lines)


class _Lexicon:
    """Stands in for the moderation feature's per-group matcher (its ``check`` interface only),
    until that feature is merged; the stats feature finds it in ``services.state``."""

    def __init__(self, words: set[str]) -> None:
        self.words = words

    async def matcher(self, group_id: int) -> _Lexicon:
        return self

    def check(self, text: str) -> list[str]:
        return [w for w in self.words if w in text]


async def test_blocked_words_never_shown(tmp_path: Path) -> None:
    async with Harness(tmp_path, clock=START, config={"checkin": QUIET_BADGES}) as h:
        if any(f.name == "moderation" for f in h.app.features):
            # The real moderation feature: a blue (notice-only) term lets the messages through.
            await h.say("demo", "mod", "/kw add blue 坏词", role="moderator")
        else:
            h.services.state["moderation"] = _Lexicon({"坏词"})

        def here(records: list[dict[str, Any]]) -> str:
            out = [r["text"] for r in sends(records) if r["chat"] == "demo"]
            assert len(out) == 1, out
            return out[0]

        for user in ("a", "b", "c"):
            await h.say("demo", user, "坏词 坏词 爬山 爬山")
        hot = here(await h.say("demo", "a", "/hot"))
        await h.say("demo", "a", "/feedback 这里有坏词")
        await h.say("demo", "b", "/feedback 多组织爬山")
        listing = here(await h.say("demo", "mod", "/feedback list", role="moderator"))
    assert "爬山" in hot and "坏词" not in hot
    assert "坏词" not in listing and "（内容含屏蔽词，已隐藏）" in listing


async def test_counts_and_jobs_survive_a_restart(tmp_path: Path) -> None:
    async with Harness(tmp_path, clock=START, config={"stats": {"weekly_report": False}}) as h:
        await h.say("demo", "a", "重启前的消息")
        await h.say("demo", "b", "我也说一句")
        await h.restart()  # the batch in memory is flushed at shutdown
        await h.say("demo", "a", "重启后")
        await h.advance(DAY)
        text = _one(await h.say("demo", "mod", "/stats", role="moderator"))
        jobs = [j.id for j in await h.services.scheduler.list("stats:")]
    assert "日活（昨天）：2" in text.splitlines()
    assert "日均消息：0.4" in text.splitlines()  # 3 messages over 7 days
    assert jobs == ["stats:daily:1", "stats:recall:1", "stats:report:1"]


async def test_weekly_report_counts_the_weeks_moderation_alerts(tmp_path: Path) -> None:
    """The report's moderation line reads the moderation feature's alerts: levels and handling time."""
    async with Harness(tmp_path, clock="2026-03-02T09:00:00+08:00") as h:
        await h.say("demo", "mod", "/kw add red 刷单返利群 scam", role="moderator")
        await h.say("demo", "mod", "/kw add yellow 加我好友领券 ads")
        await h.say("demo", "bob", "快来刷单返利群")
        await h.say("demo", "carol", "加我好友领券哦")
        await h.advance(600)
        await h.say("demo", "mod", "/ack 1")
        out = await h.advance(to="2026-03-09T09:00:01+08:00")
    reports = [r["text"] for r in sends(out) if r.get("chat") == "demo-mods" and r["text"].startswith("🗓")]
    assert len(reports) == 1
    assert "🛡 本周预警：红 1 · 黄 1 · 蓝 0；处理时间中位数 10 分钟" in reports[0]
