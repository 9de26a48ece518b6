"""Warn, mute and correct points from a member's page: the chat command's checks and effects,
audited as the moderator, and the permission matrix of the actions."""

from __future__ import annotations

import re
from pathlib import Path

from bot.ports import PointsLedger
from handlers.moderation.service import get_state
from tests.harness import Harness, texts
from tests.moderation.helpers import actions
from tests.web.helpers import dashboard, log_in


async def _setup(h: Harness) -> None:
    await h.say("demo", "bob", "hi")
    await h.say("demo", "max", "hello", role="moderator", name="Max")
    await h.say("demo", "mia", "hello", role="moderator")
    await h.say("other", "zoe", "hello", role="moderator")
    await h.say("other", "carl", "hello")


async def _id_of(client: object, name: str, group: int = 1) -> int:
    page = await client.get(f"/g/{group}/members?q={name}")  # type: ignore[attr-defined]
    found = re.search(rf'href="/g/{group}/members/(\d+)">{name}<', page.text)
    assert found, name
    return int(found.group(1))


async def test_warn_mute_and_points_from_the_member_page(db_url: str, tmp_path: Path) -> None:
    async with Harness(tmp_path, db_url=db_url) as h, dashboard(h) as client:
        await _setup(h)
        csrf = await log_in(h, client, "demo", "max")
        bob = await _id_of(client, "bob")
        h.adapter.take()
        warned = await client.post(f"/g/1/members/{bob}/warn", data={"csrf": csrf, "reason": "刷屏"})
        assert warned.status_code == 200 and "@bob 收到一次警告（1/5）" in warned.text
        assert 'data-key="warnings"' in warned.text
        # The group sees what it would after /warn.
        assert any("@bob 收到一次警告（1/5）" in r["text"] for r in actions(h.adapter.take(), "send"))
        muted = await client.post(f"/g/1/members/{bob}/mute", data={"csrf": csrf, "minutes": "10"})
        assert muted.status_code == 200 and "@bob 已被禁言 10 分钟" in muted.text
        assert [r["user"] for r in actions(h.adapter.take(), "mute")] == ["bob"]
        given = await client.post(
            f"/g/1/members/{bob}/points", data={"csrf": csrf, "delta": "+20", "reason": "帮忙"}
        )
        assert given.status_code == 200 and "已给 @bob 加 20 分，余额 20" in given.text
        assert "帮忙" in given.text  # the ledger line on the page
        assert any("20" in line for line in texts(await h.say("demo", "bob", "/points")))
        taken = await client.post(f"/g/1/members/{bob}/points", data={"csrf": csrf, "delta": "-5"})
        assert taken.status_code == 200 and "已扣 @bob 5 分，余额 15" in taken.text
        too_much = await client.post(f"/g/1/members/{bob}/points", data={"csrf": csrf, "delta": "-500"})
        assert too_much.status_code == 400 and "只有 15 分" in too_much.text
        rows = await get_state(h.services).repos.audit.log_rows(1, limit=50)
        done = {(r.actor, r.action) for r in rows}
        assert {("max", "warn"), ("max", "mute"), ("max", "points_adjust")} <= done
        # The audit log filtered to the lines about bob (the member page links there).
        about = await client.get("/g/1/audit?member=bob")
        assert about.status_code == 200 and "warn" in about.text and "mute" in about.text
        assert 'href="/g/1/audit?member=bob"' in (await client.get(f"/g/1/members/{bob}")).text
        nobody = await client.get("/g/1/audit?member=nobody")
        assert nobody.status_code == 200 and "<tbody>" not in nobody.text


async def test_member_actions_refuse_bad_input_and_the_wrong_targets(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h, dashboard(h) as client:
        await _setup(h)
        csrf = await log_in(h, client, "demo", "max")
        bob, max_, mia = [await _id_of(client, n) for n in ("bob", "Max", "mia")]
        for delta in ("abc", "0", "", "1" * 12, "+-3"):
            answer = await client.post(f"/g/1/members/{bob}/points", data={"csrf": csrf, "delta": delta})
            assert answer.status_code == 400 and 'role="alert"' in answer.text, delta
        assert (
            await client.post(f"/g/1/members/{bob}/mute", data={"csrf": csrf, "minutes": "0"})
        ).status_code == 400
        assert (
            await client.post(f"/g/1/members/{bob}/mute", data={"csrf": csrf, "minutes": "x"})
        ).status_code == 400
        me = await client.post(f"/g/1/members/{max_}/warn", data={"csrf": csrf})
        assert me.status_code == 400 and "不能对自己执行这个操作" in me.text
        other_mod = await client.post(f"/g/1/members/{mia}/mute", data={"csrf": csrf})
        assert other_mod.status_code == 400 and "不能对管理员执行这个操作" in other_mod.text
        # Another group's member, a garbled id or action: not there.
        async with dashboard(h) as zoe_client:
            await log_in(h, zoe_client, "other", "zoe")
            carl = await _id_of(zoe_client, "carl", group=2)
        assert (await client.post(f"/g/1/members/{carl}/warn", data={"csrf": csrf})).status_code == 404
        assert (await client.post(f"/g/1/members/{bob}/kick", data={"csrf": csrf})).status_code == 404
        assert (await client.post("/g/1/members/abc/warn", data={"csrf": csrf})).status_code == 404
        assert await get_state(h.services).repos.sanctions.active_warnings(bob, h.now) == []


async def test_member_actions_permission_matrix(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await _setup(h)
        async with dashboard(h) as moderator:
            csrf = await log_in(h, moderator, "demo", "max")
            bob = await _id_of(moderator, "bob")
            for action in ("warn", "mute", "points"):
                path = f"/g/1/members/{bob}/{action}"
                assert (await moderator.post(path, data={"delta": "5"})).status_code == 403
                assert (
                    await moderator.post(path, data={"csrf": csrf + "x", "delta": "5"})
                ).status_code == 403
        async with dashboard(h) as anonymous:
            for action in ("warn", "mute", "points"):
                assert (
                    await anonymous.post(f"/g/1/members/{bob}/{action}", data={"csrf": "x"})
                ).status_code == 401
        async with dashboard(h) as member:
            csrf = await log_in(h, member, "", "bob")
            for action in ("warn", "mute", "points"):
                answer = await member.post(f"/g/1/members/{bob}/{action}", data={"csrf": csrf, "delta": "5"})
                assert answer.status_code == 404
        async with dashboard(h) as stranger:
            csrf = await log_in(h, stranger, "other", "zoe")
            for action in ("warn", "mute", "points"):
                answer = await stranger.post(
                    f"/g/1/members/{bob}/{action}", data={"csrf": csrf, "delta": "5"}
                )
                assert answer.status_code == 404
        assert actions(h.adapter.take(), "mute") == []
        assert await get_state(h.services).repos.sanctions.active_warnings(bob, h.now) == []
        group = await h.services.groups.get(1)
        member = await h.services.members.get(bob)
        assert group is not None and member is not None
        assert await h.services.ports.get(PointsLedger).balance(group, member) == 0
