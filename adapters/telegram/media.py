"""Pictures members sent on Telegram: a photo's ``file_id`` → its bytes (``getFile``, download)."""

from __future__ import annotations

from telegram import Bot
from telegram import error as tg_error

from adapters.telegram.errors import map_error


async def fetch_photo(bot: Bot, file_id: str, limit: int) -> bytes:
    """The photo's bytes, at most ``limit + 1`` of them (the caller refuses more as too big).

    Telegram says the size before the download: a photo over the limit is not downloaded at
    all, and ``limit + 1`` placeholder bytes tell the caller so without holding the picture.
    """
    try:
        file = await bot.get_file(file_id)
        if file.file_size is not None and file.file_size > limit:
            return bytes(limit + 1)
        data = await file.download_as_bytearray()
    except tg_error.TelegramError as exc:
        raise map_error(exc) from exc
    return bytes(data[: limit + 1])
