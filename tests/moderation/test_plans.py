"""The red / yellow / blue action plans end to end: console adapter, real SQLite, virtual clock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.adapter import Capability
from bot.events import MessageEvent
from handlers.moderation.service import get_state
from tests.harness import Harness
from tests.moderation.helpers import actions, alert_of, sent_to

RED = "来玩百家乐吧"  # 百家乐: red / gambling in the starter lexicon
YELLOW = "get free money now"  # free money: yellow / scam
BLUE = "加我微信聊"  # 加我微信: blue / ads


async def _member(h: Harness, user: str) -> int:
    group = await h.services.groups.find("console", "demo")
    assert group is not None
    member = await h.services.members.find(group.id, user)
    assert member is not None
    return member.id


async def _log_actions(h: Harness) -> list[str]:
    group = await h.services.groups.find("console", "demo")
    assert group is not None
    rows = await get_state(h.services).repos.audit.log_rows(group.id, limit=200)
    return [r.action for r in reversed(rows)]


async def test_red_hit_full_plan(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "max", "早", role="moderator")
        out = await h.say("demo", "bob", RED)
        assert actions(out, "delete") == [
            {"at": out[0]["at"], "action": "delete", "chat": "demo", "message": out[0]["id"]}
        ]
        (mute,) = actions(out, "mute")
        assert mute["user"] == "bob" and mute["until"] == "2026-03-03T09:00:00+08:00"
        (public,) = sent_to(out, "demo")
        assert "@bob" in public and "赌博" in public and "百家乐" not in public
        alert = alert_of(out)
        assert "🔴" in alert["text"] and "@bob" in alert["text"] and "百家乐" in alert["text"]
        assert [b["data"] for b in alert["buttons"][0]] == ["mod:ack:1", "mod:undo:1", "mod:ban:1"]
        # the deleted message earns nothing further: the chain stopped (no reply from commands)
        assert len([r for r in out if r["action"] == "send"]) == 2
        assert await _credit(h, "bob") == 70
        assert await _log_actions(h) == ["hit", "mute", "red"]
        # not acknowledged within 15 minutes: a re-alert that mentions the moderators
        again = await h.advance(seconds=15 * 60)
        (realert,) = sent_to(again, "demo-mods")
        assert "15" in realert and "@max" in realert
        assert "escalated" in await _log_actions(h)


async def _credit(h: Harness, user: str) -> int:
    out = await h.say("demo", "max", f"/credit @{user}", role="moderator")
    text = sent_to(out, "demo")[0]
    return int(text.split("：")[1].split("（")[0])


async def test_acknowledged_red_alert_is_not_repeated_and_records_the_handler(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "max", "早", role="moderator")
        out = await h.say("demo", "bob", RED)
        alert = alert_of(out)
        await h.advance(seconds=120)
        pressed = await h.press("demo-mods", "max", alert["id"], "mod:ack:1")
        (edit,) = actions(pressed, "edit")
        assert edit["id"] == alert["id"] and "buttons" not in edit and "@max" in edit["text"]
        assert "已确认" in sent_to(pressed, "demo-mods")[0]
        assert sent_to(await h.advance(seconds=30 * 60), "demo-mods") == []
        row = await get_state(h.services).repos.alerts.alert(1)
        assert row is not None and row.status == "acked" and row.handled_by == "max"
        assert row.handled_at is not None and row.handled_at - row.created_at == timedelta(minutes=2)
        # a second press is answered, not applied twice
        twice = await h.press("demo-mods", "max", alert["id"], "mod:undo:1")
        assert "已经被处理过了" in sent_to(twice, "demo-mods")[0]


async def test_member_cannot_press_alert_buttons(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        alert = alert_of(await h.say("demo", "bob", RED))
        out = await h.press("demo-mods", "eve", alert["id"], "mod:undo:1")
        assert (
            sent_to(out, "demo-mods") == ["抱歉，只有管理员可以使用这个命令。"]
            or "管理员" in sent_to(out, "demo-mods")[0]
        )
        assert actions(out, "unmute") == []


async def test_undo_restores_everything_and_counts_a_false_positive(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "max", "/kw add red 测试词 ads", role="moderator")
        alert = alert_of(await h.say("demo", "bob", "这是测试词"))
        assert await _credit(h, "bob") == 70
        out = await h.press("demo-mods", "max", alert["id"], "mod:undo:1")
        assert [r["user"] for r in actions(out, "unmute")] == ["bob"]
        assert await _credit(h, "bob") == 100
        listed = await h.say("demo", "max", "/kw list", role="moderator")
        (listing,) = sent_to(listed, "demo-mods")
        assert "测试词" in listing and "误判 1" in listing and "命中 1" in listing
        # the lift job was cancelled with the undo: nothing happens when the mute would have ended
        assert actions(await h.advance(seconds=86400), "unmute") == []


async def test_ban_button(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        alert = alert_of(await h.say("demo", "bob", RED))
        h.adapter.set_role("demo", "max", "moderator")
        out = await h.press("demo-mods", "max", alert["id"], "mod:ban:1")
        (ban,) = actions(out, "ban")
        assert ban["user"] == "bob" and ban["until"] is None


async def test_red_action_ban_setting(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "max", "/set moderation.red_action ban", role="moderator")
        out = await h.say("demo", "bob", RED)
        assert actions(out, "mute") == [] and actions(out, "ban")[0]["until"] is None
        assert "封禁" in sent_to(out, "demo")[0]


async def test_yellow_hit_plan_and_batched_alerts(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        out = await h.say("demo", "dan", YELLOW)
        assert len(actions(out, "delete")) == 1 and actions(out, "mute") == []
        (public,) = sent_to(out, "demo")
        assert "@dan" in public and "诈骗" in public and "1/5" in public
        assert "free" not in public.lower() and "money" not in public.lower()
        first = sent_to(out, "demo-mods")
        assert len(first) == 1 and "#1" in first[0]
        assert await _credit(h, "dan") == 90
        # two more within the window: no alert message now, one combined message when it ends
        await h.advance(seconds=60)
        out2 = await h.say("demo", "erin", YELLOW)
        out3 = await h.say("demo", "fay", "FREE  MONEY!!")
        assert sent_to(out2, "demo-mods") == [] and sent_to(out3, "demo-mods") == []
        later = await h.advance(seconds=4 * 60)
        (batch,) = sent_to(later, "demo-mods")
        assert "（2 条）" in batch and "@erin" in batch and "@fay" in batch
        assert later[-1]["at"] == "2026-03-02T09:05:00+08:00"


async def test_blue_hit_is_silent_then_digest_at_21(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        out = await h.say("demo", "carl", BLUE)
        assert [r["action"] for r in out] == ["seen"]
        listed = await h.say("demo", "max", "/alerts", role="moderator")
        (listing,) = sent_to(listed, "demo-mods")
        assert "#1" in listing and "关注" in listing and "carl" in listing
        assert sent_to(listed, "demo") == ["已发送到管理员群。"]
        digest = await h.advance(to="2026-03-02T21:00:00+08:00")
        (text,) = sent_to(digest, "demo-mods")
        assert "关注级命中 1 次" in text and "广告" in text
        assert digest[-1]["at"] == "2026-03-02T21:00:00+08:00"


async def test_warning_ladder_and_expiry(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "bob", "hi")
        h.adapter.set_role("demo", "max", "moderator")
        for n in (1, 2):
            out = await h.say("demo", "max", "/warn @bob spamming")
            assert f"（{n}/5）" in sent_to(out, "demo")[0] and actions(out, "mute") == []
        out = await h.say("demo", "max", "/warn @bob")
        assert actions(out, "mute")[0]["until"] == "2026-03-02T10:00:00+08:00"
        out = await h.say("demo", "max", "/warn @bob")
        assert actions(out, "mute")[0]["until"] == "2026-03-03T09:00:00+08:00"
        out = await h.say("demo", "max", "/warn @bob")
        assert actions(out, "ban")[0]["until"] is None
        listed = await h.say("demo", "max", "/warns @bob")
        assert "5/5" in sent_to(listed, "demo")[0]
        out = await h.say("demo", "max", "/unwarn @bob")
        assert "还剩 4 次" in sent_to(out, "demo")[0]
        await h.advance(seconds=31 * 86400)
        listed = await h.say("demo", "max", "/warns @bob")
        assert "0/5" in sent_to(listed, "demo")[0]
        out = await h.say("demo", "max", "/warn @bob")
        assert "（1/5）" in sent_to(out, "demo")[0]


async def test_yellow_hits_feed_the_ladder(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        for _ in range(3):
            out = await h.say("demo", "dan", YELLOW)
            await h.advance(seconds=3600)
        assert actions(out, "mute")[0]["user"] == "dan"
        assert "有效警告已满 3 次" in sent_to(out, "demo")[0]


async def test_credit_recovers_one_point_per_clean_day(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "dan", YELLOW)
        assert await _credit(h, "dan") == 90
        await h.advance(seconds=86400)  # the day of the hit does not count; the next one is clean
        assert await _credit(h, "dan") == 90
        await h.advance(seconds=3 * 86400)
        assert await _credit(h, "dan") == 93
        out = await h.say("demo", "dan", "/credit")
        assert sent_to(out, "demo") == ["@dan 的信用分：93（优秀）"]


async def test_danger_credit_turns_yellow_into_red(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "max", "/set moderation.yellow_credit 35", role="moderator")
        await h.say("demo", "dan", YELLOW)
        await h.advance(seconds=3600)
        await h.say("demo", "dan", YELLOW)  # 100 → 65 → 30: danger
        await h.advance(seconds=3600)
        out = await h.say("demo", "dan", YELLOW)
        assert actions(out, "mute") and "🔴" in sent_to(out, "demo-mods")[0]


async def test_moderators_are_exempt_by_default(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        out = await h.say("demo", "max", RED, role="moderator")
        assert [r["action"] for r in out] == ["seen"]
        await h.say("demo", "max", "/set moderation.exempt_moderators off")
        out = await h.say("demo", "max", RED)
        assert actions(out, "delete") and actions(out, "mute")


async def test_reduced_capabilities_turn_steps_into_manual_actions(tmp_path: Path) -> None:
    caps = frozenset(c for c in Capability if c not in (Capability.DELETE, Capability.MUTE))
    async with Harness(tmp_path, capabilities=caps) as h:
        out = await h.say("demo", "bob", RED)
        assert actions(out, "delete") == [] and actions(out, "mute") == []
        alert = alert_of(out)["text"]
        assert "需要人工处理：删除消息（该平台不支持）" in alert
        assert "需要人工处理：禁言（该平台不支持）" in alert
        assert "管理员会进一步处理" in sent_to(out, "demo")[0]
        assert "mute_failed" in await _log_actions(h)


async def test_temporary_mute_is_lifted_after_a_restart(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "bob", "hi")
        out = await h.say("demo", "max", "/mute @bob 10m 刷广告", role="moderator")
        assert actions(out, "mute")[0]["until"] == "2026-03-02T09:10:00+08:00"
        await h.restart()
        lifted = await h.advance(seconds=11 * 60)
        assert [r["user"] for r in actions(lifted, "unmute")] == ["bob"]
        assert lifted[0]["at"] == "2026-03-02T09:10:00+08:00"


async def test_overdue_mute_is_lifted_right_after_start(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "bob", "hi")
        await h.say("demo", "max", "/mute @bob 10m", role="moderator")
        # the bot is down while the mute ends and for long after (beyond the scheduler's grace)
        await h.session.stop()
        h.session.clock.advance(timedelta(hours=3))
        await h.session.start()
        lifted = await h.advance(seconds=5)
        assert [r["user"] for r in actions(lifted, "unmute")] == ["bob"]


async def test_edited_message_is_rechecked(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        out = await h.say("demo", "bob", "hello", id="m9")
        assert [r["action"] for r in out] == ["seen"]
        # the platform delivers an edit of m9 that now carries a yellow term
        edit = MessageEvent(
            event_id="edit-m9",
            at=h.now,
            chat=h.adapter.group_chat("demo"),
            sender=h.adapter.user("bob"),
            message_id="m9",
            text=YELLOW,
            edited=True,
        )
        assert h.app.dispatcher is not None
        task = h.app.dispatcher.submit(edit)
        assert task is not None
        await task
        records = h.adapter.take()
        assert [r["message"] for r in actions(records, "delete")] == ["m9"]
        assert "@bob" in sent_to(records, "demo")[0]


async def test_the_main_flow_on_every_backend(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "max", "早", role="moderator")
        alert = alert_of(await h.say("demo", "bob", RED))
        batch = await h.say("demo", "dan", YELLOW)
        assert "#2" in sent_to(batch, "demo-mods")[0]
        await h.advance(seconds=300)
        undone = await h.press("demo-mods", "max", alert["id"], "mod:undo:1")
        assert actions(undone, "unmute")
        bad = await h.say("demo", "bob", "something odd")
        report = alert_of(await h.say("demo", "eve", "/report", reply_to=bad[0]["id"]))
        await h.advance(seconds=3600)
        await h.press("demo-mods", "max", report["id"], "mod:ack:3")
        stats = sent_to(await h.say("demo", "max", "/reports stats"), "demo")[0]
        assert "处理时长中位数 1 小时" in stats
        await h.restart()
        assert await _credit(h, "bob") == 100 and await _credit(h, "dan") == 90


async def test_the_moderator_chat_is_screened_by_its_own_rules(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "bob", "hi")  # the group exists, so demo-mods is its moderator chat
        # Being a moderator chat switches nothing off: a plain member there is screened...
        assert actions(await h.say("demo-mods", "eve", "来玩百家乐"), "mute")
        # ...while the chat's own moderators quote offending words freely (moderators are exempt).
        out = await h.say("demo-mods", "max", "bob 发的是“百家乐”广告，我来处理", role="moderator")
        assert [r["action"] for r in out] == ["seen"]


async def test_concurrent_first_messages_build_the_matcher_once(tmp_path: Path) -> None:
    import asyncio

    async with Harness(tmp_path) as h:
        state = get_state(h.services)
        before = state.builds
        tasks = [h.adapter.message("burst", f"u{i}", f"hello {i}") for i in range(5)]
        await asyncio.gather(*tasks)
        assert state.builds == before + 1


async def test_demo_seed_lets_every_level_be_tried(tmp_path: Path) -> None:
    from bot.demo import seed_demo

    async with Harness(tmp_path) as h:
        await seed_demo(h.services, h.adapter, "demo")
        assert actions(await h.say("demo", "bob", "来代刷流水吗"), "mute")
        (warning,) = sent_to(await h.say("demo", "carol", "spam link here"), "demo")
        assert "@小红" in warning and "spam" not in warning
        assert [r["action"] for r in await h.say("demo", "dave", "进团购群吗")] == ["seen"]
        assert [r["action"] for r in await h.say("demo", "alice", "江阴毛纺厂招工")] == ["seen"]
