"""Bad input gets a clear answer, never a traceback; nothing half-written."""

from __future__ import annotations

import io
from pathlib import Path

from adapters.console.script import run_script
from bot.app import App
from bot.config import Settings
from bot.context import Context
from bot.feature import Feature
from bot.router import Router
from handlers import FEATURES
from tests.harness import Harness, texts


async def test_huge_and_strange_text_is_survived(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        for text in (
            "x" * 100_000,
            "/help " + "y" * 100_000,
            "\x00\x01\x02\x1b[31mred\x7f",
            "\u202egnp.exe\u202c",
            "👨‍👩‍👧‍👦🏳️‍🌈🇨🇳",
            "",
            "   ",
            "/",
            "！",
            '/set "unterminated',
        ):
            out = await h.say("demo", "mallory", text)
            assert out[0]["action"] == "seen"
            for record in texts(out):
                assert "Traceback" not in record
        long_unknown = texts(await h.say("demo", "mallory", "/" + "z" * 5000))[0]
        assert len(long_unknown) < 200  # the bad name is cut short, not echoed whole
        assert texts(await h.say("demo", "alice", "/ping")) == ["pong 🏓 我在。"]


async def test_unknown_users_and_chats_are_created_on_first_sight(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("never-seen-chat", "never-seen-user", "hello")
        group = await h.services.groups.find("console", "never-seen-chat")
        assert group is not None
        assert await h.services.members.find(group.id, "never-seen-user") is not None


async def test_handler_error_is_isolated(tmp_path: Path) -> None:
    router = Router("boom")

    @router.command("boom", where="any")
    async def boom(ctx: Context) -> None:
        await ctx.services.settings.set(ctx.group.id, "mod_chat", "x", None, ctx.now)  # type: ignore[union-attr]
        raise RuntimeError("kaboom")

    features = [*FEATURES, Feature(name="boom", router=router)]
    async with Harness(tmp_path, features=features) as h:
        assert texts(await h.say("demo", "alice", "/boom")) == [
            "抱歉，处理时出了点问题，已记录下来。请稍后再试。"
        ]
        assert texts(await h.say("demo", "alice", "/ping")) == ["pong 🏓 我在。"]
        assert h.app.dispatcher is not None and h.app.dispatcher.failures == 1


async def test_malformed_script_lines_give_error_records(tmp_path: Path) -> None:
    lines = [
        "{not json",
        "[1, 2]",
        '{"type": "teleport"}',
        '{"type": "message", "chat": "demo", "text": "no user"}',
        '{"type": "message", "chat": "demo", "user": "alice"}',
        '{"type": "advance"}',
        '{"type": "advance", "seconds": -5}',
        '{"type": "advance", "to": "yesterday"}',
        '{"type": "button", "chat": "demo", "user": "alice"}',
        "# a comment",
        "",
        '{"type": "message", "chat": "demo", "user": "alice", "text": "/ping"}',
    ]
    out = io.StringIO()
    code = await run_script(
        lines, settings=Settings(), start=None, db_path=tmp_path / "s.db", out=out, make_app=App
    )
    assert code == 0
    import json

    records = [json.loads(x) for x in out.getvalue().splitlines()]
    errors = [r for r in records if r["action"] == "error"]
    assert [e["line"] for e in errors] == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert (
        "not JSON" in errors[0]["error"]
        and "teleport" in errors[2]["error"]
        and "'user'" in errors[3]["error"]
    )
    assert records[-1]["action"] == "send" and records[-1]["text"] == "pong 🏓 我在。"
