"""Points, transfers, ranks, badges, the shop, referrals and activity points through the console."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.data_rights import export_member, forget_member
from handlers.checkin import award, bump_counter
from handlers.checkin.state import state
from tests.harness import Harness, sends, texts


async def ids(h: Harness, user: str, chat: str = "demo") -> tuple[int, int]:
    group = await h.services.directory.group_for(h.adapter.group_chat(chat))
    member = await h.services.members.find(group.id, user)
    assert member is not None
    return group.id, member.id


async def balance(h: Harness, user: str) -> int:
    return (await state(h.services).repos.ledger.balance(*(await ids(h, user))))[0]


async def ledger_rows(h: Harness) -> int:
    repo = state(h.services).repos
    count = 0
    for gid, mid, _, _ in await repo.ledger.all_balances():
        count += len(await repo.ledger.history(gid, mid, 10_000))
    return count


async def ledger_adds_up(h: Harness) -> None:
    for _, _, bal, total in await state(h.services).repos.ledger.all_balances():
        assert bal == total and bal >= 0


async def setup_members(h: Harness) -> None:
    await h.say("demo", "alice", "签到")
    await h.say("demo", "bob", "hi")
    await h.say("demo", "max", "/points give @alice 100 welcome", role="moderator")


async def test_points_shows_balance_and_last_five(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await setup_members(h)
        out = texts(await h.say("demo", "alice", "积分"))[0]
        lines = out.split("\n")
        assert lines[0] == "💰 alice 的积分：余额 115，累计获得 115"
        assert lines[1] == "  03-02 09:00  +100  管理员调整 (welcome)"
        assert len(lines) == 4


async def test_moderator_give_take_history_and_level_up(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "bob", "hi")
        out = texts(await h.say("demo", "max", "/points give @bob 60 helpful", role="moderator"))
        assert out == ["已给 @bob 加 60 分，余额 60。", "🎉 恭喜 @bob\n升到了 Lv.1！"]
        assert texts(await h.say("demo", "max", "/points take @bob 10")) == ["已扣 @bob 10 分，余额 50。"]
        assert texts(await h.say("demo", "max", "/points take @bob 51")) == ["bob 只有 50 分，扣不了这么多。"]
        bot_reply = texts(await h.say("demo", "max", "/points give @qunyou 5"))[0]
        assert bot_reply.startswith("机器人没有积分。\n用法：/points")
        for bad in ("/points give @bob", "/points give @bob ten", "/points take @bob 0", "/points give"):
            assert texts(await h.say("demo", "max", bad))[0].split("\n")[-1].startswith("用法：/points"), bad
        hist = texts(await h.say("demo", "max", "/points history @bob"))[0]
        assert "-10" in hist and "+60" in hist
        assert await balance(h, "bob") == 50


async def test_member_cannot_use_moderator_subcommands(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await setup_members(h)
        rows = await ledger_rows(h)
        denied = "抱歉，这个命令只有管理员可以使用。"
        for cmd in (
            "/points give @bob 5",
            "/points take @alice 5",
            "/points give @qunyou 5",
            "/points history @alice",
            "/badge grant @bob streak_7",
            "/shop add 贴纸 10 5",
            "/redemptions",
        ):
            assert texts(await h.say("demo", "bob", cmd)) == [denied], cmd
        assert await ledger_rows(h) == rows


async def test_transfer_and_its_refusals(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await setup_members(h)
        await h.say("demo", "bob2", "hi", name="Robert")
        await h.say("demo", "bob3", "hi", name="Robert")
        rows = await ledger_rows(h)
        usage = "用法：/give @成员 数量 — 把积分转给别人（转账）"
        bad_amount = "积分数量要是 1 到 1000000 之间的整数。\n" + usage
        cases = {
            "/give": usage,
            "/give @bob": usage,
            "/give @bob -5": bad_amount,
            "/give @bob 0": bad_amount,
            "/give @bob abc": bad_amount,
            "/give @bob 1000001": bad_amount,
            "/give @bob " + "9" * 100_000: bad_amount,
            "/give @alice 5": "不能给自己转账哦。\n" + usage,
            "/give @qunyou 5": "不能给机器人转账。\n" + usage,
            "/give Robert 5": "“Robert” 对应 2 位成员，请直接 @ 对方。\n" + usage,
            "/give @nobody 5": "群里找不到 “nobody”。请 @ 对方，或回复对方的消息。\n" + usage,
            "转账 @bob 500": "余额不足：你有 115 分，想转 500 分。",
        }
        for cmd, reply in cases.items():
            assert texts(await h.say("demo", "alice", cmd)) == [reply], cmd[:40]
        assert await ledger_rows(h) == rows  # nothing written by any refusal
        assert texts(await h.say("demo", "alice", "转账 @bob 100")) == [
            "💸 已转给 @bob 100 分，你的余额 15。"
        ]
        await h.say("demo", "max", "/points give @alice 500")
        assert texts(await h.say("demo", "alice", "/give @bob 101")) == [
            "每天最多转出 200 分，今天还能转 100 分。"
        ]
        # A reply to bob's message names him too.
        seen = await h.say("demo", "bob", "thanks!")
        out = texts(await h.say("demo", "alice", "/give 100", reply_to=seen[0]["id"]))
        assert out == ["💸 已转给 @bob 100 分，你的余额 415。"]
        assert await balance(h, "bob") == 200
        # bob's received points are not "earned": the leaderboard ignores them.
        board = texts(await h.say("demo", "bob", "排行榜"))[0]
        assert "bob" not in board.split("\n")[1]
        await ledger_adds_up(h)


async def test_rank_periods_ties_and_bad_period(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "alice", "签到")  # 15, first
        await h.say("demo", "bob", "签到")  # 13
        await h.say("demo", "carol", "签到")  # 11
        await h.say("demo", "max", "/points give @carol 2", role="moderator")  # 13, after bob
        out = texts(await h.say("demo", "dave", "/rank"))[0]
        assert out.split("\n") == [
            "🏆 积分排行榜 · 本周",
            "🥇 alice  15 分",
            "🥈 bob  13 分",
            "🥉 carol  13 分",
            "你这段时间还没有获得积分。",
        ]
        await h.advance(7 * 86400)
        assert "这段时间还没有人获得积分" in texts(await h.say("demo", "bob", "/rank week"))[0]
        assert "🥇 alice  15 分" in texts(await h.say("demo", "bob", "/rank all"))[0]
        assert "你的排名：第 2 名（13 分）" in texts(await h.say("demo", "bob", "排行榜 月"))[0]
        assert texts(await h.say("demo", "bob", "/rank yearly")) == [
            "用法：/rank [week|month|all] [社区] — 积分排行榜（周|月|总）"
        ]


async def test_badges_listed_awarded_once_granted_and_revoked(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "alice", "hello everyone")
        await h.flush()
        first = texts(h.adapter.take())
        assert first == ["🎉 恭喜 @alice\n获得徽章 👋 初来乍到"]
        for i in range(5):
            await h.say("demo", "alice", f"another message {i}")
            await h.flush()
        assert texts(h.adapter.take()) == []  # awarded exactly once
        listing = texts(await h.say("demo", "alice", "徽章"))[0]
        assert listing.startswith("🏅 徽章 1/7")
        assert "👋 初来乍到 · 2026-03-02 获得" in listing
        assert "🔒 💬 话痨 · 发言数 6/1000" in listing
        out = texts(await h.say("demo", "max", "/badge grant @alice 话痨", role="moderator"))
        assert out == ["已授予 @alice 徽章 💬 话痨。"]
        assert texts(await h.say("demo", "max", "/badge grant @alice chatterbox")) == [
            "@alice 已经有徽章 💬 话痨 了。"
        ]
        assert texts(await h.say("demo", "max", "/badge revoke @alice chatterbox")) == [
            "已收回 @alice 的徽章 💬 话痨。"
        ]
        granted = texts(await h.say("demo", "max", "/badge grant @alice Seven-Day Pact"))
        assert granted == ["已授予 @alice 徽章 📅 七日之约。"]
        bad = texts(await h.say("demo", "max", "/badge grant @alice nosuch"))[0]
        assert bad.startswith("没有这个徽章。可用的有：first_message, streak_7")
        assert texts(await h.say("demo", "max", "/badge give @alice streak_7"))[0].startswith("用法：")


async def test_award_and_bump_counter_api_for_other_features(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "carol", "hi")
        _gid, mid = await ids(h, "carol")
        member = await h.services.members.get(mid)
        assert member is not None
        for _ in range(4):
            assert await bump_counter(h.services, member, "events_attended") == ()
        posting = await award(h.services, member, 5, "event", "attended", counters={"events_attended": 1})
        assert posting.new_badges == ("event_goer",)
        assert posting.balance == 5
        announced = texts(h.adapter.take())
        assert announced == ["🎉 恭喜 @carol\n获得徽章 🎉 活动达人"]
        clamped = await award(h.services, member, -50, "moderation", "spam", clamp=True)
        assert clamped.balance == 0
        with pytest.raises(ValueError, match="nonsense"):
            await award(h.services, member, 1, "event", counters={"nonsense": 1})
        with pytest.raises(ValueError, match="ledger kind"):
            await award(h.services, member, 1, "Event Bonus!")
        long_reason = await award(h.services, member, 1, "event", "x" * 5000)
        assert long_reason.balance == 1
        await ledger_adds_up(h)


async def test_shop_redeem_and_moderator_fulfilment(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await setup_members(h)
        assert texts(await h.say("demo", "alice", "商城")) == ["商城里还没有商品。"]
        out = texts(await h.say("demo", "max", "/shop add 定制头衔 50 1 1"))
        assert out == ["🛒 已上架 #1 定制头衔：50 分，库存 1。"]
        await h.say("demo", "max", "/shop add 表情包 10 100")
        usage = "用法：/shop — 积分商城（商城）；管理：/shop add 名称 价格 库存 [限购]、/shop del 商品"
        dup = texts(await h.say("demo", "max", "/shop add 表情包 10 100"))
        assert dup == ["已经有叫「表情包」的商品了。\n" + usage]
        assert "积分数量要是" in texts(await h.say("demo", "max", "/shop add 贵的 -1 5"))[0]
        assert "数量要是" in texts(await h.say("demo", "max", "/shop add 贵的 5 很多"))[0]
        listing = texts(await h.say("demo", "alice", "/shop"))[0]
        assert (
            "#2 表情包 · 10 分 · 库存 100" in listing
            and "#1 定制头衔 · 50 分 · 库存 1 · 每人限 1 件" in listing
        )
        rows = await ledger_rows(h)
        assert texts(await h.say("demo", "alice", "兑换 飞机")) == [
            "没有找到商品「飞机」。发送 /shop 看看有什么。\n用法：/redeem 商品编号或名称 — 用积分兑换商品（兑换）"
        ]
        assert texts(await h.say("demo", "bob", "/redeem 1")) == ["「定制头衔」需要 50 分，你只有 0 分。"]
        assert await ledger_rows(h) == rows
        out = await h.say("demo", "alice", "兑换 定制头衔")
        replies = sends(out)
        assert (
            replies[0]["text"]
            == "🎁 兑换成功：定制头衔，花费 50 分，余额 65。兑换单号 #1，管理员会尽快发放。"
        )
        alert = [r for r in replies if r["chat"] != "demo"]
        assert alert and "@alice 兑换了「定制头衔」" in alert[0]["text"]
        assert texts(await h.say("demo", "alice", "/redeem 1")) == ["「定制头衔」已经兑完了。"]
        await h.say("demo", "max", "/shop add 贴纸 5 10 1")
        await h.say("demo", "alice", "/redeem 贴纸")
        assert texts(await h.say("demo", "alice", "/redeem 贴纸")) == [
            "「贴纸」每人限兑 1 件，你已经兑过了。"
        ]
        open_list = texts(await h.say("demo", "max", "/redemptions open"))[0]
        assert "#1 定制头衔 · alice" in open_list and "待发放" in open_list
        assert texts(await h.say("demo", "max", "/redemptions done 1")) == [
            "✅ 兑换单 #1（定制头衔）已标记为已发放。"
        ]
        assert "没有待发放的兑换单 #1" in texts(await h.say("demo", "max", "/redemptions done 1"))[0]
        assert "#1" not in texts(await h.say("demo", "max", "/redemptions open"))[0].split("\n", 1)[1]
        assert texts(await h.say("demo", "max", "/shop del 贴纸")) == ["已下架「贴纸」。"]
        assert "贴纸" not in texts(await h.say("demo", "alice", "/shop"))[0]
        await ledger_adds_up(h)


async def test_referral_paid_on_first_message_and_clawed_back(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "alice", "hi")
        await h.join("demo", "bob", invited_by="alice")
        assert await balance(h, "alice") == 0
        out = texts(await h.say("demo", "bob", "大家好"))
        assert out[0] == "🤝 @alice 邀请的 bob 来发言啦，奖励 20 分！"
        assert await balance(h, "alice") == 20
        await h.say("demo", "bob", "again")
        assert await balance(h, "alice") == 20  # once only
        await h.advance(3 * 86400)
        await h.leave("demo", "bob")
        assert await balance(h, "alice") == 0
        # Another invitee who stays past the window keeps the reward.
        await h.join("demo", "carol", invited_by="alice")
        await h.restart()  # the pending referral survives a restart
        await h.say("demo", "carol", "hello")
        await h.advance(8 * 86400)
        await h.leave("demo", "carol")
        assert await balance(h, "alice") == 20
        await ledger_adds_up(h)


async def test_activity_points_rules_and_durability(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "alice", "hello everyone")  # +1
        await h.say("demo", "alice", "something else")  # within 60 s of the last point
        await h.advance(61)
        await h.say("demo", "alice", "!!!   ...  hi")  # too short once folded
        await h.say("demo", "alice", "/points")  # a command earns nothing
        await h.say("demo", "alice", "/frobnicate with plenty of words")  # nor does an unknown one
        await h.say("demo", "alice", "new words here")  # +1
        await h.advance(61)
        await h.say("demo", "alice", "New  words, HERE!")  # the same message once folded
        await h.say("demo", "alice", "fresh content")  # +1
        await h.flush()
        assert await balance(h, "alice") == 3
        for i in range(30):
            await h.advance(61)
            await h.say("demo", "alice", f"message number {i}")
        # Not flushed yet: a restart (clean stop) must persist it.
        await h.restart()
        assert await balance(h, "alice") == 20  # daily cap
        garbled = "\x00\u200b" * 50_000 + "𝕳𝖊𝖑𝖑𝖔" * 1000
        await h.advance(86400)
        assert texts(await h.say("demo", "alice", garbled)) == []
        await h.flush()
        assert await balance(h, "alice") == 20  # only a bounded prefix is read: all invisible
        await h.advance(61)
        assert texts(await h.say("demo", "alice", "𝕳𝖊𝖑𝖑𝖔 𝖜𝖔𝖗𝖑𝖉")) == []  # NFKC: "hello world"
        await h.flush()
        assert await balance(h, "alice") == 21
        await ledger_adds_up(h)


async def test_member_data_export_and_forget(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "alice", "签到")
        gid, mid = await ids(h, "alice")
        member = await h.services.members.get(mid)
        assert member is not None
        data = (await export_member(h.services, member))["stored"]
        assert [(r["balance"], r["earned"]) for r in data["points_balances"]] == [(15, 15)]
        await forget_member(h.services, member)
        assert "points_ledger" not in (await export_member(h.services, member))["stored"]
        assert await state(h.services).repos.ledger.balance(gid, mid) == (0, 0)


async def test_demo_seeds_history_that_adds_up(tmp_path: Path, db_url: str) -> None:
    from bot.demo import seed_demo

    async with Harness(tmp_path, db_url=db_url) as h:
        await seed_demo(h.services, h.adapter, "demo")
        assert h.adapter.take() == []  # seeding is silent
        me = texts(await h.say("demo", "alice", "我的"))[0]
        assert "连续签到" in me and "积分余额 0" not in me
        shop = texts(await h.say("demo", "alice", "商城"))[0]
        assert "群主签名照" in shop
        board = texts(await h.say("demo", "alice", "/rank all"))[0]
        assert board.count("分") >= 6
        await ledger_adds_up(h)


async def test_mydata_and_forgetme_through_the_core_commands(tmp_path: Path, db_url: str) -> None:
    import json

    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "alice", "签到")
        out = await h.say("demo", "alice", "/mydata")
        private = next(r for r in out if r["action"] == "send" and r.get("user") == "alice")
        body = json.loads(private["text"].split("\n", 1)[1])
        mine = body["groups"][0]["stored"]
        assert [(r["balance"], r["earned"]) for r in mine["points_balances"]] == [(15, 15)]
        assert [row["kind"] for row in mine["points_ledger"]] == ["checkin", "rank_bonus"]
        confirm = sends(await h.say("demo", "alice", "/forgetme"))[0]
        await h.press("demo", "alice", confirm["id"], confirm["buttons"][0][0]["data"])
        assert await h.services.members.find(1, "alice") is None  # who she was is gone
        # Today's claim went with the data: she starts afresh, as a new member.
        assert "签到成功" in texts(await h.say("demo", "alice", "签到"))[0]
        assert await balance(h, "alice") == 15
        await ledger_adds_up(h)


async def test_one_flush_gives_one_announcement_and_it_can_be_turned_off(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "alice", "hello everyone")
        await h.say("demo", "bob", "hi there all")
        await h.flush()
        assert texts(h.adapter.take()) == [
            "🎉 恭喜：\n@alice 获得徽章 👋 初来乍到\n@bob 获得徽章 👋 初来乍到"
        ]
        await h.say("demo", "max", "/set checkin.announce_badges off", role="moderator")
        await h.say("demo", "carol", "good morning")
        await h.flush()
        assert texts(h.adapter.take()) == []
        assert "👋 初来乍到 · 2026-03-02 获得" in texts(await h.say("demo", "carol", "/badges"))[0]
