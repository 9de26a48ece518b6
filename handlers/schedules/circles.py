"""A scheduled post addressed to an interest circle: ``/schedule add daily 20:00 #徒步 周末报名``.

Circles belong to the circles feature and are reached only through its ``CircleMembers`` port
(optional: without it a ``#word`` is just text). When the post goes out, every ``#NAME`` in it
that names one of the group's circles is followed by the circle's members' mentions (not those who
muted its pings), the platform's share per message.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.mentions import first_only, mention_messages
from bot.planned_posts import send
from bot.ports import CircleMembers

if TYPE_CHECKING:
    from bot.events import ChatRef
    from bot.services import Services
    from storage.models import Group

#: ``#NAME``: a word after a hash (half- or full-width), as members tag circles.
_TAG = re.compile(r"[#＃]([\w-]{1,24})")


async def call_circles(services: Services, group: Group, chat: ChatRef, text: str) -> int:
    """Mention the members of each circle ``text`` tags, after the post; how many circles."""
    port = services.ports.find(CircleMembers)
    if port is None:
        return 0
    size = services.adapter_for(chat).max_mentions
    called = 0
    seen: set[str] = set()
    for word in _TAG.findall(text):
        audience = await port.audience(group, word)
        if audience is None or audience.name in seen or not audience.members:
            continue
        seen.add(audience.name)
        called += 1
        heading = services.i18n.t(group.language, "schedule.circle_call", name=audience.name)
        for message in mention_messages(audience.members, size, first_only(heading)):
            await send(services, chat, message, group.language)
    return called
