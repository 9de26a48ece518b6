"""Community storage: communities and codes, linked accounts, federations (one repo per aggregate)."""

from __future__ import annotations

from storage.community import rights as _rights  # noqa: F401  (the tables' data-rights declarations)
from storage.community.communities import (
    Account,
    AccountLinkRepo,
    Code,
    CodeRepo,
    Community,
    CommunityRepo,
    accounts_on,
)
from storage.community.federations import Federation, FederationBan, FederationRepo
from storage.database import Database


class CommunityRepos:
    """The community feature's repositories on one database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.communities = CommunityRepo(db)
        self.codes = CodeRepo(db)
        self.links = AccountLinkRepo(db)
        self.federations = FederationRepo(db)


__all__ = [
    "Account",
    "AccountLinkRepo",
    "Code",
    "CodeRepo",
    "Community",
    "CommunityRepo",
    "CommunityRepos",
    "Federation",
    "FederationBan",
    "FederationRepo",
    "accounts_on",
]
