"""A one-time code taken by two uses at the same instant is given to exactly one of them.

At the repository, on both engines: twenty takes of one code race on separate connections. On
PostgreSQL a read-then-delete gave the same code to several (both tests failed before the take
became one ``DELETE … RETURNING``), which for ``/modchat link`` meant one code linking twice.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from storage.community import CodeRepo
from storage.community.communities import Code
from storage.database import Database
from storage.modchat import ModChatRepo
from storage.schema import groups

NOW = datetime.fromisoformat("2026-03-02T09:00:00+08:00")


async def test_a_community_code_races_to_one_taker(database: Database) -> None:
    codes = CodeRepo(database)
    await codes.put(Code("LRACE2345", "link", 0, "telegram", "bob", None, NOW + timedelta(minutes=10)))
    taken = await asyncio.gather(*(codes.take("LRACE2345", "link", NOW) for _ in range(20)))
    assert sum(t is not None for t in taken) == 1


async def test_a_moderator_chat_code_races_to_one_taker(database: Database) -> None:
    async with database.begin() as conn:
        result = await conn.execute(
            groups.insert().values(
                platform="console",
                adapter="console",
                scope_id="g",
                title="g",
                language="zh-CN",
                timezone="Asia/Shanghai",
                active=True,
                created_at=NOW,
            )
        )
        group_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    links = ModChatRepo(database)
    await links.put_code(group_id, "MRACE2345", "admin", NOW + timedelta(minutes=10))
    taken = await asyncio.gather(*(links.take_code("MRACE2345", NOW) for _ in range(20)))
    assert sum(t is not None for t in taken) == 1
