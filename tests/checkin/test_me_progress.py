"""``/me`` shows progress within the current level, not a percentage beside the running total (issue 21)."""

from __future__ import annotations

from pathlib import Path

from tests.harness import Harness, texts


async def _me_level_line(h: Harness, points: int) -> str:
    await h.say("demo", "bob", "hi")
    await h.say("demo", "max", f"/points give @bob {points}", role="moderator")
    return texts(await h.say("demo", "bob", "/me"))[0].split("\n")[1]


async def test_me_progress_within_the_level_zh(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        # Lv.2 starts at 200, Lv.3 at 450: 206 points are 6 of the level's 250, 2%.
        line = await _me_level_line(h, 206)
    assert line == "等级 Lv.2（基础会员）· 累计 206 分，距 Lv.3 还差 244 分 · 本级进度 6/250（2%）"


async def test_me_progress_within_the_level_en(tmp_path: Path) -> None:
    async with Harness(tmp_path, config={"bot": {"language": "en"}}) as h:
        line = await _me_level_line(h, 325)
    assert line == "Level 2 (Member) · 325 points earned, 125 more to level 3 · this level 125/250 (50%)"


async def test_me_progress_at_level_zero(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "bob", "hi")
        line = texts(await h.say("demo", "bob", "/me"))[0].split("\n")[1]
    assert line == "等级 Lv.0（基础会员）· 累计 0 分，距 Lv.1 还差 50 分 · 本级进度 0/50（0%）"
