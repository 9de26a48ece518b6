"""The Charts page's member stages over time (recorded by the nightly job, /lifecycle's counts)
and hot words (/hot's), as SVG, tables and CSV, on a scripted history."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from tests.harness import Harness, texts
from tests.web.helpers import dashboard, log_in


def _lifecycle(lines: list[str]) -> dict[str, int]:
    """/lifecycle's counts by stage name (zh-CN)."""
    out = {}
    for line in lines:
        for text in line.splitlines():
            found = re.match(r"(\S+)：(\d+) 人", text)
            if found:
                out[found.group(1)] = int(found.group(2))
    return out


async def test_stages_over_time_are_recorded_each_night_and_match_lifecycle(
    db_url: str, tmp_path: Path
) -> None:
    # The clock starts on Monday 2026-03-02 09:00 in Asia/Shanghai.
    async with Harness(tmp_path, db_url=db_url) as h, dashboard(h) as client:
        await h.say("demo", "max", "hello", role="moderator", name="Max")
        await h.say("demo", "bob", "hi")
        for user in ("ann", "cat"):
            await h.join("demo", user)
        await log_in(h, client, "demo", "max")
        await h.flush()
        before = await client.get("/g/1/charts?days=7")
        assert before.status_code == 200 and "还没有记录：每天零点后记录一次。" in before.text
        # Past midnight: the nightly job (00:05) records the stages at the end of 2026-03-02.
        await h.advance(to="2026-03-03T08:00:00+08:00")
        await h.leave("demo", "cat")
        await h.advance(to="2026-03-04T08:00:00+08:00")
        lifecycle = _lifecycle(texts(await h.say("demo", "max", "/lifecycle")))
        page = await client.get("/g/1/charts?days=7")
        assert page.status_code == 200
        assert page.text.count('id="stages-h"') == 1 and "<title>图表" in page.text
        # ann and cat joined: new; max and bob posted: active. Then cat left.
        assert "2026-03-02: 新成员 2</title>" in page.text and "2026-03-02: 活跃成员 2</title>" in page.text
        assert "2026-03-03: 新成员 1</title>" in page.text
        assert "未记录（当晚机器人未运行）" in page.text  # the five days before the first night
        exported = await client.get("/g/1/stages.csv?days=7")
        assert exported.headers["content-type"].startswith("text/csv")
        lines = exported.text.splitlines()
        assert lines[0] == "day,new,active,sleeping,churned,left"
        assert lines[1] == "2026-02-25,,,,,"  # not recorded
        assert lines[6] == "2026-03-02,2,2,0,0,0"
        assert lines[7] == "2026-03-03,1,2,0,0,1"
        # The "now" row is what /lifecycle says now.
        now = dict(zip(lines[0].split(",")[1:], map(int, lines[8].split(",")[1:]), strict=True))
        assert lines[8].startswith("now,")
        assert now["new"] == lifecycle["新人"] == 1 and now["active"] == lifecycle["活跃"] == 2
        assert now["left"] == 1


async def test_hot_words_on_the_charts_page_and_as_csv(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h, dashboard(h) as client:
        await h.say("demo", "max", "hello", role="moderator", name="Max")
        for user in ("ann", "bob", "cat", "dan"):
            await h.say("demo", user, "周末一起去咖啡店喝咖啡吧")
        await h.say("demo", "ann", "读书会的书单发一下")
        await h.flush()
        await log_in(h, client, "demo", "max")
        hot = texts(await h.say("demo", "max", "/hot 24h"))
        page = await client.get("/g/1/charts?hot=24h")
        assert page.status_code == 200
        assert "咖啡: 4 条消息 · 4 人" in page.text  # the bar's tooltip
        exported = await client.get("/g/1/hotwords.csv?hot=24h")
        rows = exported.text.splitlines()
        assert rows[0] == "rank,word,score,messages,members"
        first = rows[1].split(",")
        assert first[1] in hot[0] and first[3:] == ["4", "4"]
        # A window that is not one of /hot's falls back to 7 days.
        assert (await client.get("/g/1/charts?hot=1y")).status_code == 200
        assert (await client.get("/g/1/hotwords.csv?hot=1y")).status_code == 200
        # Text not kept: the page says so, and there is nothing to export.
        await h.say("demo", "max", "/set stats.store_text off")
        off = await client.get("/g/1/charts")
        assert "本群不保存消息文本" in off.text
        assert (await client.get("/g/1/hotwords.csv")).status_code == 404


async def test_a_first_count_of_hot_words_runs_in_the_background(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h, dashboard(h) as client:
        await h.say("demo", "max", "hello", role="moderator", name="Max")
        for user in ("ann", "bob", "cat"):
            await h.say("demo", user, "今晚一起看电影吧")
        await h.flush()
        await log_in(h, client, "demo", "max")
        first = await client.get("/g/1/charts?hot=7d")
        # Not counted yet: the page does not wait, it says so and starts the count.
        assert "正在统计热词" in first.text and 'id="hot-counting"' in first.text
        for _ in range(600):
            await asyncio.sleep(0.2)
            page = await client.get("/g/1/charts?hot=7d")
            if 'id="hot-counting"' not in page.text:
                break
        assert "今晚: 3 条消息 · 3 人" in page.text
        # The CSV waits for its count instead (24 hours: not counted before).
        rows = (await client.get("/g/1/hotwords.csv?hot=24h")).text.splitlines()
        assert any(row.split(",")[1] == "今晚" and row.endswith(",3,3") for row in rows[1:]), rows


async def test_stage_and_hot_word_exports_are_for_the_groups_moderators_only(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h, dashboard(h) as moderator, dashboard(h) as member:
        await h.say("demo", "max", "hello", role="moderator")
        await h.say("other", "zoe", "hello", role="moderator")
        await h.say("demo", "bob", "hi")
        await log_in(h, moderator, "other", "zoe")
        for path in ("/g/1/stages.csv", "/g/1/hotwords.csv", "/g/1/charts?hot=24h"):
            assert (await moderator.get(path)).status_code == 404, path
            assert (await member.get(path)).status_code == 401, path
