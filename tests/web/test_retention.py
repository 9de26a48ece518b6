"""New members' 7-day retention on the overview, computed on a scripted history with a known
answer (docs/dashboard.md defines it: active on local day J+6, J+7 or J+8 after joining on J)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.harness import Harness, texts
from tests.web.helpers import dashboard, log_in


def _card(html: str, key: str) -> str:
    found = re.search(rf'<li class="kpi[^"]*" data-key="{key}".*?</li>', html, re.S)
    assert found, f"no card {key}"
    return found.group(0)


async def test_retention_counts_activity_six_to_eight_local_days_after_joining(
    db_url: str, tmp_path: Path
) -> None:
    # The clock starts on Monday 2026-03-02 09:00 in Asia/Shanghai: day J.
    async with Harness(tmp_path, db_url=db_url) as h, dashboard(h) as client:
        await h.say("demo", "max", "hello", role="moderator", name="Max")
        for user in ("ann", "bea", "cat", "dan", "eve"):
            await h.join("demo", user)
        # gus joins at 07:00 on J+1 local time, which is still day J in UTC: his window is
        # J+7…J+9 in the group's days, not J+6…J+8.
        await h.advance(to="2026-03-03T07:00:00+08:00")
        await h.join("demo", "gus")
        posts = {
            "2026-03-07T12:00:00+08:00": ["bea"],  # J+5: too early
            "2026-03-08T12:00:00+08:00": ["dan"],  # J+6: retained
            "2026-03-09T12:00:00+08:00": ["ann"],  # J+7: retained
            "2026-03-10T12:00:00+08:00": ["eve"],  # J+8: retained (and gus's J+7: retained)
            "2026-03-11T12:00:00+08:00": ["cat"],  # J+9: too late
        }
        for at, users in posts.items():
            await h.advance(to=at)
            for user in users + (["gus"] if at.startswith("2026-03-10") else []):
                await h.say("demo", user, "在吗")
            await h.flush()
        # Today J+10: the last 7 complete days are J+3…J+9, holding J+8 of the first five
        # joiners and of gus (joined J+1 local). 4 of 6 retained.
        await h.advance(to="2026-03-12T09:00:00+08:00")
        await log_in(h, client, "demo", "max")
        page = (await client.get("/g/1?days=7")).text
        card = _card(page, "retention_7d")
        assert "66.7%" in card, card
        assert "新成员 7 日留存率" in card
        # The period before (J−4…J+2) holds nobody's J+8: no previous value, so no change.
        assert 'class="delta' not in card
        # /stats shows the same figure (a moderator's view of the same 7 days).
        stats = texts(await h.say("demo", "max", "/stats"))
        assert any("新成员 7 日留存率（入群后第 6–8 天活跃）：66.7%" in line for line in stats), stats
        # Over 30 days (J−20…J+9) the same six members make the cohort.
        assert "66.7%" in _card((await client.get("/g/1?days=30")).text, "retention_7d")


def _row(html: str, start: str) -> list[str]:
    """The cells of the cohort row of the week from ``start``."""
    found = re.search(rf'<tr id="cohort-{start}">(.*?)</tr>', html, re.S)
    assert found, f"no cohort row {start}"
    return re.findall(r"<td[^>]*>([^<]*)</td>", found.group(1))


async def test_weekly_retention_cohorts_on_the_charts_page_and_as_csv(tmp_path: Path) -> None:
    # Day J is Monday 2026-03-02 (Asia/Shanghai).
    async with Harness(tmp_path) as h, dashboard(h) as client:
        await h.say("demo", "max", "hello", role="moderator", name="Max")
        await h.join("demo", "ann")
        await h.join("demo", "bea")
        for at, users in (
            ("2026-03-09T12:00:00+08:00", ["ann"]),  # J+7: ann's week 1
            ("2026-03-10T12:00:00+08:00", ["bea"]),  # J+8: bea's week 1
            ("2026-03-16T12:00:00+08:00", ["ann"]),  # J+14: ann's week 2
        ):
            await h.advance(to=at)
            if at.startswith("2026-03-09"):
                await h.join("demo", "cal")  # the next week's cohort, active only on its join day
                await h.say("demo", "cal", "大家好")
            for user in users:
                await h.say("demo", user, "在吗")
            await h.flush()
        # Today J+28: complete days up to J+27. J's cohort has weeks 1 and 2 complete (its last
        # possible joiner's week 2 ends J+26); J+7's cohort only week 1.
        await h.advance(to="2026-03-30T09:00:00+08:00")
        await log_in(h, client, "demo", "max")
        page = (await client.get("/g/1/charts")).text
        assert _row(page, "2026-03-02") == ["2026-03-02", "2", "100.0%", "50.0%", "—", "—"]
        assert _row(page, "2026-03-09") == ["2026-03-09", "1", "0.0%", "—", "—", "—"]
        assert _row(page, "2026-03-16") == ["2026-03-16", "0", "—", "—", "—", "—"]
        assert "新成员留存（按入群周）" in page
        # Once, in the page's body: not also inside the <title> (a template slip once put it there).
        assert page.count('id="cohorts-h"') == 1
        title = page.split("<title>", 1)[1].split("</title>", 1)[0]
        assert "<" not in title, title
        csv = await client.get("/g/1/cohorts.csv")
        assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
        lines = csv.text.splitlines()
        assert lines[0] == "joined_week_start,joined,week_1,week_2,week_3,week_4"
        assert "2026-03-02,2,1.0000,0.5000,," in lines and len(lines) == 9
    async with Harness(tmp_path / "b") as h, dashboard(h) as member:
        await h.say("demo", "bob", "hi")
        await log_in(h, member, "", "bob")
        assert (await member.get("/g/1/cohorts.csv")).status_code == 404
    async with Harness(tmp_path / "c") as h, dashboard(h) as anonymous:
        assert (await anonymous.get("/g/1/cohorts.csv")).status_code == 401
