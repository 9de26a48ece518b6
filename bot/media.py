"""Pictures on posts, for the features that post them (schedules, welcome, activities).

The media feature owns the pictures (``MediaLibrary`` in ``bot/ports.py``); these helpers are
the two steps every posting feature shares: take the picture a moderator's command names (a
reply to a picture, a picture sent with the command, or ``image:FILE``), and dress a post with
its picture where the platform shows pictures, or with a note where it does not.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from bot.args import BadArgument
from bot.capability import Capability
from bot.errors import CapabilityNotSupported, QunyouError
from bot.events import MessageEvent
from bot.messages import OutgoingMessage, Text
from bot.ports import MediaLibrary, MediaRefused

if TYPE_CHECKING:
    from bot.context import Context
    from bot.events import ChatRef
    from bot.services import Services
    from storage.models import Group

#: The words that name a file in the media directory as a command's first word: ``image:a.png``.
IMAGE_WORDS = ("image", "img", "pic", "图片", "配图")


def split_image_word(text: str) -> tuple[str | None, str]:
    """``image:FILE rest`` → (``FILE``, ``rest``); text without that first word is unchanged."""
    head, _, rest = text.strip().partition(" ")
    word, colon, name = head.replace("：", ":").partition(":")
    if colon and word.lower() in IMAGE_WORDS:
        return name, rest.strip()
    return None, text


def wants_image(ctx: Context, name: str | None) -> bool:
    """True when the command names a picture: a file, one sent with it, or one it replies to."""
    event = ctx.event
    return name is not None or (
        isinstance(event, MessageEvent) and (event.image is not None or event.reply_to_image is not None)
    )


async def picked_image(ctx: Context, name: str | None) -> int | None:
    """The stored picture a moderator's command names, or None when it names none.

    Raises ``BadArgument`` with the reason (too big, not a picture, outside the media directory,
    not fetchable on this platform) so the command answers clearly and stores nothing.
    """
    if not wants_image(ctx, name):
        return None
    library = ctx.services.ports.find(MediaLibrary)
    if library is None:
        raise BadArgument("media.err_unavailable")
    try:
        if name is not None:
            if not name:
                raise BadArgument("media.err_no_name")
            return await library.keep_file(name)
        event = ctx.event
        assert isinstance(event, MessageEvent)
        ref = event.image or event.reply_to_image
        assert ref is not None
        try:
            data = await ctx.adapter.fetch_image(ref, library.max_bytes)
        except CapabilityNotSupported:
            raise BadArgument("media.err_platform") from None
        except QunyouError:
            raise BadArgument("media.err_fetch") from None
        return await library.keep_bytes(data)
    except MediaRefused as refused:
        raise BadArgument(refused.key, **refused.values) from None


async def with_picture(
    services: Services, group: Group, chat: ChatRef, owner: str, message: OutgoingMessage
) -> OutgoingMessage:
    """``message`` with the picture ``owner`` carries: attached where the platform takes
    pictures, else the text with a note that a picture goes with it. Unchanged without one."""
    library = services.ports.find(MediaLibrary)
    path = await library.path_of(group, owner) if library is not None else None
    if path is None:
        return message
    if services.adapter_for(chat).supports(Capability.IMAGES):
        return dataclasses.replace(message, image=path)
    return message.with_parts([Text("\n" + services.i18n.t(group.language, "media.note_no_images"))])


async def forget_picture(services: Services, group: Group, owner: str) -> None:
    """Take the picture off a post that is gone (no-op without the media feature)."""
    library = services.ports.find(MediaLibrary)
    if library is not None:
        await library.detach(group, owner)


async def attach_picture(services: Services, group: Group, owner: str, media_id: int | None) -> bool:
    """Give the post ``owner`` the picture ``media_id`` (from ``picked_image``); True when it did.

    ``None`` (the command named no picture) changes nothing."""
    library = services.ports.find(MediaLibrary)
    if media_id is None or library is None:
        return False
    await library.attach(group, owner, media_id)
    return True
