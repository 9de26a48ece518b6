"""The connection to the Bot API: building PTB's ``Application`` (transport only: no JobQueue, no
concurrent updates), checking the token with a few retries, receiving updates by long polling or
webhook, and shutting down."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from telegram import error as tg_error
from telegram.ext import Application, ApplicationBuilder
from telegram.request import BaseRequest, HTTPXRequest

from adapters.telegram.config import TelegramConfig
from bot.errors import ConfigError, TransportError

log = logging.getLogger(__name__)

#: Updates the bot asks for. ``chat_member`` is not sent by default: without it, joins in large
#: groups (where Telegram hides the service message) would go unseen.
#: ``poll_answer``: votes in the bot's native polls (``adapters.telegram.polls``).
ALLOWED_UPDATES = [
    "message",
    "edited_message",
    "callback_query",
    "chat_member",
    "my_chat_member",
    "poll_answer",
]
#: getMe attempts at start before giving up (a network blip while the host boots).
START_ATTEMPTS = 4

App = Application[Any, Any, Any, Any, Any, Any]


class PollHealth:
    """Whether long polling works, for ``connected`` (``/readyz`` and the desk's watchdog read
    it): down from a failed getUpdates (PTB's error callback) until one succeeds again, which
    ``WatchedRequest`` sees even when Telegram answers with no update. A webhook stays up."""

    def __init__(self, name: str) -> None:
        self.name = name
        #: When getUpdates started failing (the adapter's clock); None while polling works.
        self.failed_at: datetime | None = None

    @property
    def up(self) -> bool:
        """True unless getUpdates failed and has not succeeded since."""
        return self.failed_at is None

    def failed(self, exc: tg_error.TelegramError, now: datetime) -> None:
        """A getUpdates failed; PTB retries it with back-off by itself, one log line is enough."""
        if self.failed_at is None:
            self.failed_at = now
        if isinstance(exc, tg_error.Conflict):
            log.error(
                "telegram adapter %s: another process is polling with this token (or a webhook is "
                "set); stop it, only one may run: %s",
                self.name,
                exc,
            )
            return
        log.warning("telegram adapter %s: polling error (PTB retries): %s", self.name, exc)

    def ok(self) -> None:
        """A getUpdates succeeded."""
        if self.failed_at is not None:
            log.info("telegram adapter %s: polling works again", self.name)
        self.failed_at = None

    def watch(self, inner: BaseRequest | None) -> BaseRequest:
        """The getUpdates transport (``inner``, else PTB's default for it) seen by this."""
        return WatchedRequest(inner or HTTPXRequest(connection_pool_size=1), self)


class WatchedRequest(BaseRequest):
    """A getUpdates transport that tells ``PollHealth`` when Telegram answered (HTTP 200)."""

    def __init__(self, inner: BaseRequest, health: PollHealth) -> None:
        self.inner = inner
        self.health = health

    @property
    def read_timeout(self) -> float | None:
        """The inner transport's."""
        return self.inner.read_timeout

    async def initialize(self) -> None:
        """Open the inner transport."""
        await self.inner.initialize()

    async def shutdown(self) -> None:
        """Close the inner transport."""
        await self.inner.shutdown()

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        """Pass the call on; a 200 means polling works."""
        status, payload = await self.inner.do_request(url, method, *args, **kwargs)
        if status == 200:
            self.health.ok()
        return status, payload


def build_application(
    token: str,
    config: TelegramConfig,
    request: BaseRequest | None,
    get_updates_request: BaseRequest | None,
    health: PollHealth | None = None,
) -> App:
    """PTB's ``Application`` for one bot account, used for its transport only; with ``health``,
    getUpdates goes through ``health.watch`` so it knows when polling works again."""
    if health is not None:
        get_updates_request = health.watch(get_updates_request)
    builder = ApplicationBuilder().token(token).job_queue(None).concurrent_updates(False)
    if config.api_base_url:
        base = config.api_base_url
        builder = builder.base_url(base)
        if base.rstrip("/").endswith("/bot"):
            builder = builder.base_file_url(base.rstrip("/")[: -len("/bot")] + "/file/bot")
    if request is not None:
        builder = builder.request(request)
    if get_updates_request is not None:
        builder = builder.get_updates_request(get_updates_request)
    return builder.build()


async def initialize(
    app: App, name: str, config: TelegramConfig, sleep: Callable[[float], Awaitable[None]]
) -> None:
    """Check the token (getMe), retrying a few times when the Bot API cannot be reached."""
    for attempt in range(START_ATTEMPTS):
        try:
            await app.initialize()
            break
        except tg_error.InvalidToken as exc:
            raise ConfigError(
                f"adapters.{name}: Telegram rejected the token in ${config.token_env} ({exc}); "
                "copy it again from @BotFather"
            ) from None
        except tg_error.TelegramError as exc:
            if attempt + 1 == START_ATTEMPTS:
                raise TransportError(
                    f"adapters.{name}: cannot reach the Telegram Bot API at "
                    f"{config.api_base_url or 'api.telegram.org'}: {exc}"
                ) from exc
            # A network blip while the host boots should not stop the bot: try a few times.
            delay = 2.0**attempt
            log.warning("telegram adapter %s: getMe failed (%s), retry in %.0fs", name, exc, delay)
            await sleep(delay)


async def start_updates(
    app: App,
    name: str,
    config: TelegramConfig,
    poll_interval: float,
    secret_token: str | None,
    on_poll_error: Callable[[tg_error.TelegramError], None],
) -> None:
    """Start PTB and receive updates by long polling or, with ``mode = 'webhook'``, by webhook."""
    await app.start()
    updater = app.updater
    if updater is not None:
        if config.mode == "webhook":
            await _start_webhook(app, name, config, secret_token)
        else:
            await updater.start_polling(
                poll_interval=poll_interval,
                allowed_updates=ALLOWED_UPDATES,
                bootstrap_retries=3,
                error_callback=on_poll_error,
            )


async def _start_webhook(app: App, name: str, config: TelegramConfig, secret_token: str | None) -> None:
    updater = app.updater
    assert updater is not None
    try:
        import tornado  # noqa: F401  (PTB's webhook server; checked here for a clear message)
    except ImportError:
        raise ConfigError(
            f"adapters.{name}: mode = 'webhook' needs python-telegram-bot[webhooks] (tornado)"
        ) from None
    # The public URL's path is also the local path, so a reverse proxy is a plain pass-through.
    url_path = urlsplit(config.url).path.strip("/")
    await updater.start_webhook(
        listen=config.listen,
        port=config.port,
        url_path=url_path,
        webhook_url=config.url,
        allowed_updates=ALLOWED_UPDATES,
        secret_token=secret_token,
    )


async def shutdown(app: App, name: str) -> None:
    """Stop receiving updates and shut PTB down (errors are logged: we are leaving anyway)."""
    try:
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
    except tg_error.TelegramError as exc:
        log.warning("telegram adapter %s: error while stopping: %s", name, exc)
