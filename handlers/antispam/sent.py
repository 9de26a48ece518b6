"""A posted message (a raid's notice, its alerts) to and from the JSON of the raid rows."""

from __future__ import annotations

from dataclasses import asdict

from bot.events import ChatRef, SentMessage


def sent_json(sent: SentMessage) -> dict[str, object]:
    """The message as stored."""
    return {"chat": asdict(sent.chat), "id": sent.message_id}


def sent_of(data: object) -> SentMessage | None:
    """The message stored as ``sent_json`` gave it; None for anything else."""
    if not isinstance(data, dict) or not isinstance(data.get("chat"), dict):
        return None
    try:
        return SentMessage(ChatRef(**data["chat"]), str(data["id"]))
    except (TypeError, KeyError):
        return None
