"""Newcomer probation through the console harness, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.harness import Harness, texts

Record = dict[str, Any]


def of(records: list[Record], action: str) -> list[Record]:
    """Records of one action."""
    return [r for r in records if r["action"] == action]


def public(records: list[Record], chat: str = "demo") -> list[str]:
    """Texts posted in a group chat."""
    return [r["text"] for r in of(records, "send") if r.get("chat") == chat]


async def _setup(h: Harness) -> None:
    await h.say("demo", "max", "hello", role="moderator")


async def test_newcomer_link_is_deleted_quietly_then_muted_with_one_alert(
    tmp_path: Path, db_url: str
) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h)
        await h.join("demo", "newbie")
        clean = await h.say("demo", "newbie", "大家好，我是新来的")
        assert of(clean, "delete") == []
        first = await h.say("demo", "newbie", "加群领福利 t.me/fuli3 免费送")
        assert [r["message"] for r in of(first, "delete")] == [first[0]["id"]]
        assert public(first) == [] and public(first, "demo-mods") == []  # nothing in public, no alert yet
        private = [r for r in of(first, "send") if r.get("user") == "newbie"]
        assert len(private) == 1 and "链接" in private[0]["text"]
        second = await h.say("demo", "newbie", "see fuli3.com")
        assert of(second, "delete") and of(second, "mute")
        assert public(second) == []
        alerts = public(second, "demo-mods")
        assert len(alerts) == 1 and "newbie" in alerts[0]
        third = await h.say("demo", "newbie", "again example.com")
        assert of(third, "delete") and public(third, "demo-mods") == []  # still one alert


async def test_each_probation_rule(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h)
        await h.say("demo", "reg1", "hi")
        await h.say("demo", "reg2", "hi")
        await h.say("demo", "reg3", "hi")
        await h.say("demo", "reg4", "hi")
        await h.say("demo", "max", "/set antispam.mute_after 100", role="moderator")
        bad = [
            "https://example.com/x",
            "www.example.org",
            "加V: fuli388",
            "加微信 abcdefg",
            "discord.gg/abcdef",
            "🎉🎉🎉🎉🎉🎉 party",
            "@reg1 @reg2 @reg3 @reg4 look",
        ]
        await h.join("demo", "newbie")
        for text in bad:
            out = await h.say("demo", "newbie", text)
            assert of(out, "delete"), text
        fine = ["version 2.0 is 1.5x faster", "我们加班到很晚", "🎉 hi", "@reg1 thanks", "mail a@b.com"]
        for text in fine:
            out = await h.say("demo", "newbie", text)
            assert of(out, "delete") == [], text


async def test_probation_ends_after_messages_and_a_day_whichever_later(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h)
        await h.join("demo", "newbie")
        for i in range(3):
            await h.say("demo", "newbie", f"plain message {i}")
        # Three clean messages, but the first day is not over: still on probation.
        assert of(await h.say("demo", "newbie", "example.com"), "delete")
        await h.advance(24 * 3600)
        assert of(await h.say("demo", "newbie", "example.com"), "delete") == []


async def test_probation_lasts_a_day_even_without_messages_then_needs_the_messages(
    tmp_path: Path, db_url: str
) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h)
        await h.join("demo", "newbie")
        await h.advance(25 * 3600)
        # The day is over but no clean message yet: the first three still count.
        assert of(await h.say("demo", "newbie", "example.com"), "delete")


async def test_members_the_bot_never_saw_join_are_not_on_probation_unless_asked(
    tmp_path: Path, db_url: str
) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h)
        assert of(await h.say("demo", "old", "see example.com"), "delete") == []
        await h.say("demo", "max", "/set antispam.probation_unseen on", role="moderator")
        assert of(await h.say("demo", "other", "see example.com"), "delete")


async def test_approve_is_remembered_across_a_rejoin_and_a_restart(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h)
        await h.join("demo", "newbie")
        await h.say("demo", "newbie", "example.com")
        await h.say("demo", "newbie", "example.com")  # muted
        out = await h.say("demo", "max", "/approve @newbie", role="moderator")
        assert of(out, "unmute") and texts(out) == ["已放行 newbie：在本群不再受新成员限制。"]
        again = await h.say("demo", "max", "/approve @newbie", role="moderator")
        assert texts(again) == ["newbie 在本群已经放行过了。"]
        await h.restart()
        await h.leave("demo", "newbie")
        await h.join("demo", "newbie")
        assert of(await h.say("demo", "newbie", "example.com"), "delete") == []


async def test_approve_bad_input_and_permissions(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h)
        out = await h.say("demo", "max", "/approve", role="moderator")
        assert texts(out)[0].startswith("用法：")
        out = await h.say("demo", "max", "/approve @nobody", role="moderator")
        assert len(texts(out)) == 1 and "nobody" in texts(out)[0]
        await h.say("demo", "bob", "hi")
        out = await h.say("demo", "bob", "/approve @bob")
        assert len(texts(out)) == 1  # refused with an answer, not silence
        out = await h.say("demo", "max", "/approve @a @b", role="moderator")
        # Declared arguments are converted first: the unknown @a is named, then the usage line.
        assert len(texts(out)) == 1 and "用法：" in texts(out)[0]


async def test_training_mode_only_logs_and_alerts(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h)
        await h.say("demo", "max", "/set antispam.training on", role="moderator")
        await h.join("demo", "newbie")
        out = await h.say("demo", "newbie", "example.com")
        assert of(out, "delete") == [] and of(out, "mute") == []
        assert len(public(out, "demo-mods")) == 1
        log = await h.say("demo", "max", "/modlog", role="moderator")
        assert any("probation-training" in t for t in texts(log))


async def test_moderators_are_never_on_probation(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.join("demo", "helper")
        out = await h.say("demo", "helper", "rules at example.com/rules", role="moderator")
        assert of(out, "delete") == []


async def test_english_private_explanation(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _setup(h)
        await h.say("demo", "max", "/set language en", role="moderator")
        await h.join("demo", "newbie")
        out = await h.say("demo", "newbie", "example.com")
        private = [r["text"] for r in of(out, "send") if r.get("user") == "newbie"]
        assert private and private[0].startswith("Your message in demo was removed")


async def test_no_private_channel_means_a_silent_delete(tmp_path: Path, db_url: str) -> None:
    from bot.adapter import ALL_CAPABILITIES, Capability

    caps = ALL_CAPABILITIES - {Capability.PRIVATE}
    async with Harness(tmp_path, db_url=db_url, capabilities=caps) as h:
        await _setup(h)
        await h.join("demo", "newbie")
        out = await h.say("demo", "newbie", "example.com")
        assert of(out, "delete") and public(out) == []
