"""Support-desk storage: the FAQ and the standard replies, one repository per aggregate."""

from __future__ import annotations

from storage.database import Database
from storage.desk.faq import FaqRepo, FaqRow, FaqStat
from storage.desk.replies import FIELDS, ReplyRepo, ReplyRow


class DeskRepos:
    """The desk feature's repositories on one database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.faq = FaqRepo(db)
        self.replies = ReplyRepo(db)


__all__ = ["FIELDS", "DeskRepos", "FaqRepo", "FaqRow", "FaqStat", "ReplyRepo", "ReplyRow"]
