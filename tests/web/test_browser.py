"""The dashboard in a real browser: headless Chromium from the operating system (Debian's
``chromium`` package) driven by Playwright, against a bot on the console harness.

A moderator logs in through the link ``/dashboard`` sent them, acknowledges an alert, adds a
lexicon term and sees the console react to it; every page is screenshotted into the test's
output (``QUNYOU_SCREENSHOTS=DIR`` copies them there too: that is how ``docs/img`` was made).
The overview and the Charts page are also shown on the console demo's group (five weeks of
history), whose screenshots are the docs' (``demo-*.png``).

Not skipped in CI: with ``CI=true`` or ``QUNYOU_REQUIRE_BROWSER=1`` a missing Chromium fails.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.demo import seed_demo
from tests.harness import Harness
from tests.moderation.helpers import actions
from tests.web.helpers import link_token
from web import WebServer, create_app
from web.app import dashboard_routes

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def chromium() -> Iterator[str]:
    """The system Chromium, or a skip (a failure when CI asks for browser tests)."""
    required = os.environ.get("CI", "").lower() in ("1", "true") or os.environ.get("QUNYOU_REQUIRE_BROWSER")
    missing = not CHROMIUM.exists()
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        missing = True
    if missing:
        if required:
            pytest.fail("browser tests are required here: apt-get install chromium; pip install playwright")
        pytest.skip("no /usr/bin/chromium or playwright: apt-get install chromium; pip install -e .[dev]")
    yield str(CHROMIUM)


async def _until_hot_words_counted(page: Any) -> None:
    """Reload the Charts page while it says the hot words are being counted (the first count
    loads jieba in the background: seconds on a loaded machine)."""
    for _ in range(120):
        if await page.locator("#hot-counting").count() == 0:
            return
        await page.wait_for_timeout(1000)
        await page.reload()
    raise AssertionError("the hot words were never counted")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_moderator_works_the_dashboard_in_a_browser(chromium: str, tmp_path: Path) -> None:
    from playwright.async_api import async_playwright, expect

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    shots = tmp_path / "screenshots"
    shots.mkdir()
    async with Harness(tmp_path, config={"web": {"base_url": base}}) as h:
        server = WebServer(create_app(h.app, extra_routes=dashboard_routes(h.services)), "127.0.0.1", port)
        await server.start()
        try:
            # A day of chat, so the overview has figures, then a red hit for the desk.
            await h.say("demo", "max", "hello", role="moderator", name="Max")
            for n, who in enumerate(("bob", "eve", "dan", "bob", "eve")):
                await h.say("demo", who, f"周末一起去爬山吧 {n}")
            await h.flush()
            await h.advance(seconds=86400)
            await h.say("demo", "bob", "来玩百家乐")
            await h.say("demo", "eve", "/topic suggest 大家最近在读什么书？")
            records = await h.say("demo", "max", "/dashboard")
            url = f"{base}/login/{link_token(records)}"
            h.adapter.take()
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
                page = await browser.new_page(viewport={"width": 1200, "height": 900}, locale="zh-CN")
                await page.goto(url)
                await page.click("#login-button")
                await expect(page.locator("h1")).to_have_text("驾驶舱")
                await page.screenshot(path=str(shots / "home.png"), full_page=True)

                await page.goto(f"{base}/g/1")
                await expect(page.locator('[data-key="dau"]')).to_be_visible()
                await page.screenshot(path=str(shots / "overview.png"), full_page=True)

                await page.goto(f"{base}/g/1/charts?days=7")
                # Activity, the heatmap, the stages recorded last night, then the hot words.
                await _until_hot_words_counted(page)
                await expect(page.locator("svg.chart")).to_have_count(4)
                await page.screenshot(path=str(shots / "charts.png"), full_page=True)

                await page.goto(f"{base}/g/1/desk")
                await page.screenshot(path=str(shots / "desk.png"), full_page=True)
                await page.locator('form[action="/g/1/desk/1/ack"] button').click()
                await expect(page.locator(".notice")).to_contain_text("告警 #1 已确认")
                edits = actions(h.adapter.take(), "edit")
                assert edits and "Max" in edits[-1]["text"]  # the chat's alert says who handled it

                await page.goto(f"{base}/g/1/lexicon")
                await page.fill("#add-term", "爬山团购")
                await page.select_option("#add-level", "yellow")
                await page.fill("#add-category", "ads")
                await page.click('form[action="/g/1/lexicon/add"] button')
                await expect(page.locator(".notice")).to_contain_text("爬山团购")
                await page.fill("#test-text", "爬 山 團 購，私聊")
                await page.click('form[action="/g/1/lexicon/test"] button')
                await expect(page.locator("#verdict")).to_contain_text("爬山团购")
                await page.screenshot(path=str(shots / "lexicon.png"), full_page=True)
                # The console reacts to the term added in the browser.
                hit = await h.say("demo", "dan", "有人要爬山团购吗")
                assert actions(hit, "delete")
                assert any(r.get("chat") == "demo-mods" for r in actions(hit, "send"))  # and an alert

                await page.goto(f"{base}/g/1/settings")
                await page.fill("#v-moderation\\.red_mute_minutes", "0")
                await page.locator("#setting-moderation-red_mute_minutes button").click()
                await expect(page.locator(".error")).to_contain_text("1..525600")
                await page.screenshot(path=str(shots / "settings.png"))

                # Content: plan a post with the keyboard (labels find the fields; Enter submits),
                # approve a suggestion; the console has both.
                await page.goto(f"{base}/g/1/content")
                await page.get_by_label("内容", exact=True).fill("晚安，各位")
                await page.get_by_label("时间", exact=True).fill("每天 21:00")
                await page.get_by_label("时间", exact=True).press("Enter")
                await expect(page.locator(".notice")).to_contain_text("定时消息 #1 已计划")
                await expect(page.locator("#post-1")).to_contain_text("2026-03-03 21:00")
                await page.locator('form[action="/g/1/content/suggestions/1/approve"] button').click()
                await expect(page.locator(".notice")).to_contain_text("建议 #1 已采纳")
                await page.screenshot(path=str(shots / "content.png"), full_page=True)
                planned = await h.say("demo", "max", "/schedule list")
                assert any("晚安，各位" in r.get("text", "") for r in actions(planned, "send"))

                # A member's page: correct points; the group is told, as after /points give.
                await page.goto(f"{base}/g/1/members?q=bob")
                await page.get_by_role("link", name="bob").click()
                await page.get_by_label("积分（正数加，负数扣）").fill("10")
                await page.get_by_label("积分（正数加，负数扣）").press("Enter")
                await expect(page.locator(".notice")).to_contain_text("已给 @bob 加 10 分")
                await page.screenshot(path=str(shots / "member.png"), full_page=True)
                told = actions(h.adapter.take(), "send")
                assert any("已给 @bob 加 10 分" in r["text"] for r in told if r.get("chat") == "demo")

                await page.set_viewport_size({"width": 390, "height": 844})  # a phone
                await page.goto(f"{base}/g/1/desk?status=all")
                await page.screenshot(path=str(shots / "desk-phone.png"), full_page=True)
                await browser.close()
        finally:
            await server.stop()
    assert sorted(p.name for p in shots.iterdir()) == [
        "charts.png",
        "content.png",
        "desk-phone.png",
        "desk.png",
        "home.png",
        "lexicon.png",
        "member.png",
        "overview.png",
        "settings.png",
    ]
    keep = os.environ.get("QUNYOU_SCREENSHOTS")
    if keep:
        shutil.copytree(shots, keep, dirs_exist_ok=True)


async def test_the_demo_groups_history_in_a_browser(chromium: str, tmp_path: Path) -> None:
    from playwright.async_api import async_playwright, expect

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    shots = tmp_path / "screenshots"
    shots.mkdir()
    async with Harness(tmp_path, config={"web": {"base_url": base}}) as h:
        await seed_demo(h.services, h.adapter, "demo")
        server = WebServer(create_app(h.app, extra_routes=dashboard_routes(h.services)), "127.0.0.1", port)
        await server.start()
        try:
            url = f"{base}/login/{link_token(await h.say('demo', 'mod', '/dashboard'))}"
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
                page = await browser.new_page(viewport={"width": 1200, "height": 900}, locale="zh-CN")
                await page.goto(url)
                await page.click("#login-button")
                await page.goto(f"{base}/g/1?days=30")
                await expect(page.locator('[data-key="stage_active"]')).to_be_visible()
                await page.screenshot(path=str(shots / "demo-overview.png"), full_page=True)
                await page.goto(f"{base}/g/1/charts?days=30")
                # Activity, the heatmap, five weeks of stages, the demo's hot words.
                await _until_hot_words_counted(page)
                await expect(page.locator("svg.chart")).to_have_count(4)
                await expect(page.locator("#hot-h")).to_be_visible()
                await page.screenshot(path=str(shots / "demo-charts.png"), full_page=True)
                await browser.close()
        finally:
            await server.stop()
    assert sorted(p.name for p in shots.iterdir()) == ["demo-charts.png", "demo-overview.png"]
    keep = os.environ.get("QUNYOU_SCREENSHOTS")
    if keep:
        shutil.copytree(shots, keep, dirs_exist_ok=True)
