"""Issue 25, item 2: one character the database cannot encode must not cost other data.

A lone surrogate (``"\\ud800"``, what JSON's escape decodes to) in a message text made the
stats flush fail; the batch was put back whole and failed again every second, so every later
statistic of the process was lost. In an event id it cost the flush's dedupe marks, so after a
restart an already handled message was handled again. Two depths are tested: the batch writer
isolates a refused item (events handed to the dispatcher raw, past any adapter), and the
adapters make such text encodable before the core sees it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.batcher import write_isolated
from bot.events import MessageEvent, Segment
from bot.text import clean, clean_event
from storage import is_transient
from storage.stats.tables import stats_hourly, stats_text
from tests.harness import Harness, sends

BAD = "bad \ud800 text"
CONTROL = False


def _raw_message(h: Harness, user: str, text: str, message_id: str) -> MessageEvent:
    """A message as a careless adapter would hand it over: nothing cleaned."""
    sender = h.adapter.user(user)
    h.adapter.members.setdefault("demo", set()).add(user)
    return MessageEvent(
        event_id=f"raw:{message_id}",
        at=h.now,
        chat=h.adapter.group_chat("demo"),
        sender=sender,
        message_id=message_id,
        text=text,
        segments=(Segment("text", text),),
    )


async def _submit(h: Harness, event: MessageEvent) -> list[dict[str, object]]:
    assert h.app.dispatcher is not None
    task = h.app.dispatcher.submit(event)
    if task is not None:
        await task
    await h.app.dispatcher.drain()
    return h.adapter.take()


async def _count(h: Harness, column: object, table: object) -> int:
    async with h.services.db.begin() as conn:
        return int((await conn.execute(select(column).select_from(table))).scalar_one())  # type: ignore[arg-type]


async def test_a_refused_text_costs_only_itself(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _submit(h, _raw_message(h, "alice", "hi", "p0"))
        await _submit(h, _raw_message(h, "alice", "bad" if CONTROL else BAD, "p1"))
        for i in range(20):
            await _submit(h, _raw_message(h, "bob", f"hello {i}", f"ok{i}"))
        await h.flush()
        await h.flush()  # a second flush must not find the refused item again
        await _submit(h, _raw_message(h, "bob", "later", "ok-later"))
        await h.flush()
        # Every message counted (the refused one only loses its retained text) ...
        assert await _count(h, func.coalesce(func.sum(stats_hourly.c.messages), 0), stats_hourly) == 21
        # ... and every other text kept.
        assert await _count(h, func.count(), stats_text) == (21 if CONTROL else 20)


async def test_a_refused_event_id_keeps_the_other_dedupe_marks(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        poisoned = dataclasses.replace(_raw_message(h, "alice", "/ping", "p1"), event_id="raw:\ud800")
        await _submit(h, poisoned)
        good = _raw_message(h, "bob", "/ping", "ok1")
        assert len(sends(await _submit(h, good))) == 1
        await h.restart()  # flushes at stop, loads the marks at start
        assert sends(await _submit(h, good)) == []  # redelivered after the restart: handled once


async def test_edge_restart_dedupe_one_reply(tmp_path: Path) -> None:
    """Through the console adapter: a lone surrogate in a message id, then a restart."""
    async with Harness(tmp_path) as h:
        out = await h.say("demo", "alice", "/ping", id="x\ud800")
        assert out[0]["id"] == "x\ufffd"
        assert len(sends(await h.say("demo", "bob", "/ping", id="m-ok"))) == 1
        await h.restart()
        assert sends(await h.say("demo", "bob", "/ping", id="m-ok")) == []
        assert sends(await h.say("demo", "alice", "/ping", id="x\ud800")) == []


async def test_edge_cleans_every_field_from_outside(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        out = await h.say("g\ud800", "u\udfff", "hi \ud800", name="N\ud800")
        assert out[0] == {
            "at": out[0]["at"],
            "action": "seen",
            "chat": "g\ufffd",
            "user": "u\ufffd",
            "id": "m1",
        }
        await h.flush()
        member = await h.services.members.find(1, "u\ufffd")
        assert member is not None and member.display_name == "N\ufffd"
        async with h.services.db.begin() as conn:
            texts = (await conn.execute(select(stats_text.c.text))).scalars().all()
        assert texts == ["hi \ufffd"]


def test_clean_replaces_lone_surrogates_only() -> None:
    assert clean("ok 你好 😀") == "ok 你好 😀"
    assert clean("a\ud800b\udc00") == "a\ufffdb\ufffd"
    event = MessageEvent("e\ud800", None, None, None, "m", "t\ud800", (Segment("text", "t\ud800"),))  # type: ignore[arg-type]
    cleaned = clean_event(event)
    assert (cleaned.event_id, cleaned.text, cleaned.segments[0].text) == ("e\ufffd", "t\ufffd", "t\ufffd")
    fine = dataclasses.replace(event, event_id="e", text="t", segments=())
    assert clean_event(fine) is fine


async def test_write_isolated_drops_the_bad_item_and_keeps_the_rest() -> None:
    written: list[int] = []
    calls = 0

    async def write(part: object) -> None:
        nonlocal calls
        calls += 1
        items = list(part)  # type: ignore[call-overload]
        if 13 in items or 77 in items:
            raise ValueError("refused")
        written.extend(items)

    assert await write_isolated("t", list(range(100)), write, size=40) == []
    assert sorted(written) == [i for i in range(100) if i not in (13, 77)]
    assert calls < 40  # found by halving, not one write per item


async def test_write_isolated_keeps_everything_left_when_the_database_is_away() -> None:
    written: list[int] = []

    async def write(part: object) -> None:
        items = list(part)  # type: ignore[call-overload]
        if 50 in items:
            raise OSError("connection refused")
        written.extend(items)

    left = await write_isolated("t", list(range(100)), write, size=40)
    assert written == list(range(40)) and left == list(range(40, 100))
    assert is_transient(OSError()) and not is_transient(UnicodeEncodeError("utf-8", "x", 0, 1, "no"))


@pytest.mark.parametrize("text", [BAD])
async def test_stats_flush_with_a_refused_text_is_not_retried_for_ever(tmp_path: Path, text: str) -> None:
    async with Harness(tmp_path) as h:
        await _submit(h, _raw_message(h, "alice", text, "p1"))
        await h.flush()
        assert not h.services.state["stats"].recorder.pending
