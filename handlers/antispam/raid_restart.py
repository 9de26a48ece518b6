"""A raid read back after a crash: its newcomers since the last flush are held again.

The raid book is written once a second (``raid.flush``). A process that died within that second
had muted the newcomers who joined in it without writing them, so the raid's end would never
let them in (their mute lasts a week). Their join is in ``members`` (written as they joined), so
at start every newcomer who joined since the raid began and is not in its book is held again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.events import UserRef
from handlers.antispam.raid import Joiner, book

if TYPE_CHECKING:
    from bot.services import Services


async def rejoin(services: Services) -> int:
    """Hold again the newcomers the loaded raids miss; returns how many (written next flush)."""
    raids = book(services)
    found = 0
    for group_id, raid in raids.raids.items():
        group = await services.directory.group_by_id(group_id)
        if group is None:
            continue
        for member in await services.members.joined_since(group_id, raid.started_at):
            if member.is_bot or member.user_id in raid.joiners:
                continue
            user = UserRef(group.platform, member.user_id, member.display_name)
            raid.joiners[member.user_id] = Joiner(user, member.id)
            raids.touch(raid, member.user_id)
            found += 1
    return found
