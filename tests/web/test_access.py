"""Who gets in and what they see: links, sessions, CSRF, rate limits and the permission matrix."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from storage.dashboard import DashboardRepo
from tests.harness import Harness, texts
from tests.web.helpers import csrf_of, dashboard, link_token, log_in

PAGES = (
    "",
    "/charts",
    "/charts.csv",
    "/stages.csv",
    "/hotwords.csv",
    "/desk",
    "/audit",
    "/audit.csv",
    "/lexicon",
    "/members",
    "/settings",
    "/content",
)


async def _groups(h: Harness) -> None:
    await h.say("demo", "bob", "hi")
    await h.say("demo", "max", "hello", role="moderator")
    await h.say("other", "zoe", "hello", role="moderator")


async def test_a_moderator_logs_in_with_a_link_and_sees_every_page(db_url: str, tmp_path: Path) -> None:
    async with Harness(tmp_path, db_url=db_url) as h, dashboard(h) as client:
        await _groups(h)
        records = await h.say("demo", "max", "/dashboard")
        assert texts(records)[-1] == "登录链接已私聊发给你。"
        token = link_token(records)
        # Opening the link (a chat app's preview does) does not use it up: the button does.
        page = await client.get(f"/login/{token}")
        assert page.status_code == 200 and 'id="login-button"' in page.text
        assert (await client.get(f"/login/{token}")).status_code == 200
        answer = await client.post(f"/login/{token}")
        assert answer.status_code == 303 and answer.headers["location"] == "/"
        cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "max-age=604800" in cookie
        home = await client.get("/")
        assert home.status_code == 200 and 'href="/g/1"' in home.text and "/g/2" not in home.text
        for suffix in PAGES:
            page = await client.get(f"/g/1{suffix}")
            assert page.status_code == 200, suffix
            assert page.headers["x-frame-options"] == "DENY"
        # The link was single use.
        again = await client.post(f"/login/{token}")
        assert again.status_code == 400 and "已过期或已经用过" in again.text


async def test_an_expired_link_is_refused(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h, dashboard(h) as client:
        await _groups(h)
        token = link_token(await h.say("demo", "max", "/dashboard"))
        await h.advance(seconds=10 * 60 + 1)
        assert (await client.get(f"/login/{token}")).status_code == 400
        assert (await client.post(f"/login/{token}")).status_code == 400
        assert (await client.get("/")).status_code == 401


async def test_without_a_session_every_page_asks_to_log_in(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h, dashboard(h) as client:
        await _groups(h)
        for path in ["/", *(f"/g/1{s}" for s in PAGES)]:
            page = await client.get(path)
            assert page.status_code == 401 and "/dashboard" in page.text, path
        for path in ("/g/1/desk/1/ack", "/g/1/lexicon/add", "/g/1/settings", "/logout", "/lang"):
            assert (await client.post(path, data={"csrf": "x"})).status_code == 401, path
        client.cookies.set("qunyou_session", "forged")
        assert (await client.get("/")).status_code == 401


async def test_a_member_gets_no_link_in_the_group_and_sees_nothing_from_a_private_one(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h, dashboard(h) as client:
        await _groups(h)
        assert texts(await h.say("demo", "bob", "/dashboard")) == ["驾驶舱只对本群管理员开放。"]
        await log_in(h, client, "", "bob")
        home = await client.get("/")
        assert "你没有管理这个机器人服务的任何群" in home.text
        for suffix in PAGES:
            assert (await client.get(f"/g/1{suffix}")).status_code == 404


async def test_a_moderator_of_another_group_gets_404_for_this_one(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h, dashboard(h) as client:
        await _groups(h)
        await log_in(h, client, "other", "zoe")
        home = await client.get("/")
        assert 'href="/g/2"' in home.text and 'href="/g/1"' not in home.text
        for suffix in PAGES:
            assert (await client.get(f"/g/1{suffix}")).status_code == 404
            assert (await client.get(f"/g/2{suffix}")).status_code == 200
        for garbled in ("/g/999", "/g/abc", "/g/-1", "/g/" + "9" * 40):
            assert (await client.get(garbled)).status_code == 404


async def test_an_owner_and_a_superuser(tmp_path: Path) -> None:
    config = {"bot": {"superusers": {"console": ["root"]}}}
    async with Harness(tmp_path, config=config) as h:
        await _groups(h)
        await h.say("demo", "olga", "hi", role="owner")
        async with dashboard(h) as client:
            await log_in(h, client, "demo", "olga")
            home = (await client.get("/")).text
            assert 'href="/g/1"' in home and 'href="/g/2"' not in home
        async with dashboard(h) as client:
            await log_in(h, client, "", "root")
            home = (await client.get("/")).text
            assert 'href="/g/1"' in home and 'href="/g/2"' in home
            assert (await client.get("/g/2/settings")).status_code == 200


async def test_csrf_is_required_on_every_post(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h, dashboard(h) as client:
        await _groups(h)
        await h.say("demo", "bob", "来玩百家乐")
        csrf = await log_in(h, client, "demo", "max")
        for data in ({}, {"csrf": "forged"}, {"csrf": csrf[:-1]}):
            answer = await client.post("/g/1/desk/1/ack", data=data)
            assert answer.status_code == 403 and "表单已失效" in answer.text
            assert (
                await client.post("/g/1/lexicon/add", data={**data, "level": "red", "term": "x"})
            ).status_code == 403
            assert (await client.post("/logout", data=data)).status_code == 403
        desk = await client.get("/g/1/desk")
        assert 'action="/g/1/desk/1/ack"' in desk.text  # still open: nothing was done
        # Another session's token does not work in this one.
        async with dashboard(h) as other:
            other_csrf = await log_in(h, other, "demo", "max")
        assert other_csrf != csrf
        assert (await client.post("/g/1/desk/1/ack", data={"csrf": other_csrf})).status_code == 403


async def test_failed_logins_are_rate_limited_per_address(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h, dashboard(h) as client:
        await _groups(h)
        for n in range(10):
            assert (await client.get(f"/login/guess{n}")).status_code == 400
        token = link_token(await h.say("demo", "max", "/dashboard"))
        blocked = await client.post(f"/login/{token}")
        assert blocked.status_code == 429 and "尝试次数过多" in blocked.text
        await h.advance(seconds=10 * 60)
        # The window passed; the link (10 minutes) expired with it, so ask again.
        token = link_token(await h.say("demo", "max", "/dashboard"))
        assert (await client.post(f"/login/{token}")).status_code == 303


async def test_the_failed_login_limit_survives_a_restart_and_is_shared(db_url: str, tmp_path: Path) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _groups(h)
        async with dashboard(h) as client:
            for n in range(10):
                assert (await client.get(f"/login/guess{n}")).status_code == 400
        await h.restart()
        # A new process on the same database: the address is still blocked, even with a good link.
        async with dashboard(h) as client:
            token = link_token(await h.say("demo", "max", "/dashboard"))
            assert (await client.get(f"/login/{token}")).status_code == 429
            assert (await client.post(f"/login/{token}")).status_code == 429
            await h.advance(seconds=9 * 60 + 59)
            assert (await client.post(f"/login/{token}")).status_code == 429
            # Another address has its own budget.
            async with dashboard(h, "198.51.100.4") as elsewhere:
                assert (await elsewhere.get(f"/login/{token}")).status_code == 200
            await h.advance(seconds=1)
            # Ten virtual minutes after the failures the address may try again (the link expired
            # with them, so ask for another).
            token = link_token(await h.say("demo", "max", "/dashboard"))
            assert (await client.post(f"/login/{token}")).status_code == 303
        # The failures older than the window are gone once a new one comes in.
        async with dashboard(h) as client:
            assert (await client.get("/login/guess-again")).status_code == 400
        repo = DashboardRepo(h.services.db)
        assert await repo.failures_since("203.0.113.7", h.now - timedelta(days=1)) == 1


async def test_links_per_member_are_rate_limited(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await _groups(h)
        for _ in range(5):
            link_token(await h.say("demo", "max", "/dashboard"))
        assert texts(await h.say("demo", "max", "/dashboard")) == [
            "你已经要过好几个链接了，请 10 分钟后再试。"
        ]
        await h.advance(seconds=10 * 60)
        link_token(await h.say("demo", "max", "/dashboard"))


async def test_logout_in_chat_ends_every_session_and_the_page_logs_out_one(
    db_url: str, tmp_path: Path
) -> None:
    async with Harness(tmp_path, db_url=db_url) as h, dashboard(h) as first, dashboard(h) as second:
        await _groups(h)
        await log_in(h, first, "demo", "max")
        csrf = await log_in(h, second, "demo", "max")
        assert texts(await h.say("demo", "max", "/dashboard logout")) == [
            "已在所有设备上退出驾驶舱（结束了 2 个登录）。"
        ]
        assert (await first.get("/")).status_code == 401
        assert (await second.get("/g/1")).status_code == 401
        csrf = await log_in(h, second, "", "max")
        answer = await second.post("/logout", data={"csrf": csrf})
        assert answer.status_code == 303
        assert "qunyou_session" not in second.cookies
        assert (await second.get("/")).status_code == 401


async def test_a_session_ends_after_its_lifetime(tmp_path: Path) -> None:
    config = {"web": {"session_days": 1}}
    async with Harness(tmp_path, config=config) as h, dashboard(h) as client:
        await _groups(h)
        await log_in(h, client, "demo", "max")
        await h.advance(seconds=86400 - 60)
        assert (await client.get("/g/1")).status_code == 200
        await h.advance(seconds=120)
        assert (await client.get("/g/1")).status_code == 401


async def test_language_follows_the_group_and_can_be_switched(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h, dashboard(h) as client:
        await _groups(h)
        csrf = await log_in(h, client, "demo", "max")
        assert "审核台" in (await client.get("/g/1/desk")).text
        answer = await client.post("/lang", data={"csrf": csrf, "lang": "en", "back": "/g/1/desk"})
        assert answer.status_code == 303 and answer.headers["location"] == "/g/1/desk"
        page = await client.get("/g/1/desk")
        assert 'lang="en"' in page.text and "Moderation desk" in page.text
        assert (await client.post("/lang", data={"csrf": csrf, "lang": "klingon"})).status_code == 400
        # Only a path of this site is followed back.
        for back in ("//evil.example/x", "https://evil.example/", "javascript:alert(1)"):
            answer = await client.post("/lang", data={"csrf": csrf, "lang": "zh", "back": back})
            assert answer.headers["location"] == "/"
        assert csrf_of((await client.get("/")).text) == csrf


async def test_without_private_messages_the_link_is_never_posted_in_the_group(tmp_path: Path) -> None:
    from adapters.console.adapter import ConsoleAdapter
    from bot.adapter import Capability

    no_private = frozenset(ConsoleAdapter.capabilities - {Capability.PRIVATE})
    async with Harness(tmp_path, capabilities=no_private) as h:
        await _groups(h)
        records = await h.say("demo", "max", "/dashboard")
        assert texts(records) == ["我没法私聊你。请先和我开一个私聊，再发一次 /dashboard。"]
        assert "/login/" not in str(records)
