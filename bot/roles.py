"""The permission ladder shared by the core, the adapters and the features."""

from __future__ import annotations

from enum import IntEnum


class Role(IntEnum):
    """An ordered role: a command declares the lowest role allowed to run it."""

    MEMBER = 0
    MODERATOR = 10
    ADMIN = 20
    OWNER = 30
    SUPERUSER = 40

    @classmethod
    def parse(cls, text: str) -> Role:
        """Read a role name such as ``moderator``; raises ``ValueError`` when unknown."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown role {text!r}") from None

    @property
    def label(self) -> str:
        """The lower-case name used in config, storage and the console protocol."""
        return self.name.lower()
