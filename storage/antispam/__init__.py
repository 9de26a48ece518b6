"""Antispam storage: newcomer probation and spam samples, one repository per aggregate."""

from __future__ import annotations

from storage.antispam.probation import ProbationRepo, ProbationRow
from storage.antispam.samples import SampleRepo
from storage.database import Database


class AntispamRepos:
    """The antispam feature's repositories on one database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.probation = ProbationRepo(db)
        self.samples = SampleRepo(db)


__all__ = ["AntispamRepos", "ProbationRepo", "ProbationRow", "SampleRepo"]
