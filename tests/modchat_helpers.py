"""Linking a moderator chat through the real /modchat flow, for tests."""

from __future__ import annotations

import re

from tests.harness import Harness, texts

CODE = re.compile(r"/modchat link ([A-Z0-9]{8})")


async def ask_code(h: Harness, group: str, admin: str) -> str:
    """``admin`` (made owner of ``group``) asks for a link code; returns it."""
    asked = texts(await h.say(group, admin, "/modchat link", role="owner"))
    match = CODE.search(asked[0])
    assert match, asked
    return match.group(1)


async def link_mod_chat(h: Harness, group: str, chat: str, admin: str) -> list[str]:
    """``admin`` (owner of ``group``, admin of ``chat``) links ``chat`` as ``group``'s moderator
    chat; returns the texts the acceptance produced."""
    code = await ask_code(h, group, admin)
    return texts(await h.say(chat, admin, f"/modchat link {code}", role="admin"))
