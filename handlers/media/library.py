"""The ``MediaLibrary`` port: pictures checked, kept once by SHA-256, and written out to send.

Checks are on the bytes, never the name: a picture is PNG, JPEG, GIF or WebP by its magic
bytes, at most ``[media] max_bytes`` long. A named file must resolve (symlinks followed) to a
regular file inside ``[media] dir``; ``..``, absolute paths and links out of it are refused.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.ports import MediaRefused
from handlers.media.settings import MediaSection
from storage.media import MediaRepo

if TYPE_CHECKING:
    from bot.services import Services
    from storage.models import Group


#: A picture no post carries is deleted once it is this old: long enough that one stored for a
#: post being made right now is attached first.
PRUNE_GRACE = timedelta(hours=1)


def image_kind(data: bytes) -> str | None:
    """``png``, ``jpeg``, ``gif`` or ``webp`` from the file's first bytes; None otherwise."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if len(data) >= 12 and data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "webp"
    return None


def size_label(size: int) -> str:
    """``5 MB``, ``1.5 MB``, ``4 KB``: a limit as a moderator reads it."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MB"
    return f"{size // 1024} KB"


def inside(root: Path, name: str) -> Path | None:
    """The file ``name`` names inside ``root``, or None when it would lie outside it."""
    if not name or "\x00" in name or os.path.isabs(name) or Path(name).drive:
        return None
    if ".." in Path(name.replace("\\", "/")).parts:
        return None
    try:
        base = root.resolve()
        target = (base / name).resolve()  # follows symlinks: a link out of the directory is outside
    except (OSError, RuntimeError):  # a symlink loop, a name the system refuses
        return None
    return target if target.is_relative_to(base) and target != base else None


class Library:
    """The media feature's ``MediaLibrary``."""

    def __init__(self, services: Services, config: MediaSection) -> None:
        self._services = services
        self._config = config
        self.repo = MediaRepo(services.db)
        if config.cache_dir:
            self.cache = Path(config.cache_dir)
        elif services.db.sqlite_path is not None:
            # Next to the database, as the stats charts are: one place for an operator to look.
            self.cache = services.db.sqlite_path.parent / "media"
        else:
            self.cache = Path(tempfile.gettempdir()) / "qunyou-media"

    @property
    def max_bytes(self) -> int:
        """The largest picture kept."""
        return self._config.max_bytes

    async def keep_bytes(self, data: bytes) -> int:
        """Check and keep a picture; its id (the one kept before when the bytes are the same)."""
        if len(data) > self.max_bytes:
            raise MediaRefused("media.err_too_big", limit=size_label(self.max_bytes))
        kind = image_kind(data)
        if kind is None:
            raise MediaRefused("media.err_not_image")
        digest = hashlib.sha256(data).hexdigest()
        stored, _new = await self.repo.keep(digest, kind, data, self._services.clock.now())
        return stored.id

    async def keep_file(self, name: str) -> int:
        """Keep the picture at ``name`` inside ``[media] dir``."""
        if not self._config.dir:
            raise MediaRefused("media.err_no_dir")
        target = inside(Path(self._config.dir), name)
        if target is None:
            raise MediaRefused("media.err_outside", name=name[:60])
        limit = self.max_bytes

        def read() -> bytes | None:
            if not target.is_file():
                return None
            with target.open("rb") as handle:
                return handle.read(limit + 1)

        try:
            data = await asyncio.to_thread(read)
        except OSError:
            data = None
        if data is None:
            raise MediaRefused("media.err_missing", name=name[:60])
        return await self.keep_bytes(data)

    async def attach(self, group: Group, owner: str, media_id: int) -> None:
        """Make ``media_id`` the picture of ``owner`` (a picture it replaces may be pruned)."""
        now = self._services.clock.now()
        await self.repo.attach(group.id, owner, media_id, now)
        await self.repo.prune(now - PRUNE_GRACE)

    async def detach(self, group: Group, owner: str) -> None:
        """Take the picture off ``owner``; a picture no post carries any more is deleted."""
        if await self.repo.detach(group.id, owner):
            await self.repo.prune(self._services.clock.now() - PRUNE_GRACE)

    async def path_of(self, group: Group, owner: str) -> str | None:
        """The picture ``owner`` carries, written out (once, by hash) for the adapter to send."""
        stored = await self.repo.attached(group.id, owner)
        if stored is None:
            return None
        path = self.cache / f"{stored.sha256}.{stored.kind}"
        if not path.is_file():
            # A restart on another host, or a cleaned cache: the database has the bytes.
            data = await self.repo.data(stored.id)
            if data is None:
                return None
            await asyncio.to_thread(_write, path, data)
        return str(path)


def _write(path: Path, data: bytes) -> None:
    """Write atomically: a concurrent sender never reads half a picture."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
