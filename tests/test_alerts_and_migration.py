"""Moderator alerts reach the right place; a chat-id change carries the group's data along."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.adapter import Capability
from bot.context import Context
from bot.events import ChatMigrated, ChatRef
from bot.feature import Feature
from bot.messages import OutgoingMessage
from bot.router import Router
from handlers import FEATURES
from tests.harness import Harness, sends, texts
from tests.modchat_helpers import link_mod_chat


def _alerting() -> list[Feature]:
    router = Router("alerting")

    @router.command("alertme")
    async def alertme(ctx: Context) -> None:
        assert ctx.group is not None and ctx.services.alerts is not None
        await ctx.services.alerts.notify(ctx.group, OutgoingMessage.of("manual action needed"))

    return [*FEATURES, Feature(name="alerting", router=router)]


async def test_alert_goes_to_the_console_moderator_chat_by_default(tmp_path: Path) -> None:
    async with Harness(tmp_path, features=_alerting()) as h:
        out = sends(await h.say("demo", "alice", "/alertme"))
        assert [(r.get("chat"), r["text"]) for r in out] == [("demo-mods", "manual action needed")]


async def test_alert_goes_to_the_linked_moderator_chat(tmp_path: Path) -> None:
    async with Harness(tmp_path, features=_alerting()) as h:
        await link_mod_chat(h, "demo", "staff-room", "max")
        out = sends(await h.say("demo", "alice", "/alertme"))
        assert [(r.get("chat"), r["text"]) for r in out] == [("staff-room", "manual action needed")]


async def test_alert_goes_privately_to_moderators_then_to_the_group(tmp_path: Path) -> None:
    async with Harness(tmp_path, features=_alerting()) as h:
        h.adapter.default_moderator_chat = lambda chat: None  # type: ignore[method-assign]
        await h.say("demo", "bob", "hi")
        # nobody known as moderator yet: the alert lands in the group itself
        out = sends(await h.say("demo", "alice", "/alertme"))
        assert [(r.get("chat"), r.get("user")) for r in out] == [("demo", None)]
        await h.say("demo", "olga", "/promote @bob moderator", role="owner")
        out = sends(await h.say("demo", "alice", "/alertme"))
        assert [(r.get("chat"), r.get("user")) for r in out] == [(None, "bob"), (None, "olga")]
    caps = frozenset(c for c in Capability if c is not Capability.PRIVATE)
    async with Harness(tmp_path / "b", features=_alerting(), capabilities=caps) as h:
        h.adapter.default_moderator_chat = lambda chat: None  # type: ignore[method-assign]
        await h.say("demo", "bob", "hi")
        await h.say("demo", "olga", "/promote @bob moderator", role="owner")
        out = sends(await h.say("demo", "alice", "/alertme"))
        assert [(r.get("chat"), r["text"]) for r in out] == [("demo", "manual action needed")]


async def test_chat_migration_moves_the_group(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("-100", "olga", "/lang en", role="owner")
        old = h.adapter.group_chat("-100")
        event = ChatMigrated(
            event_id="migrate-1",
            at=datetime(2026, 3, 2, 1, 0, tzinfo=UTC),
            chat=old,
            new_scope_id="-200",
            new_channel_id="-200",
        )
        assert h.app.dispatcher is not None
        task = h.app.dispatcher.submit(event)
        assert task is not None
        await task
        group = await h.services.groups.find("console", "-200")
        assert group is not None and group.language == "en"
        assert await h.services.groups.find("console", "-100") is None
        assert texts(await h.say("-200", "alice", "/ping")) == ["pong 🏓 I'm here."]
        assert isinstance(old, ChatRef)


async def test_bot_removed_marks_the_group_inactive_and_added_back_active(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "alice", "hi")
        await h.leave("demo", "qunyou")  # the bot's own account leaves
        group = await h.services.groups.find("console", "demo")
        assert group is not None and group.active is False
        member_rows = [m.user_id for m in await h.services.members.in_group(group.id)]
        assert "qunyou" not in member_rows  # the bot is not recorded as a member
        await h.join("demo", "qunyou")
        group = await h.services.groups.find("console", "demo")
        assert group is not None and group.active is True


async def test_a_chat_that_no_longer_exists_is_marked_inactive(tmp_path: Path) -> None:
    from bot.errors import TargetNotFound

    async with Harness(tmp_path) as h:
        await h.say("demo", "alice", "hi")
        real_send = h.adapter.send

        async def gone(chat: ChatRef, message: OutgoingMessage) -> object:
            raise TargetNotFound("chat not found")

        h.adapter.send = gone  # type: ignore[method-assign,assignment]
        group = await h.services.groups.find("console", "demo")
        assert group is not None
        try:
            await h.services.send(h.services.directory.chat_for(group), OutgoingMessage.of("scheduled post"))
        except TargetNotFound:
            pass
        else:
            raise AssertionError("the error must still reach the caller")
        h.adapter.send = real_send  # type: ignore[method-assign]
        group = await h.services.groups.find("console", "demo")
        assert group is not None and group.active is False
