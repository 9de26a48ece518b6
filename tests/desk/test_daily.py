"""The desk's daily job: level 2 (a key rate down week over week, the local day's edge at
23:59 and 00:01) and the unanswered questions digest with its "make this an FAQ" button pressed
in the moderators' chat."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.ports import Indicator
from handlers.desk.jobs import drops
from tests.harness import Harness, texts

Record = dict[str, Any]
# Monday 2026-03-02, 09:00 in Shanghai.
START = "2026-03-02T09:00:00+08:00"
QUIET = {"stats": {"weekly_report": False, "churn_alert": False, "recall": False}}


def mods(records: list[Record]) -> list[str]:
    return [r["text"] for r in records if r["action"] == "send" and r.get("chat") == "demo-mods"]


async def _two_weeks(h: Harness, late: str) -> list[Record]:
    """Four members talk every day for 13 days; on day 14 (03-15) u1 and u2 talk in the
    morning and u3, u4 at ``late`` (23:59 that day, or 00:01 the next). Returns what happened
    from then to the daily check of 03-16, 21:00."""
    for day in range(13):
        await h.advance(to=f"2026-03-{2 + day:02d}T10:00:00+08:00")
        for user in ("u1", "u2", "u3", "u4"):
            await h.say("demo", user, "早")
    await h.advance(to="2026-03-15T10:00:00+08:00")
    for user in ("u1", "u2"):
        await h.say("demo", user, "早")
    out = await h.advance(to=late)
    for user in ("u3", "u4"):
        out += await h.say("demo", user, "晚安")
    out += await h.advance(to="2026-03-16T21:00:00+08:00")
    return out


@pytest.mark.parametrize(
    ("late", "alert"),
    [
        # At 23:59 they are still actives of 03-15: 4 against 4 a week before, no alert.
        ("2026-03-15T23:59:00+08:00", None),
        # At 00:01 they count for 03-16: 03-15 had 2 against 4, down 50 %.
        ("2026-03-16T00:01:00+08:00", "• 日活（昨天 vs 上周同一天）：4 → 2（-50.0%）"),
    ],
)
async def test_level2_key_rate_down_week_over_week(
    tmp_path: Path, db_url: str, late: str, alert: str | None
) -> None:
    async with Harness(tmp_path, db_url=db_url, clock=START, config=QUIET) as h:
        out = await _two_weeks(h, late)
        level2 = [t for t in mods(out) if "二级响应：" in t]
        if alert is None:
            assert level2 == []
        else:
            assert len(level2) == 1
            title, line = level2[0].split("\n")
            assert title.startswith("🚨 #") and title.endswith("二级响应：关键指标环比下降 5% 以上")
            assert line == alert
            # The chart follows the alert, in the group's language (a CJK font ships with the
            # install), its numbers the alert's.
            [sent] = [
                r for r in out if r["action"] == "send" and r.get("chat") == "demo-mods" and r.get("image")
            ]
            assert sent["text"].startswith("📉 二级响应图表")
            _check_chart(Path(sent["image"]), "demo：关键指标下降 5% 以上")


def _check_chart(path: Path, title: str) -> None:
    from PIL import Image

    from bot import charts

    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as image:
        assert image.size == (720, 640)
        assert image.info["Title"] == title
        # Drawn, not blank: the red bar of the fallen rate is there.
        colours = {c for _, c in image.convert("RGB").getcolors(1 << 20) or []}
    assert (0xD1, 0x49, 0x5B) in colours
    if any("\u4e00" <= ch <= "\u9fff" for ch in title):
        assert charts.cjk_font() is not None


async def test_level2_in_english_with_a_higher_threshold(tmp_path: Path) -> None:
    config = {**QUIET, "bot": {"language": "en"}}
    async with Harness(tmp_path, clock=START, config=config) as h:
        await h.say("demo", "max", "/set desk.rate_drop 60", role="moderator")
        out = await _two_weeks(h, "2026-03-16T00:01:00+08:00")
        assert not any("Level 2" in t for t in mods(out))  # -50 % is not -60 %
        await h.say("demo", "max", "/set desk.rate_drop 50")
        out = await h.advance(to="2026-03-16T21:00:01+08:00")  # today's check already ran
        assert not any("Level 2" in t for t in mods(out))
    async with Harness(tmp_path / "b", clock=START, config=config) as h:
        await h.say("demo", "max", "/set desk.rate_drop 50", role="moderator")
        out = await _two_weeks(h, "2026-03-16T00:01:00+08:00")
        [text] = [t for t in mods(out) if "Level 2:" in t]
        assert text.split("\n")[1] == "• Daily actives (yesterday vs the same day last week): 4 → 2 (-50.0%)"
        [sent] = [r for r in out if r["action"] == "send" and r.get("image")]
        assert sent["text"].startswith("📉 Level 2 chart")
        _check_chart(Path(sent["image"]), "demo: key rates down 50% or more")


async def test_unanswered_digest_goes_to_the_moderators_daily(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url, clock=START, config=QUIET) as h:
        await h.say("demo", "max", "/set desk.daily_hour 12", role="moderator")
        await h.say("demo", "a", "请问怎么修改昵称？")
        await h.say("demo", "b", "怎么修改昵称啊")
        await h.say("demo", "c", "有人知道活动几点开始吗？")
        out = await h.advance(to="2026-03-02T12:00:00+08:00")
        [digest] = [r for r in out if r["action"] == "send" and r.get("chat") == "demo-mods"]
        lines = digest["text"].split("\n")
        assert lines[0] == "30 分钟内无人回答的问题（最近一天）：3 个，分为 2 组："
        assert len(digest["buttons"]) == 2
        data = digest["buttons"][0][0]["data"]
        # A member may not; a moderator of demo pressing it in the moderators' chat may.
        denied = texts(await h.press("demo-mods", "a", digest["id"], data))
        assert denied == ["抱歉，这个命令只有管理员可以使用。"]
        hint = texts(await h.press("demo-mods", "max", digest["id"], data))
        assert hint == ["在「demo」群里补上回答后发送：\n/faq add question 请问怎么修改昵称？ | "]
        # The next day, with nothing new unanswered, no digest.
        out = await h.advance(to="2026-03-04T12:00:00+08:00")
        assert [t for t in mods(out) if t.startswith("30 分钟")] == []


def test_new_members_retention_is_a_watched_rate() -> None:
    """Level 2 watches new members' 7-day retention beside the other rates (a ratio compared as a
    ratio: 50 % → 30 % is down 40 %); a rise or a figure without a previous one is no alert."""
    fallen = drops(
        [
            Indicator("retention_7d", 0.3, previous=0.5, is_ratio=True),
            Indicator("dau", 12.0, previous=10.0),
            Indicator("checkin_rate", 0.2, previous=None, is_ratio=True),
        ],
        5,
    )
    assert [(f.key, round(change, 2)) for f, change in fallen] == [("retention_7d", -0.4)]
