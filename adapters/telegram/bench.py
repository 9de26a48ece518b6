"""``python -m bot bench telegram``: the adapter's share of the per-message hot path.

Measures parsing a Telegram update into a core event (what every group message costs before the
dispatcher sees it) and rendering an outgoing message to Telegram HTML, including a long one that
must be split. No network: the update dicts are built here.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

from telegram import Update

from adapters.telegram.normalize import BotIdentity, update_events
from adapters.telegram.render import render_chunks
from bot.events import UserRef
from bot.messages import Bold, Mention, OutgoingMessage, Text

_ME = BotIdentity(999, "QunyouBot")


def _update(i: int) -> dict[str, object]:
    text = f"今天天气不错 @QunyouBot 第{i}条 message with some english words"
    return {
        "update_id": 10_000 + i,
        "message": {
            "message_id": i,
            "date": 1_772_413_200,
            "chat": {"id": -1001234567890, "type": "supergroup", "title": "bench"},
            "from": {"id": 100 + i % 500, "is_bot": False, "first_name": f"m{i % 500}", "username": f"u{i}"},
            "text": text,
            "entities": [{"type": "mention", "offset": 7, "length": 10}],
        },
    }


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


async def run(argv: list[str]) -> dict[str, float]:
    """Run the Telegram benchmarks, print a table and return the figures."""
    parser = argparse.ArgumentParser(prog="bench telegram")
    parser.add_argument("--updates", type=int, default=20_000)
    args = parser.parse_args(argv)
    n = args.updates
    payloads = [_update(i) for i in range(n)]
    clock_now = Update.de_json(payloads[0], None).message.date  # type: ignore[union-attr]

    # PTB's own parsing (the Updater does this for every update) and ours are timed apart.
    start = time.perf_counter()
    updates = [Update.de_json(dict(payload), None) for payload in payloads]
    dejson_s = time.perf_counter() - start
    start = time.perf_counter()
    for update in updates:
        update_events("tg", update, _ME, clock_now)
    parse_s = time.perf_counter() - start
    del updates

    tracemalloc.start()
    kept = [update_events("tg", Update.de_json(dict(p), None), _ME, clock_now) for p in payloads[:1000]]
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del kept

    alice = UserRef("telegram", "101", "Alice <a>", username=None)
    reply = OutgoingMessage.of("签到成功！", Bold("+10"), " ", Mention(alice), " 连续 3 天 & <streak>")
    start = time.perf_counter()
    for _ in range(n):
        render_chunks(reply.parts)
    render_s = time.perf_counter() - start

    long_text = "\n".join(f"{i:03d}. " + "排行榜成员 & <积分>" * 8 for i in range(400))  # ~41,000 characters
    rounds = max(1, n // 200)
    start = time.perf_counter()
    for _ in range(rounds):
        chunks = render_chunks((Text(long_text),))
    split_s = time.perf_counter() - start

    figures = {
        "telegram.ptb_dejson_us_per_update": dejson_s / n * 1e6,
        "telegram.normalize_us_per_update": parse_s / n * 1e6,
        "telegram.normalize_per_s": _rate(n, parse_s),
        "telegram.event_bytes": held / 1000,
        "telegram.render_per_s": _rate(n, render_s),
        "telegram.split_40k_ms": split_s / rounds * 1e3,
        "telegram.split_40k_chunks": float(len(chunks)),
    }
    width = max(len(k) for k in figures)
    print(f"{'telegram adapter':<{width}}  value")
    for key, value in figures.items():
        print(f"{key:<{width}}  {value:,.1f}")
    return figures
