"""A raid read back after a crash: its newcomers since the last flush are held again.

The raid book is written once a second (``raid.flush``). A process that died within that second
had muted the newcomers who joined in it without writing them, so the raid's end would never
let them in (their mute lasts a week). Their join is in ``members`` (written as they joined), so
at start every newcomer who joined after the raid began and is not in its book is held again.
The raid and the joiner who started it are written at once (``raid.start``); members who joined
at its very instant and are not in its book joined before it (greeted one by one, never muted).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.events import UserRef
from handlers.antispam.raid import Joiner, book
from handlers.antispam.state import get_state

if TYPE_CHECKING:
    from bot.services import Services


async def rejoin(services: Services) -> int:
    """Hold again the newcomers the loaded raids miss; returns how many (written next flush)."""
    raids = book(services)
    repo = get_state(services).repos.raids
    found = 0
    for group_id, raid in raids.raids.items():
        group = await services.directory.group_by_id(group_id)
        if group is None:
            continue
        for member_id, user_id, name, is_bot in await repo.joined_after(group_id, raid.started_at):
            if is_bot or user_id in raid.joiners:
                continue
            raid.joiners[user_id] = Joiner(UserRef(group.platform, user_id, name), member_id)
            raids.touch(raid, user_id)
            found += 1
    return found
