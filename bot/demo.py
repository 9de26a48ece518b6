"""The console demo: a seeded group so a newcomer sees the bot at work at once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.services import Services

if TYPE_CHECKING:
    from storage.models import Member

DEMO_MEMBERS = (
    ("owner", "群主 Olivia", "owner"),
    ("mod", "管理员 Max", "moderator"),
    ("alice", "Alice", "member"),
    ("bob", "Bob", "member"),
    ("carol", "小红", "member"),
    ("dave", "大伟", "member"),
)


async def seed_demo(services: Services, adapter: Any, chat: str) -> None:
    """Create the demo group and members, then let every feature add its demo data."""
    group = await services.directory.group_for(adapter.group_chat(chat))
    members: list[Member] = []
    for user_id, name, role in DEMO_MEMBERS:
        user = adapter.user(user_id, name)
        adapter.members.setdefault(chat, set()).add(user_id)
        adapter.set_role(chat, user_id, role)
        members.append(await services.directory.member_for(group, user))
    for feature in services.features:
        if feature.demo is not None:
            await feature.demo(services, group, members)
