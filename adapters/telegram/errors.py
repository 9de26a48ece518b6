"""Map python-telegram-bot errors onto the core errors handlers understand.

Telegram reports most failures as a 400 with a free-text description, so the mapping reads the
description. The phrases below are the ones the Bot API actually returns (lower-cased).
"""

from __future__ import annotations

import warnings
from datetime import timedelta

from telegram import error as tg_error

from bot.errors import BotLacksPermission, QunyouError, RateLimited, TargetNotFound, TransportError

_NO_RIGHTS = (
    "not enough rights",
    "need administrator rights",
    "have no rights",
    "chat_admin_required",
    "can't remove chat owner",
    "user is an administrator of the chat",
    "can't restrict self",
    "method is available only for supergroups",
    "message can't be deleted",
    "bot can't initiate conversation",
    "not enough rights to send",
)
_GONE = (
    "chat not found",
    "user not found",
    "participant_id_invalid",
    "message to delete not found",
    "message to edit not found",
    "message not found",
    "bot was kicked",
    "bot is not a member",
    "bot was blocked by the user",
    "user is deactivated",
    "group chat was deactivated",
    "chat was deleted",
    "peer_id_invalid",
)


def retry_after_seconds(exc: tg_error.RetryAfter) -> float:
    """The wait Telegram asked for, in seconds, whichever type this PTB version returns."""
    with warnings.catch_warnings():
        # PTB 22 warns that the attribute will become a timedelta; we accept both already.
        warnings.simplefilter("ignore")
        value = exc.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


def map_error(exc: tg_error.TelegramError) -> QunyouError:
    """The core error for a PTB error (``ChatMigrated`` is handled by the caller, not here)."""
    text = str(exc.message if hasattr(exc, "message") else exc).lower()
    if isinstance(exc, tg_error.RetryAfter):
        return RateLimited(retry_after_seconds(exc))
    if isinstance(exc, tg_error.Forbidden):
        if any(p in text for p in _GONE):
            return TargetNotFound(str(exc))
        return BotLacksPermission(str(exc))
    # BadRequest subclasses NetworkError in PTB, so it must be checked first: a bad request
    # will fail the same way every time and must not be retried.
    if isinstance(exc, tg_error.BadRequest):
        if any(p in text for p in _NO_RIGHTS):
            return BotLacksPermission(str(exc))
        if any(p in text for p in _GONE):
            return TargetNotFound(str(exc))
        return BadRequestError(str(exc))
    if isinstance(exc, tg_error.InvalidToken):
        return BotLacksPermission(f"Telegram rejected the token: {exc}")
    if isinstance(exc, tg_error.NetworkError | tg_error.Conflict):
        # TimedOut, 5xx and dropped connections all arrive as NetworkError: they may pass.
        return TransportError(str(exc))
    return BadRequestError(str(exc))


class BadRequestError(QunyouError):
    """Telegram refused the call for a reason that retrying will not fix (logged, not retried)."""
