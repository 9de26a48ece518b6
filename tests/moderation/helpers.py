"""Small helpers for the moderation feature tests."""

from __future__ import annotations

from typing import Any

Record = dict[str, Any]


def actions(records: list[Record], kind: str) -> list[Record]:
    """Records of one action kind."""
    return [r for r in records if r["action"] == kind]


def sent_to(records: list[Record], chat: str) -> list[str]:
    """Texts the bot posted in ``chat``."""
    return [r["text"] for r in records if r["action"] == "send" and r.get("chat") == chat]


def alert_of(records: list[Record], chat: str = "demo-mods") -> Record:
    """The one alert message posted in the moderator chat."""
    found = [r for r in records if r["action"] == "send" and r.get("chat") == chat]
    assert len(found) == 1, found
    return found[0]
