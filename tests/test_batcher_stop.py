"""Stopping the batcher while a periodic flush is writing must not lose what that flush took."""

from __future__ import annotations

import asyncio

from bot.batcher import Batcher


async def test_stop_during_a_flush_keeps_the_taken_data() -> None:
    pending = [1, 2, 3]
    written: list[int] = []
    writing = asyncio.Event()

    async def flush() -> None:
        nonlocal pending
        taken, pending = pending, []
        if taken:
            writing.set()
            await asyncio.sleep(0.05)  # a database write in progress
            written.extend(taken)

    batcher = Batcher(interval=0.001)
    batcher.register("counts", flush)
    batcher.start()
    await writing.wait()
    await batcher.stop()
    assert written == [1, 2, 3]
