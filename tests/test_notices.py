"""Never amplify (issue 15): public sanction notices are coalesced into one summary, the summary
follows the virtual clock, and notices wait while the bot is already loud in a group."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.notices import CAP_PER_MINUTE
from tests.harness import Harness

Record = dict[str, Any]


def public(records: list[Record]) -> list[Record]:
    return [r for r in records if r["action"] == "send" and r.get("chat") == "demo"]


async def _setup(h: Harness) -> None:
    await h.say("demo", "max", "/kw add red 内部词 custom", role="moderator")


async def test_a_burst_of_sanctions_is_one_notice_then_one_summary(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await _setup(h)
        first = await h.say("demo", "u0", "这是内部词")
        assert [r["text"] for r in public(first)] == ["⛔ @u0 的消息已被删除（违规内容），禁言 1 天。"]
        held: list[Record] = []
        for i in range(1, 6):
            held += await h.say("demo", f"u{i}", "这是内部词")
        assert len([r for r in held if r["action"] == "mute"]) == 5  # every sanction still happens
        assert public(held) == []
        assert public(await h.advance(3)) == []
        (summary,) = public(await h.advance(3))  # the window closes: one summary, by the clock
        assert summary["text"].startswith("⛔ 另有 5 位成员的消息因违规内容被删除并被禁言：")
        assert all(f"@u{i}" in summary["text"] for i in range(1, 6))
        # Quiet again later: the next sanction gets its own notice at once.
        later = await h.say("demo", "u9", "这是内部词")
        assert len(public(await h.advance(60) + later)) == 1


async def test_notices_wait_while_the_bot_is_loud_but_replies_do_not(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await _setup(h)
        for i in range(CAP_PER_MINUTE):
            await h.say("demo", f"p{i}", "/ping")
        hit = await h.say("demo", "u0", "这是内部词")
        assert [r for r in hit if r["action"] == "mute"] and public(hit) == []
        # A command reply still goes out at once, over the cap.
        assert len(public(await h.say("demo", "p0", "/ping"))) == 1
        assert public(await h.advance(30)) == []
        (summary,) = public(await h.advance(40))
        assert "@u0" in summary["text"]
