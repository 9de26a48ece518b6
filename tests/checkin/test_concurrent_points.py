"""Concurrent requests that spend or credit points, on both engines: every request gets its
proper answer (never "something went wrong"), nothing is logged as a traceback, and every
balance equals the sum of its ledger."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from handlers.checkin.state import state
from tests.harness import Harness, texts


async def _burst(h: Harness, lines: list[tuple[str, str]]) -> list[str]:
    """Send every line at once, wait until all are handled, and return the bot's texts."""
    await asyncio.gather(*(h.adapter.message("demo", user, text) for user, text in lines))
    assert h.app.dispatcher is not None
    await h.app.dispatcher.drain()
    return texts(h.adapter.take())


async def _ledger_adds_up(h: Harness) -> None:
    for _, _, bal, total in await state(h.services).repos.ledger.all_balances():
        assert bal == total and bal >= 0


def _no_tracebacks(caplog: pytest.LogCaptureFixture, replies: list[str]) -> None:
    assert not [r for r in caplog.records if r.exc_info], [
        r.getMessage() for r in caplog.records if r.exc_info
    ]
    assert not [r for r in replies if "出错" in r or "went wrong" in r], replies


async def test_hundred_concurrent_makeups_make_up_once(
    tmp_path: Path, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with Harness(tmp_path, db_url=db_url, clock="2026-04-01T09:00:00+08:00") as h:
        await h.say("demo", "alice", "签到")
        await h.say("demo", "max", "/points give @alice 500", role="moderator")
        await h.advance(2 * 86400)
        replies = await _burst(h, [("alice", "补签")] * 100)
        assert sum("已补签" in r for r in replies) == 1, replies
        assert sum("没有需要补签" in r for r in replies) == 99, replies
        _no_tracebacks(caplog, replies)
        await _ledger_adds_up(h)


async def test_concurrent_checkins_one_per_member_and_ranks_unique(
    tmp_path: Path, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with Harness(tmp_path, db_url=db_url) as h:
        users = [f"u{i}" for i in range(20)]
        for u in users:
            await h.say("demo", u, "hi")
        replies = await _burst(h, [(u, "签到") for u in users for _ in range(4)])
        ok = [r for r in replies if "签到成功" in r]
        assert len(ok) == 20 and sum("已经签过" in r for r in replies) == 60, replies
        assert sorted(int(r.split("今日第 ")[1].split(" ")[0]) for r in ok) == list(range(1, 21))
        _no_tracebacks(caplog, replies)
        await _ledger_adds_up(h)


async def test_concurrent_transfers_never_overspend(
    tmp_path: Path, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "alice", "hi")
        await h.say("demo", "bob", "hi")
        await h.say("demo", "max", "/points give @alice 30", role="moderator")
        await h.say("demo", "max", "/points give @bob 30", role="moderator")
        # Both ways at once (the classic deadlock shape) and more than alice can pay.
        lines = [("alice", "/give @bob 1")] * 50 + [("bob", "/give @alice 1")] * 10
        replies = await _burst(h, lines)
        sent = sum("转给" in r or "已转" in r for r in replies)
        refused = sum("余额不足" in r for r in replies)
        assert sent + refused == 60, replies
        _no_tracebacks(caplog, replies)
        await _ledger_adds_up(h)
        group = await h.services.directory.group_for(h.adapter.group_chat("demo"))
        ledger = state(h.services).repos.ledger
        total = 0
        for user in ("alice", "bob"):
            member = await h.services.members.find(group.id, user)
            assert member is not None
            total += (await ledger.balance(group.id, member.id))[0]
        assert total == 60  # points moved, none made or lost


async def test_concurrent_moderator_corrections_all_land(
    tmp_path: Path, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "bob", "hi")
        await h.say("demo", "max", "/points", role="moderator")
        lines = [("max", "/points give @bob 3")] * 40 + [("max", "/points take @bob 1")] * 20
        replies = await _burst(h, lines)
        assert sum("已给 @bob 加 3 分" in r for r in replies) == 40, replies
        taken = sum("已扣 @bob 1 分" in r for r in replies)
        assert taken + sum("只有" in r for r in replies) == 20, replies
        _no_tracebacks(caplog, replies)
        await _ledger_adds_up(h)
        group = await h.services.directory.group_for(h.adapter.group_chat("demo"))
        bob = await h.services.members.find(group.id, "bob")
        assert bob is not None
        assert (await state(h.services).repos.ledger.balance(group.id, bob.id))[0] == 120 - taken


async def test_concurrent_redeems_respect_stock(
    tmp_path: Path, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "max", "/shop add 贴纸 10 5", role="moderator")
        users = [f"u{i}" for i in range(10)]
        for u in users:
            await h.say("demo", u, "hi")
            await h.say("demo", "max", f"/points give @{u} 25")
        replies = await _burst(h, [(u, "/redeem 贴纸") for u in users for _ in range(3)])
        assert sum("兑换成功" in r for r in replies) == 5, replies
        _no_tracebacks(caplog, replies)
        await _ledger_adds_up(h)
        assert len(await state(h.services).repos.shop.redemptions(1, open_only=True)) == 5


async def test_concurrent_first_messages_pay_the_referral_once(
    tmp_path: Path, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "alice", "hi")
        await h.join("demo", "bob", invited_by="alice")
        replies = await _burst(h, [("bob", f"大家好 {i}") for i in range(30)])
        assert sum("邀请的 bob 来发言啦" in r for r in replies) == 1, replies
        _no_tracebacks(caplog, replies)
        group = await h.services.directory.group_for(h.adapter.group_chat("demo"))
        alice = await h.services.members.find(group.id, "alice")
        assert alice is not None
        assert (await state(h.services).repos.ledger.balance(group.id, alice.id))[0] == 20
        await _ledger_adds_up(h)


async def test_concurrent_attendance_and_topic_replies_credit_once_each(
    tmp_path: Path, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Points other features credit through the ledger (events, topics) under the same race."""
    caplog.set_level(logging.WARNING)
    async with Harness(tmp_path, db_url=db_url) as h:
        users = [f"u{i}" for i in range(8)]
        for u in users:
            await h.say("demo", u, "hi")
        await h.say("demo", "mod", "/event add 快闪 | 今天 10:00 | 1h", role="moderator")
        await h.advance(to="2026-03-02T10:05:00+08:00")
        replies = await _burst(h, [(u, "/here 1") for u in users for _ in range(3)])
        assert sum("+20 积分" in r for r in replies) == 8, replies
        topic = next(r for r in await h.say("demo", "mod", "/topic") if r["action"] == "send")["id"]
        lines = [(u, f"reply {n}") for u in users for n in range(4)]
        await asyncio.gather(*(h.adapter.message("demo", u, t, reply_to=topic) for u, t in lines))
        assert h.app.dispatcher is not None
        await h.app.dispatcher.drain()
        replies += texts(h.adapter.take())
        _no_tracebacks(caplog, replies)
        await _ledger_adds_up(h)
        group = await h.services.directory.group_for(h.adapter.group_chat("demo"))
        ledger = state(h.services).repos.ledger
        for u in users:
            member = await h.services.members.find(group.id, u)
            assert member is not None
            kinds = [row.kind for row in await ledger.history(group.id, member.id, 100)]
            assert kinds.count("event") == 1 and kinds.count("topic") == 3, (u, kinds)
