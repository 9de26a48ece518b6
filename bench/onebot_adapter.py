"""``python -m bot bench onebot``: how fast frames are read and actions round-trip on loopback.

Figures: frames parsed per second (CQ string and segment array), inbound frames per second from
a bridge over a real loopback WebSocket to the sink, and ``send_group_msg`` round trips per
second (frame out, response matched by echo). The outbound queue's rate limits are off here:
they are policy, and would only measure the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import time
from datetime import UTC, datetime
from typing import Any

from websockets.asyncio.client import connect

from adapters.onebot.adapter import OneBotAdapter
from adapters.onebot.config import OneBotConfig
from adapters.onebot.protocol import group_chat, parse_frame
from bot.events import PlatformEvent, UserRef
from bot.host import CommandInfo
from bot.messages import Mention, OutgoingMessage
from bot.outbound import OutboundQueue

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _frame(i: int, message: Any) -> dict[str, Any]:
    return {
        "time": 1_772_413_200 + i, "self_id": 10000, "post_type": "message", "message_type": "group",
        "sub_type": "normal", "message_id": i, "group_id": 123456, "user_id": 20000 + i % 50,
        "message": message, "raw_message": "", "font": 0,
        "sender": {"user_id": 20000 + i % 50, "nickname": "member", "card": "", "role": "member"},
    }  # fmt: skip


def _parse_rate(message: Any, count: int) -> float:
    frames = [json.dumps(_frame(i, message)) for i in range(count)]
    start = time.perf_counter()
    for raw in frames:
        parse_frame(json.loads(raw), adapter="qq", self_id="10000", now=NOW)
    return count / (time.perf_counter() - start)


class _CountingSink:
    def __init__(self, target: int) -> None:
        self.count = 0
        self.target = target
        self.done = asyncio.Event()

    def submit(self, event: PlatformEvent) -> None:
        self.count += 1
        if self.count >= self.target:
            self.done.set()

    def translate(self, lang: str, key: str, /, **values: Any) -> str:
        """No catalogs needed to count events."""
        return key

    def commands(self) -> list[CommandInfo]:
        """No command table: the adapter registers no commands."""
        return []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _wire(count: int) -> tuple[float, float]:
    port = _free_port()
    adapter = OneBotAdapter(
        "bench", OneBotConfig(type="onebot", listen=f"127.0.0.1:{port}"), "", queue=OutboundQueue()
    )
    sink = _CountingSink(count)
    await adapter.start(sink)
    headers = {"X-Self-ID": "10000", "X-Client-Role": "Universal"}
    try:
        async with connect(f"ws://127.0.0.1:{port}/onebot/v11/ws", additional_headers=headers) as ws:

            async def answer() -> None:
                async for raw in ws:
                    frame = json.loads(raw)
                    reply = {"status": "ok", "retcode": 0, "data": {"message_id": 1}, "echo": frame["echo"]}
                    await ws.send(json.dumps(reply))

            answering = asyncio.create_task(answer())
            await adapter.wait_connected(5)
            frames = [json.dumps(_frame(i, "签到 [CQ:face,id=14]")) for i in range(count)]
            start = time.perf_counter()
            for raw in frames:
                await ws.send(raw)
            await asyncio.wait_for(sink.done.wait(), 60)
            inbound = count / (time.perf_counter() - start)

            chat = group_chat("bench", "123456")
            message = OutgoingMessage.of(
                "签到成功，", Mention(UserRef("onebot", "20001", "member")), " 连续 3 天"
            )
            sends = max(1, count // 5)
            start = time.perf_counter()
            for _ in range(sends):
                await adapter.send(chat, message)
            outbound = sends / (time.perf_counter() - start)
            answering.cancel()
    finally:
        await adapter.stop()
    return inbound, outbound


async def run(argv: list[str]) -> dict[str, float]:
    """Run the OneBot benchmarks, print a table and return the figures."""
    parser = argparse.ArgumentParser(prog="bench onebot")
    parser.add_argument("--count", type=int, default=20_000, help="frames per measurement")
    args = parser.parse_args(argv)
    array = [
        {"type": "at", "data": {"qq": "10000"}},
        {"type": "text", "data": {"text": " 签到"}},
        {"type": "face", "data": {"id": "14"}},
    ]
    figures = {
        "onebot.parse_cq_frames_per_s": _parse_rate("[CQ:at,qq=10000] 签到 &#91;ok&#93;", args.count),
        "onebot.parse_array_frames_per_s": _parse_rate(array, args.count),
    }
    inbound, outbound = await _wire(args.count)
    figures["onebot.inbound_ws_frames_per_s"] = inbound
    figures["onebot.send_round_trips_per_s"] = outbound
    print(f"{'figure':<36} {'value':>12}")
    for key, value in figures.items():
        print(f"{key:<36} {value:>12,.0f}")
    return figures


if __name__ == "__main__":
    asyncio.run(run([]))
