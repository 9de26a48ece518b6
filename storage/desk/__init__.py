"""Support-desk storage: the FAQ, one repository per aggregate."""

from __future__ import annotations

from storage.database import Database
from storage.desk.faq import FaqRepo, FaqRow, FaqStat


class DeskRepos:
    """The desk feature's repositories on one database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.faq = FaqRepo(db)


__all__ = ["DeskRepos", "FaqRepo", "FaqRow", "FaqStat"]
