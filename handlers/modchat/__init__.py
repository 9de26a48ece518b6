"""Moderator chats linked with consent from both sides (``/modchat``).

A group's alerts, lists and moderator commands may live in a second chat only when an admin of
the group asked for it (a one-time code) and an admin of that chat, who also moderates the
group, accepted it there. ``docs/security.md`` states the rules and how they are tested.
"""

from __future__ import annotations

from bot.feature import Feature
from bot.ports import AuditTrail
from handlers.modchat.commands import router

FEATURE = Feature(
    name="modchat",
    router=router,
    requires=(AuditTrail,),
)
