"""The WeCom (企业微信) group robot: a send-only broadcast target behind a webhook URL.

A robot can post text, markdown and images into the one work group it was added to, at most 20
messages a minute. It receives nothing, so it cannot answer commands, moderate or look up roles;
those raise ``CapabilityNotSupported`` with a message that says why.

HTTP goes through aiohttp: it is already installed with discord.py, DESIGN.md names it as one of
the libraries adapters may use, and the tests serve the loopback webhook with ``aiohttp.web``,
so one library covers both ends.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import logging
from pathlib import Path
from typing import Any

import aiohttp

from adapters.wecom.config import WeComRobotConfig
from bot.adapter import Adapter, AdapterHost, Capability
from bot.errors import (
    BotLacksPermission,
    CapabilityNotSupported,
    QunyouError,
    RateLimited,
    TargetNotFound,
    TransportError,
)
from bot.events import ChatRef, SentMessage
from bot.messages import Bold, Link, Mention, OutgoingMessage, Part
from bot.outbound import Limit, OutboundQueue

log = logging.getLogger(__name__)

PLATFORM = "wecom"
#: WeCom's documented limits: text 2048 bytes, markdown 4096 bytes, images 2 MB (JPG or PNG).
TEXT_LIMIT_BYTES = 2048
MARKDOWN_LIMIT_BYTES = 4096
IMAGE_LIMIT_BYTES = 2 * 1024 * 1024
#: 45009 says "too many calls" and gives no wait; the limit is per minute, so wait out a minute.
RATE_LIMIT_WAIT = 60.0

# Errcodes that mean the webhook itself is gone: a wrong key, or the robot removed from the group.
_GONE = {93000: "the webhook key is invalid", 93004: "the robot has been disabled", 93008: "the robot left"}
# WeCom's markdown subset documents no escape character, so a backslash could show up as-is.
# Member text is neutralised with full-width look-alikes instead: they read the same (and are
# natural in Chinese text) but can never form a heading, link, bold, code, quote or tag.
_MARKDOWN_LOOKALIKES = str.maketrans(
    {"*": "＊", "`": "｀", "[": "［", "]": "］", "<": "＜", ">": "＞", "#": "＃"}
)


class SendOnly(CapabilityNotSupported):
    """Raised for everything a send-only robot cannot do, naming the reason."""

    def __str__(self) -> str:
        return (
            f"{self.adapter} is a WeCom group robot, which is send-only: it cannot "
            f"{self.capability.value}. Use it as a broadcast target (scheduled posts, "
            "announcements, reports); run commands and moderation through a OneBot bridge instead."
        )


class WeComRobotAdapter(Adapter):
    """Posts into one WeCom work group through its robot webhook."""

    platform = PLATFORM
    capabilities = frozenset({Capability.SEND, Capability.IMAGES, Capability.MENTIONS})
    max_text_length = TEXT_LIMIT_BYTES // 3  # characters that surely fit, for callers who pre-split

    def __init__(
        self,
        name: str,
        config: WeComRobotConfig,
        webhook_url: str,
        *,
        queue: OutboundQueue | None = None,
        request_timeout: float = 15.0,
    ) -> None:
        super().__init__(name)
        self.config = config
        self._url = webhook_url
        self._queue = queue or OutboundQueue(overall=Limit(20, 60.0))
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._session: aiohttp.ClientSession | None = None
        self._ids = itertools.count(1)

    @property
    def chat(self) -> ChatRef:
        """The one group this robot posts into; point broadcasts here."""
        return ChatRef(PLATFORM, self.name, self.name, self.name, "group")

    def _unsupported(self, capability: Capability) -> CapabilityNotSupported:
        return SendOnly(capability, self.name)

    async def start(self, host: AdapterHost) -> None:
        """Open the HTTP session; a robot never delivers events, so ``host`` is unused."""
        self._session = aiohttp.ClientSession(timeout=self._timeout)

    async def stop(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def outbound_backlog(self) -> int:
        """Calls waiting in the outbound queue (the desk's watchdog)."""
        return self._queue.pending

    def status_line(self) -> str:
        """Describe the robot for ``/status``."""
        return f"{self.name} (WeCom group robot, send-only)"

    async def send(self, chat: ChatRef, message: OutgoingMessage) -> SentMessage:
        """Post text (markdown when the message has bold text or links), then its image.

        The robot has one group; ``chat`` must be this adapter's. WeCom returns no message id,
        so the id is a local counter, useless for edits or deletes, which a robot cannot do.
        """
        if chat.adapter != self.name:
            raise TargetNotFound(f"{self.name} can only post into its own group, not {chat.adapter}")
        if message.reply_to:
            log.debug("%s: a robot cannot quote a message; posting without the quote", self.name)
        for body in render(message):
            await self._post(body)
        if message.image:
            await self._post(await image_body(message.image))
        return SentMessage(chat, f"wecom-{next(self._ids)}")

    async def _post(self, body: dict[str, Any]) -> None:
        errcode, errmsg = await self._queue.run("webhook", lambda: self._request(body))
        if errcode:
            raise _error(errcode, errmsg)

    async def _request(self, body: dict[str, Any]) -> tuple[int, str]:
        """One POST; network faults and 45009 raise (the queue retries them), others return."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._session.post(self._url, json=body) as response:
                if response.status >= 500:
                    raise TransportError(f"WeCom answered HTTP {response.status}")
                if response.status != 200:
                    return -response.status, f"HTTP {response.status}"
                data = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise TransportError(f"WeCom webhook unreachable: {exc}") from exc
        if not isinstance(data, dict):
            raise TransportError(f"WeCom answered something that is not JSON: {data!r}")
        errcode = int(data.get("errcode", -1))
        errmsg = str(data.get("errmsg", ""))
        if errcode == 45009:
            log.warning("%s: WeCom says too many messages (45009); waiting a minute", self.name)
            raise RateLimited(RATE_LIMIT_WAIT, errmsg)
        return errcode, errmsg


def _error(errcode: int, errmsg: str) -> QunyouError:
    if errcode in _GONE:
        return TargetNotFound(f"WeCom errcode {errcode}: {_GONE[errcode]} ({errmsg})")
    if errcode in (-401, -403):
        return BotLacksPermission(f"WeCom refused the webhook: {errmsg}")
    return TransportError(f"WeCom errcode {errcode}: {errmsg}")


def _plain(part: Part) -> str:
    if isinstance(part, Mention):
        return "@" + (part.user.display_name or part.user.user_id)
    if isinstance(part, Link):
        return part.url if part.text == part.url else f"{part.text} ({part.url})"
    return part.text


def _markdown(part: Part) -> str:
    if isinstance(part, Mention):
        return f"<@{part.user.user_id}>"
    if isinstance(part, Link):
        return f"[{_md_escape(part.text)}]({part.url.replace(')', '%29')})"
    if isinstance(part, Bold):
        return f"**{_md_escape(part.text)}**"
    return _md_escape(part.text)


def _md_escape(text: str) -> str:
    # Member text must stay text: no headings, links or <font> tags smuggled in through a name.
    return text.translate(_MARKDOWN_LOOKALIKES)


def _button_lines(message: OutgoingMessage) -> list[str]:
    lines: list[str] = []
    for row in message.buttons or ():
        for button in row:
            lines.append(f"{len(lines) + 1}. {button.text}")
    return lines


def render(message: OutgoingMessage) -> list[dict[str, Any]]:
    """The webhook bodies for a message's text: one or more, each within WeCom's byte limit."""
    formatted = any(isinstance(p, Bold | Link) for p in message.parts)
    lines = _button_lines(message)
    if formatted:
        text = "".join(_markdown(p) for p in message.parts)
        if lines:
            text += "\n" + "\n".join(_md_escape(line) for line in lines)
        return [
            {"msgtype": "markdown", "markdown": {"content": c}}
            for c in split_bytes(text, MARKDOWN_LIMIT_BYTES)
        ]
    text = "".join(_plain(p) for p in message.parts)
    if lines:
        text += "\n" + "\n".join(lines)
    if not text and message.image:
        return []
    mentioned = _unique(p.user.user_id for p in message.parts if isinstance(p, Mention))
    bodies: list[dict[str, Any]] = []
    for i, chunk in enumerate(split_bytes(text, TEXT_LIMIT_BYTES)):
        content: dict[str, Any] = {"content": chunk}
        if mentioned and i == 0:
            content["mentioned_list"] = mentioned
        bodies.append({"msgtype": "text", "text": content})
    return bodies


def _unique(ids: Any) -> list[str]:
    seen: dict[str, None] = {}
    for value in ids:
        seen.setdefault(value, None)
    return list(seen)


def split_bytes(text: str, limit: int) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` UTF-8 bytes, preferring line breaks."""
    if len(text.encode()) <= limit:
        return [text]
    pieces: list[str] = []
    rest = text
    while rest:
        encoded = rest.encode()
        if len(encoded) <= limit:
            pieces.append(rest)
            break
        # The longest prefix within the limit, never cutting a character in half.
        head = encoded[:limit].decode("utf-8", errors="ignore")
        cut = head.rfind("\n")
        if cut > 0:
            pieces.append(head[:cut])
            rest = rest[cut + 1 :]
        else:
            pieces.append(head)
            rest = rest[len(head) :]
    return pieces


async def image_body(image: str) -> dict[str, Any]:
    """An image message: the file's bytes as base64 with their md5, as WeCom requires."""
    if image.startswith(("http://", "https://")):
        raise TransportError("WeCom robots take image bytes, not URLs: render the image to a file first")
    data = await asyncio.to_thread(Path(image).read_bytes)
    if len(data) > IMAGE_LIMIT_BYTES:
        raise TransportError(f"image {image} is {len(data)} bytes; WeCom robots take at most 2 MB")
    return {
        "msgtype": "image",
        "image": {"base64": base64.b64encode(data).decode("ascii"), "md5": hashlib.md5(data).hexdigest()},
    }
