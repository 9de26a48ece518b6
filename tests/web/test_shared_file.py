"""A `bot web` process and a worker on one SQLite file empty each other's caches through the
change log (``bot.changes``): what the browser changes, the chat applies, and back."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx

from bot.app import App
from bot.changes import ChangeFeed
from handlers.moderation.settings import ModerationSettings
from storage import Database
from storage.dashboard.changes import ChangeLog
from tests.harness import Harness, texts
from tests.moderation.helpers import actions
from tests.web.helpers import log_in
from web import create_app
from web.app import dashboard_routes


async def test_a_change_log_reaches_the_other_process_only(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    await db.migrate()
    try:

        def now() -> datetime:
            return datetime(2026, 3, 2, tzinfo=UTC)

        a, b = ChangeFeed("worker"), ChangeFeed("web:1")
        seen_a: list[str] = []
        seen_b: list[str] = []
        a.subscribe("lexicon", seen_a.append)
        b.subscribe("lexicon", seen_b.append)
        await a.attach_log(ChangeLog(db), now)
        await b.attach_log(ChangeLog(db), now)
        await a.publish("lexicon", 7)
        await b.publish("lexicon", 8)
        assert await a.poll_once() == 2 and await b.poll_once() == 2
        assert seen_a == ["8"] and seen_b == ["7"]  # each skips its own
        assert await a.poll_once() == 0  # read once
    finally:
        await db.close()


async def test_the_console_applies_what_a_bot_web_process_changed(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    config = {"bot": {"superusers": {"console": ["root"]}}}
    async with Harness(tmp_path, db_url=url, config=config) as h:
        await h.say("demo", "bob", "hi")
        web_app = App(h.settings, clock=h.session.clock, serve_only=True)
        await web_app.start()
        try:
            assert web_app.worker != h.app.worker
            assert web_app.services is not None
            asgi = create_app(web_app, extra_routes=dashboard_routes(web_app.services))
            transport = httpx.ASGITransport(app=asgi)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
                csrf = await log_in(h, client, "", "root")
                added = await client.post(
                    "/g/1/lexicon/add",
                    data={"csrf": csrf, "term": "团购接龙", "level": "red", "mode": "text"},
                )
                assert added.status_code == 200
                saved = await client.post(
                    "/g/1/settings", data={"csrf": csrf, "key": "moderation.red_mute_minutes", "value": "45"}
                )
                assert saved.status_code == 200
            # The console reads the change log (every 2 s on a real clock; here, now).
            assert await h.services.changes.poll_once() >= 2
            assert actions(await h.say("demo", "bob", "团购接龙来了"), "delete")
            assert (await h.services.settings.of(1, ModerationSettings)).red_mute_minutes == 45
            # And back: a term added in chat is seen by the web process's test box.
            await h.say("demo", "root", "/kw add yellow 拼单 ads")
            assert web_app.services is not None
            await web_app.services.changes.poll_once()
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
                csrf = await log_in(h, client, "", "root")
                tested = await client.post("/g/1/lexicon/test", data={"csrf": csrf, "text": "来拼单"})
                assert "会被标记" in tested.text
        finally:
            await web_app.stop()


async def test_a_bot_web_process_cancels_activities_but_cannot_announce_new_ones(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    config = {"bot": {"superusers": {"console": ["root"]}}}
    async with Harness(tmp_path, db_url=url, config=config) as h:
        await h.say("demo", "root", "/event add 读书会 | 明天 20:00")
        web_app = App(h.settings, clock=h.session.clock, serve_only=True)
        await web_app.start()
        try:
            assert web_app.services is not None
            asgi = create_app(web_app, extra_routes=dashboard_routes(web_app.services))
            transport = httpx.ASGITransport(app=asgi)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
                csrf = await log_in(h, client, "", "root")
                # No platform connection: the announcement could not be posted, so no activity.
                refused = await client.post(
                    "/g/1/content/activities/add", data={"csrf": csrf, "title": "夜跑", "start": "明天 21:00"}
                )
                assert refused.status_code == 400 and "bot web" in refused.text
                assert 'id="activity-2"' not in refused.text
                cancelled = await client.post("/g/1/content/activities/1/cancel", data={"csrf": csrf})
                assert cancelled.status_code == 200 and 'id="activity-1"' not in cancelled.text
            # The running bot sees it cancelled.
            assert any("取消" in line for line in texts(await h.say("demo", "root", "/event info 1")))
        finally:
            await web_app.stop()
