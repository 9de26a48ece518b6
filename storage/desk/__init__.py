"""Support-desk storage: the FAQ, the standard replies and complaints, one repository per aggregate."""

from __future__ import annotations

from storage.database import Database
from storage.desk.complaints import ComplaintRepo, ComplaintRow
from storage.desk.faq import FaqRepo, FaqRow, FaqStat
from storage.desk.mood import MoodDayRow, MoodHour, MoodRepo, NegativeMessage
from storage.desk.replies import FIELDS, ReplyRepo, ReplyRow
from storage.desk.unanswered import QuestionRow, UnansweredRepo
from storage.desk.watch import IncidentRow, WatchRepo, WatchReport


class DeskRepos:
    """The desk feature's repositories on one database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.faq = FaqRepo(db)
        self.replies = ReplyRepo(db)
        self.complaints = ComplaintRepo(db)
        self.unanswered = UnansweredRepo(db)
        self.mood = MoodRepo(db)
        self.watch = WatchRepo(db)


__all__ = [
    "FIELDS",
    "ComplaintRepo",
    "ComplaintRow",
    "DeskRepos",
    "FaqRepo",
    "FaqRow",
    "FaqStat",
    "IncidentRow",
    "MoodDayRow",
    "MoodHour",
    "MoodRepo",
    "NegativeMessage",
    "QuestionRow",
    "ReplyRepo",
    "ReplyRow",
    "UnansweredRepo",
    "WatchRepo",
    "WatchReport",
]
