"""Check-ins, make-ups, calendars and day boundaries through the real core and the console adapter."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

from bot.adapter import Capability
from handlers.checkin.rules import CheckinRules, itemize
from handlers.checkin.state import state
from tests.harness import Harness, texts


async def balance(h: Harness, user: str, chat: str = "demo") -> int:
    group = await h.services.directory.group_for(h.adapter.group_chat(chat))
    member = await h.services.members.find(group.id, user)
    assert member is not None
    return (await state(h.services).repos.ledger.balance(group.id, member.id))[0]


async def ledger_adds_up(h: Harness) -> None:
    for _, _, bal, total in await state(h.services).repos.ledger.all_balances():
        assert bal == total and bal >= 0


def expected(streak: int, rank: int = 1) -> int:
    return sum(i.amount for i in itemize(streak, rank, CheckinRules()))


async def test_first_checkin_reply_is_itemized_and_second_is_refused(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        first = texts(await h.say("demo", "alice", "签到"))
        assert first == [
            "✅ 签到成功！今日第 1 位，连续 1 天\n  · 签到 +10\n  · 前三奖励 +5\n合计 15 分，余额 15 分"
        ]
        again = texts(await h.say("demo", "alice", "打卡"))
        assert again == ["今天已经签过到啦 😊 当前连续 1 天。\n下次签到 00:00 开放（还有 15 小时 0 分钟）。"]
        second = texts(await h.say("demo", "bob", "/checkin"))[0]
        assert "今日第 2 位" in second and "前三奖励 +3" in second
        assert await balance(h, "alice") == 15


async def test_a_month_with_gaps_makeup_milestone_and_midnight(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url, clock="2026-03-01T09:00:00+08:00") as h:
        total = 0
        streak = 0
        # Days 1–7: the milestone at 7 and the 七日之约 badge.
        for day in range(1, 8):
            out = texts(await h.say("demo", "alice", "签到"))
            streak += 1
            total += expected(streak)
            assert f"连续 {streak} 天" in out[0]
            assert len(out) == 1
            if day == 3:  # 15 + 17 + 19 = 51 earned: level 1 needs 50
                assert out[0].endswith("合计 19 分，余额 51 分\n升到了 Lv.1！")
            if day == 7:
                assert "里程碑奖励 +50" in out[0]
                assert out[0].endswith("\n获得徽章 📅 七日之约")
            if day not in (3, 7):
                assert "升到了" not in out[0] and "徽章" not in out[0]
            await h.advance(86400)
        # Day 8 is missed. On day 9 she checks in (streak restarts), then repairs day 8.
        await h.advance(86400)
        out = texts(await h.say("demo", "alice", "签到"))
        total += expected(1)
        assert "连续 1 天" in out[0]
        out = texts(await h.say("demo", "alice", "补签"))
        total -= 50
        assert out == [
            f"🔁 已补签 03-08，连续签到恢复为 9 天。花费 50 分，余额 {total} 分；本月还可补签 1 次。"
        ]
        streak = 9
        assert await balance(h, "alice") == total
        # Day 10 at 23:59 local, then 00:01 on day 11: two different days, streak continues.
        await h.advance(to="2026-03-10T23:59:00+08:00")
        out = texts(await h.say("demo", "alice", "签到"))
        streak += 1
        total += expected(streak)
        assert f"连续 {streak} 天" in out[0]
        await h.advance(120)
        out = texts(await h.say("demo", "alice", "签到"))
        streak += 1
        total += expected(streak)
        assert f"连续 {streak} 天" in out[0]
        # Two days missed: make-up cannot help (the day before yesterday is missing too).
        await h.advance(to="2026-03-14T10:00:00+08:00")
        assert texts(await h.say("demo", "alice", "补签")) == [
            "没有需要补签的日子：只能补昨天，而且前天要签过到、昨天确实漏签了。"
        ]
        out = texts(await h.say("demo", "alice", "签到"))
        total += expected(1)
        assert "连续 1 天" in out[0]
        for _ in range(10):
            await h.advance(86400)
            await h.say("demo", "alice", "签到")
            streak_now = (await state(h.services).repos.checkins.checkin_status(1, 1, h.now.date())).streak
            total += expected(streak_now)
        assert await balance(h, "alice") == total
        me = texts(await h.say("demo", "alice", "我的"))[0]
        assert f"积分余额 {total}" in me and "连续签到 11 天" in me
        assert me.endswith("\n信用分 100（优秀）")  # moderation is installed: its credit shows too
        cal = await h.say("demo", "alice", "签到日历")
        text = cal[-1]["text"]
        assert "本月 22 天" in text and " 8🔁" in text and "12▫️" in text and "13▫️" in text
        png = await asyncio.to_thread(Path(cal[-1]["image"]).read_bytes)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        await ledger_adds_up(h)


async def test_makeup_limits_and_cost(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url, clock="2026-04-01T09:00:00+08:00") as h:
        await h.say("demo", "alice", "签到")
        await h.advance(2 * 86400)
        out = texts(await h.say("demo", "alice", "补签"))
        assert out == ["补签需要 50 分，你现在只有 15 分。"]
        await h.say("demo", "max", "/points give @alice 500", role="moderator")
        for _ in range(2):
            assert "已补签" in texts(await h.say("demo", "alice", "补签"))[0]
            await h.say("demo", "alice", "签到")
            await h.advance(2 * 86400)
        assert texts(await h.say("demo", "alice", "补签")) == ["本月的补签次数（2 次）已经用完了。"]
        await ledger_adds_up(h)


async def test_new_york_group_across_the_dst_change(tmp_path: Path, db_url: str) -> None:
    config = {"bot": {"timezone": "America/New_York"}}
    async with Harness(tmp_path, db_url=db_url, clock="2026-03-07T23:30:00-05:00", config=config) as h:
        assert "连续 1 天" in texts(await h.say("ny", "alice", "签到"))[0]
        await h.advance(3600)  # 00:30 EST on the 8th: a new local day
        assert "连续 2 天" in texts(await h.say("ny", "alice", "签到"))[0]
        # Clocks spring forward at 02:00, so tomorrow's 00:00 is 22½ hours away, not 23½.
        assert "还有 22 小时 30 分钟" in texts(await h.say("ny", "alice", "签到"))[0]
        await h.advance(to="2026-03-08T23:59:00-04:00")
        assert "已经签过" in texts(await h.say("ny", "alice", "签到"))[0]
        await h.advance(120)
        assert "连续 3 天" in texts(await h.say("ny", "alice", "签到"))[0]


async def test_day_start_setting_moves_the_boundary(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url, clock="2026-03-02T03:00:00+08:00") as h:
        await h.say("demo", "max", "/set checkin.day_start 04:00", role="moderator")
        await h.say("demo", "alice", "签到")  # 03:00 still belongs to March 1st
        await h.advance(2 * 3600)  # 05:00: March 2nd has begun
        assert "连续 2 天" in texts(await h.say("demo", "alice", "签到"))[0]


async def test_hundred_concurrent_duplicate_checkins_credit_once(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        tasks = [h.adapter.message("demo", "alice", "/checkin") for _ in range(100)]
        await asyncio.gather(*tasks)
        assert h.app.dispatcher is not None
        await h.app.dispatcher.drain()
        replies = texts(h.adapter.take())
        assert sum("签到成功" in r for r in replies) == 1
        assert sum("已经签过" in r for r in replies) == 99
        assert await balance(h, "alice") == 15
        await ledger_adds_up(h)


async def test_calendar_without_images_is_text_only(tmp_path: Path, db_url: str) -> None:
    caps = frozenset(c for c in Capability if c is not Capability.IMAGES)
    async with Harness(tmp_path, db_url=db_url, capabilities=caps) as h:
        await h.say("demo", "alice", "签到")
        out = await h.say("demo", "alice", "/checkin calendar")
        assert "image" not in out[-1]
        assert " 2✅" in out[-1]["text"]


async def test_english_group_and_bad_subcommand(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url, config={"bot": {"language": "en"}}) as h:
        out = texts(await h.say("demo", "alice", "/checkin"))[0]
        assert out.startswith("✅ Checked in! #1 today, streak 1 days")
        assert "early-bird bonus +5" in out
        bad = texts(await h.say("demo", "alice", "/checkin tomorrow"))[0]
        assert "/checkin calendar" in bad
        assert texts(await h.say("demo", "alice", "/makeup"))[0].startswith("Nothing to repair")


async def test_restart_keeps_checkins(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "alice", "签到")
        await h.restart()
        assert "已经签过" in texts(await h.say("demo", "alice", "签到"))[0]
        assert await balance(h, "alice") == 15
        assert isinstance(h.now, datetime)
        assert h.now - datetime.fromisoformat("2026-03-02T09:00:00+08:00") < timedelta(minutes=1)
