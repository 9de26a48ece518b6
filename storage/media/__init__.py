"""Media storage: pictures kept once by content hash, and the posts of each group that carry one."""

from __future__ import annotations

from storage.media.library import MediaRepo, StoredImage

__all__ = ["MediaRepo", "StoredImage"]
