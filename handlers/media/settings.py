"""The media store's configuration: the operator's, in ``[media]`` of config.toml.

Not group settings: how big a picture may be and which directory moderators may name files
from decide what the host's disk and database hold, so only the operator sets them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

#: 5 MiB: under Telegram's 10 MB for sendPhoto and Discord's 8 MiB for a bot's attachment.
DEFAULT_MAX_BYTES = 5 * 1024 * 1024


class MediaSection(BaseModel):
    """``[media]``: where named pictures come from and how big a picture may be."""

    model_config = ConfigDict(extra="forbid")

    #: Moderators may name files (``image:banner.png``) only inside this directory; empty: naming
    #: files is off, and pictures come only from a reply to a picture.
    dir: str = Field(default="", description="directory moderators may name picture files from (empty: off)")
    max_bytes: int = Field(
        default=DEFAULT_MAX_BYTES, ge=1024, le=50 * 1024 * 1024, description="largest picture kept, in bytes"
    )
    #: Where stored pictures are written out for sending (empty: next to a SQLite database, else
    #: the system's temporary directory). A cache: the bytes live in the database.
    cache_dir: str = Field(default="", description="where pictures are written out for sending (a cache)")


class MediaConfig(BaseModel):
    """The feature's config: the ``[media]`` section."""

    model_config = ConfigDict(extra="forbid")

    media: MediaSection = Field(default_factory=MediaSection)
