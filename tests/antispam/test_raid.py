"""Raid mode through the console harness, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from tests.antispam.test_probation import of, public
from tests.harness import Harness, texts

SPAM = "加群领福利 t.me/fuli3 免费送 {i}"


async def _raid(h: Harness, joins: int = 12) -> list[dict]:
    await h.say("demo", "max", "hi", role="moderator")
    await h.say("demo", "reg", "hello everyone")
    out: list[dict] = []
    for i in range(joins):
        out += await h.join("demo", f"r{i}")
    return out


async def test_a_join_surge_starts_one_raid_with_one_notice_and_one_alert(
    tmp_path: Path, db_url: str
) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        out = await _raid(h, joins=15)
        notices = [t for t in public(out) if t.startswith("🛡")]
        assert len(notices) == 1
        # Two joins are greeted one by one; from the third in a minute they wait for one welcome.
        assert len([t for t in public(out) if t.startswith("欢迎")]) == 2
        assert {r["user"] for r in of(out, "mute")} == {f"r{i}" for i in range(9, 15)}
        alerts = [r for r in of(out, "send") if r.get("chat") == "demo-mods"]
        assert len(alerts) == 1 and len(alerts[0]["buttons"]) == 3
        spam: list[dict] = []
        for i in range(15):
            spam += await h.say("demo", f"r{i}", SPAM.format(i=i))
        assert len(of(spam, "ban")) == 15 and public(spam) == []
        assert [r for r in of(spam, "send") if r.get("chat") == "demo-mods"] == []  # edits only
        assert of(spam, "edit")
        regular = await h.say("demo", "reg", "what is going on?")
        assert of(regular, "delete") == []
        end = await h.advance(11 * 60)
        # Everyone of the wave was banned: the end notice, and no welcome for anyone.
        assert public(end) == ["✅ 防护模式已结束，共移除 15 个账号。感谢大家耐心等待！"]
        assert of(end, "edit") and "15" in of(end, "edit")[-1]["text"]


async def test_genuine_newcomers_get_one_combined_welcome_after_the_raid(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _raid(h, joins=10)
        await h.join("demo", "alice")
        await h.join("demo", "bob")
        out = await h.advance(11 * 60)
        welcomes = [t for t in public(out) if t.startswith("👋")]
        assert len(welcomes) == 1 and "@alice" in welcomes[0] and "@bob" in welcomes[0]
        assert {"alice", "bob"} <= {r["user"] for r in of(out, "unmute")}


async def test_a_burst_below_a_raid_gets_one_combined_welcome(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "max", "/set language en", role="moderator")
        out = await _raid(h, joins=6)
        assert len([t for t in public(out) if t.startswith("Welcome to demo")]) == 2
        assert of(out, "mute") == [] and not any(t.startswith("🛡") for t in public(out))
        later = await h.advance(61)
        welcomes = public(later)
        assert len(welcomes) == 1 and welcomes[0].startswith("👋 Welcome to everyone")
        assert all(f"@r{i}" in welcomes[0] for i in range(2, 6)) and "@r1" not in welcomes[0]


async def test_quiet_period_restarts_with_each_surge(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _raid(h, joins=10)
        await h.advance(8 * 60)
        await h.join("demo", "late")
        assert [t for t in public(await h.advance(5 * 60)) if t.startswith("✅")] == []
        assert [t for t in public(await h.advance(6 * 60)) if t.startswith("✅")] != []


async def test_raid_command_on_off_and_duration(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "max", "hi", role="moderator")
        out = await h.say("demo", "max", "/raid", role="moderator")
        assert texts(out) == ["防护模式未开启。"]
        out = await h.say("demo", "max", "/raid on", role="moderator")
        assert len([t for t in public(out) if t.startswith("🛡")]) == 1
        out = await h.say("demo", "max", "/raid on", role="moderator")
        assert texts(out) == ["防护模式已经开启。"]
        joined = await h.join("demo", "newbie")
        assert of(joined, "mute") and public(joined) == []  # no welcome during a raid
        out = await h.say("demo", "max", "/raid off", role="moderator")
        assert any(t.startswith("✅") for t in public(out))
        out = await h.say("demo", "max", "/raid on 5m", role="moderator")
        assert any(t.startswith("🛡") for t in public(out))
        assert any(t.startswith("✅") for t in public(await h.advance(5 * 60)))
        out = await h.say("demo", "max", "/raid sideways", role="moderator")
        assert texts(out)[0].startswith("用法：")
        out = await h.say("demo", "bob", "/raid on")
        assert not any(t.startswith("🛡") for t in public(out))


async def test_alert_buttons_and_forged_or_stale_presses(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        out = await _raid(h, joins=12)
        alert = next(r for r in of(out, "send") if r.get("chat") == "demo-mods")
        ban, release, end = (row[0]["data"] for row in alert["buttons"])
        # A member (not a moderator) presses: nothing happens.
        assert of(await h.press("demo-mods", "reg", alert["id"], ban), "ban") == []
        # A forged press under another message does nothing either.
        assert of(await h.press("demo-mods", "max", "b1", ban), "ban") == []
        banned = await h.press("demo-mods", "max", alert["id"], ban)
        assert {r["user"] for r in of(banned, "ban")} == {"r9", "r10", "r11"}
        await h.join("demo", "alice")
        await h.join("demo", "bob")
        # "Release the genuine" shows the tick list first: nobody is let in yet.
        listed = await h.press("demo-mods", "max", alert["id"], release)
        assert of(listed, "unmute") == []
        (tick_list,) = of(listed, "edit")
        names = [b["text"] for row in tick_list["buttons"][:-1] for b in row]
        assert names == ["☐ alice", "☐ bob"]
        alice = tick_list["buttons"][0][0]["data"]
        assert of(await h.press("demo-mods", "reg", alert["id"], alice), "unmute") == []  # not a moderator
        released = await h.press("demo-mods", "max", alert["id"], alice)
        assert [r["user"] for r in of(released, "unmute")] == ["alice"]
        assert [b["text"] for b in of(released, "edit")[-1]["buttons"][0]] == ["☐ bob"]
        assert of(await h.press("demo-mods", "max", alert["id"], alice), "unmute") == []  # stale tick
        forged = alice.rsplit(":", 1)[0] + ":m999999"
        assert of(await h.press("demo-mods", "max", alert["id"], forged), "unmute") == []
        back = alice.rsplit(":", 1)[0] + ":back"
        summary = of(await h.press("demo-mods", "max", alert["id"], back), "edit")[-1]
        assert len(summary["buttons"]) == 3
        everyone = await h.press("demo-mods", "max", alert["id"], release)
        release_all = of(everyone, "edit")[-1]["buttons"][-1][0]["data"]
        assert [
            r["user"] for r in of(await h.press("demo-mods", "max", alert["id"], release_all), "unmute")
        ] == ["bob"]
        ended = await h.press("demo-mods", "max", alert["id"], end)
        assert any(t.startswith("✅") for t in public(ended))
        # The raid is over: its buttons are stale now.
        assert of(await h.press("demo-mods", "max", alert["id"], ban), "ban") == []


async def test_purge_deletes_recent_messages_and_bans(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "max", "hi", role="moderator")
        first = await h.say("demo", "troll", "one")
        await h.advance(49 * 3600)
        second = await h.say("demo", "troll", "two")
        third = await h.say("demo", "troll", "three")
        out = await h.say("demo", "max", "/purge @troll", role="moderator")
        assert {r["message"] for r in of(out, "delete")} == {second[0]["id"], third[0]["id"]}
        assert first[0]["id"] not in {r["message"] for r in of(out, "delete")}  # older than 48 h
        assert [r["user"] for r in of(out, "ban")] == ["troll"]
        assert texts(out) == ["已删除 troll 的 2 条消息并封禁。"]
        out = await h.say("demo", "max", "/purge @max", role="moderator")
        assert texts(out) == ["/purge 不能用于自己或管理员。"] and of(out, "ban") == []
        out = await h.say("demo", "max", "/purge", role="moderator")
        assert texts(out)[0].startswith("用法：")


async def test_simulate_raid_plays_through_the_real_core(tmp_path: Path) -> None:
    from adapters.console.simulate import simulate_raid

    async with Harness(tmp_path) as h:
        await h.say("demo", "owner", "hi", role="owner")
        assert h.app.dispatcher is not None
        await simulate_raid(h.adapter, "demo", 30, h.app.dispatcher.drain)
        out = h.adapter.take()
        assert len([t for t in public(out) if t.startswith("🛡")]) == 1
        assert {r["user"] for r in of(out, "ban")} == {f"raider{i}" for i in range(30)}
        end = await h.advance(11 * 60)
        welcome = [t for t in public(end) if t.startswith("👋")]
        assert len(welcome) == 1 and "@Anna" in welcome[0] and "@Ben" in welcome[0]


async def test_a_raid_survives_a_restart(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        out = await _raid(h, joins=12)
        notice = next(r for r in of(out, "send") if r.get("chat") == "demo" and r.get("buttons"))
        alert = next(r for r in of(out, "send") if r.get("chat") == "demo-mods")
        for i in range(10, 12):
            await h.say("demo", f"r{i}", SPAM.format(i=i))
        await h.join("demo", "alice")
        await h.restart()
        status = await h.say("demo", "max", "/raid", role="moderator")
        assert texts(status) == ["防护模式开启中，已移除 2 个账号。/raid off 可结束。"]
        # The standing challenge and the alert's buttons still work after the restart.
        raid = h.services.state["antispam.raids"].raids[1]
        assert raid.challenge is not None
        right = notice["buttons"][0][raid.challenge[1]]["data"]
        assert [r["user"] for r in of(await h.press("demo", "alice", notice["id"], right), "unmute")] == [
            "alice"
        ]
        ban = alert["buttons"][0][0]["data"]
        banned = await h.press("demo-mods", "max", alert["id"], ban)
        assert {r["user"] for r in of(banned, "ban")} == {"r9"}
        end = await h.advance(11 * 60)
        assert public(end)[0] == "✅ 防护模式已结束，共移除 3 个账号。感谢大家耐心等待！"
        welcomes = [t for t in public(end) if t.startswith("👋")]
        assert len(welcomes) == 1 and "@alice" in welcomes[0] and "@r9" not in welcomes[0]
        # Ended for good: another restart brings nothing back.
        await h.restart()
        assert texts(await h.say("demo", "max", "/raid", role="moderator")) == ["防护模式未开启。"]


async def test_badge_announcements_wait_during_a_raid(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "max", "hi", role="moderator")
        await h.say("demo", "max", "/raid on", role="moderator")
        await h.say("demo", "carol", "大家好，今天天气真好")
        held = await h.advance(5)
        assert not any("徽章" in t for t in public(held))
        await h.say("demo", "max", "/raid off", role="moderator")
        await h.say("demo", "dave", "大家好，今天天气真好")
        shown = await h.advance(5)
        assert any("徽章" in t and "dave" in t for t in public(shown))
