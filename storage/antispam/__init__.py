"""Antispam storage: newcomer probation, spam samples and raids, one repository per aggregate."""

from __future__ import annotations

from storage.antispam.probation import ProbationRepo, ProbationRow
from storage.antispam.raids import RaidJoinerRow, RaidRepo, RaidRow
from storage.antispam.samples import SampleRepo
from storage.database import Database


class AntispamRepos:
    """The antispam feature's repositories on one database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.probation = ProbationRepo(db)
        self.samples = SampleRepo(db)
        self.raids = RaidRepo(db)


__all__ = [
    "AntispamRepos",
    "ProbationRepo",
    "ProbationRow",
    "RaidJoinerRow",
    "RaidRepo",
    "RaidRow",
    "SampleRepo",
]
