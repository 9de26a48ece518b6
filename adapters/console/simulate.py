"""``/simulate raid N`` in the interactive console: a synthetic raid a newcomer can watch.

N fresh accounts join the group and each posts two rounds of varied link and contact spam,
while two genuine newcomers join among them; everything goes through the adapter and the real
core, exactly like typed lines. ``/advance 10m`` afterwards shows the raid end by itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from adapters.console.adapter import ConsoleAdapter

#: The largest raid the console simulates (it prints every action).
MAX_RAID = 500

_SPAM = (
    "加群领福利 t.me/fuli{n} 免费送",
    "💰日赚{n}00 加V: fuli388 💰",
    "👉 t.me/fuli{n} 👈 速来",
    "兼职日结 {n}00 元，加微信 job{n}888",
)


async def simulate_raid(
    adapter: ConsoleAdapter, chat: str, size: int, drain: Callable[[], Awaitable[Any]]
) -> None:
    """Play a raid of ``size`` accounts into ``chat``; ``drain`` waits for the bot after each event."""

    async def run(task: Any) -> None:
        if task is not None:
            await task
        await drain()

    for i in range(size):
        await run(adapter.join(chat, f"raider{i}", name=f"福利{i}号"))
        if i == size // 3:
            await run(adapter.join(chat, "newbie_anna", name="Anna"))
        if i == 2 * size // 3:
            await run(adapter.join(chat, "newbie_ben", name="Ben"))
    for round_ in range(2):
        for i in range(size):
            text = _SPAM[(i + round_) % len(_SPAM)].format(n=(i % 7) + 1)
            await run(adapter.message(chat, f"raider{i}", text))
