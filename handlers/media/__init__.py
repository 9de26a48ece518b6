"""Pictures for posts (配图): the ``media`` feature.

It provides the ``MediaLibrary`` port: scheduled posts, the welcome message and activity
announcements carry a picture through it (``bot/media.py`` has the shared steps). Each picture
is kept once by SHA-256 in the database, size-limited and checked by its magic bytes; it has no
commands of its own (a picture is attached by the command that makes the post).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.feature import Feature
from bot.ports import MediaLibrary
from bot.router import Router
from handlers.media.library import Library
from handlers.media.settings import MediaConfig

if TYPE_CHECKING:
    from bot.services import Services

router = Router("media")


def _ports(services: Services) -> dict[type[Any], Any]:
    config = FEATURE.config if isinstance(FEATURE.config, MediaConfig) else MediaConfig()
    return {MediaLibrary: Library(services, config.media)}


FEATURE = Feature(name="media", router=router, config_model=MediaConfig, provides=_ports)
