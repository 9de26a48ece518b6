"""Rendering for OneBot: platform-free messages as OneBot segment arrays, cut to the bridge's
length limit (member text only ever in ``text`` segments, never parsed as CQ codes)."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

from adapters.onebot import cq
from bot.messages import Bold, Link, Mention, OutgoingMessage, Text


async def render(message: OutgoingMessage, limit: int) -> list[list[dict[str, Any]]]:
    """The message as one or more segment arrays; member text only ever in ``text`` segments."""
    pieces: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, Mention):
            pieces.append(cq.segment("at", qq=part.user.user_id))
        elif isinstance(part, Link):
            label = part.text if part.text == part.url else f"{part.text} ({part.url})"
            pieces.append(cq.segment("text", text=label))
        elif isinstance(part, Text | Bold):
            pieces.append(cq.segment("text", text=part.text))
    if message.buttons:
        # Buttons should have been degraded by the core; never lose the choices if not.
        lines: list[str] = []
        for row in message.buttons:
            for button in row:
                hint = f": {button.command}" if button.command else ""
                lines.append(f"{len(lines) + 1}. {button.text}{hint}")
        pieces.append(cq.segment("text", text="\n" + "\n".join(lines)))
    chunks = chunk(pieces, limit)
    if message.reply_to:
        chunks[0].insert(0, cq.segment("reply", id=message.reply_to))
    if message.image:
        chunks[-1].append(cq.segment("image", file=await image_file(message.image)))
    return chunks


def chunk(pieces: list[dict[str, Any]], limit: int) -> list[list[dict[str, Any]]]:
    """Group segments into messages of at most ``limit`` characters of text each.

    A text is cut at the last line break that fits (the break itself is dropped), and only cut
    mid-line when a single line is longer than a whole message.
    """
    chunks: list[list[dict[str, Any]]] = [[]]
    size = 0
    for piece in pieces:
        if piece["type"] != "text":
            chunks[-1].append(piece)
            continue
        text = piece["data"]["text"]
        while text:
            room = limit - size
            if len(text) <= room:
                chunks[-1].append(cq.segment("text", text=text))
                size += len(text)
                break
            cut = text.rfind("\n", 0, room + 1)
            if cut > 0:
                head, text = text[:cut], text[cut + 1 :]
            elif size > 0:
                chunks.append([])  # no break fits after what is already here: start afresh
                size = 0
                continue
            else:
                head, text = text[:room], text[room:]
            chunks[-1].append(cq.segment("text", text=head))
            chunks.append([])
            size = 0
    return [c for c in chunks if c] or [[cq.segment("text", text="")]]


async def image_file(image: str) -> str:
    """A ``file`` value the bridge can load: URLs pass through, local files go as base64."""
    if image.startswith(("http://", "https://", "base64://", "file://")):
        return image
    data = await asyncio.to_thread(Path(image).read_bytes)
    return "base64://" + base64.b64encode(data).decode("ascii")
