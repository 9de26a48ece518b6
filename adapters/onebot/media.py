"""Pictures members sent through a OneBot bridge: which message carried which, and their bytes.

OneBot's ``reply`` segment gives only the id of the message replied to, so the adapter keeps
the picture of each recent message (as it keeps their authors) to tell what a moderator's
reply points at. The bytes come from the segment's ``url`` (QQ's picture server, as NapCat,
LLOneBot and go-cqhttp give it), downloaded here with at most ``limit + 1`` bytes read.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict

import aiohttp

from bot.errors import TransportError
from bot.events import MessageEvent

#: How many recent messages' pictures are remembered (a reply further back names none).
RECENT_IMAGES = 2_000
_TIMEOUT = aiohttp.ClientTimeout(total=30)


class RecentImages:
    """Message id → the picture it carried, for the last ``RECENT_IMAGES`` pictures."""

    def __init__(self, size: int = RECENT_IMAGES) -> None:
        self._size = size
        self._images: OrderedDict[str, str] = OrderedDict()

    def note(self, event: MessageEvent) -> MessageEvent:
        """Remember the event's picture; the event with the picture its reply points at."""
        if event.message_id and event.image:
            self._images[event.message_id] = event.image
            self._images.move_to_end(event.message_id)
            while len(self._images) > self._size:
                self._images.popitem(last=False)
        found = self._images.get(event.reply_to) if event.reply_to else None
        return dataclasses.replace(event, reply_to_image=found) if found else event


async def download(ref: str, limit: int) -> bytes:
    """The picture at ``ref`` (an http(s) URL), at most ``limit + 1`` bytes of it."""
    if not ref.startswith(("http://", "https://")):
        raise TransportError("this OneBot bridge gave no URL for the picture")
    try:
        async with aiohttp.ClientSession(timeout=_TIMEOUT) as session, session.get(ref) as resp:
            if resp.status != 200:
                raise TransportError(f"picture download answered {resp.status}")
            data = bytearray()
            async for chunk in resp.content.iter_chunked(64 * 1024):
                data.extend(chunk)
                if len(data) > limit:
                    break
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise TransportError(f"picture download failed: {exc or type(exc).__name__}") from exc
    return bytes(data[: limit + 1])
