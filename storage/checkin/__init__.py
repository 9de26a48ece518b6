"""Check-in storage: the points ledger, daily check-ins, counters and badges, activity points,
the shop, referrals and a member's data, one repository per aggregate.

The aggregates share one set of tables (``tables``) and one ledger: every operation that moves
points calls ``ledger.post_entries`` inside its own transaction, so for every member the balance
equals the sum of the ledger, whichever repository wrote it.

Callers hold a ``CheckinRepos`` and name the aggregate they touch (``repos.ledger.balance(…)``,
``repos.shop.redeem(…)``); each repository can also be built on its own from a ``Database``.
"""

from __future__ import annotations

from storage.checkin.activity_points import ActivityPointsRepo
from storage.checkin.badges import BadgeRepo
from storage.checkin.boards import BoardRepo, Earnings
from storage.checkin.checkins import CheckinRepo
from storage.checkin.ledger import LedgerRepo
from storage.checkin.referrals import ReferralRepo
from storage.checkin.shop import ShopRepo
from storage.checkin.values import (
    ALL_COUNTER_KEYS,
    STORED_COUNTER_KEYS,
    ActivityCredit,
    AutoRule,
    CheckinOutcome,
    CheckinStatus,
    Entry,
    InsufficientPoints,
    Itemizer,
    LedgerRow,
    Outcome,
    Posting,
    Redemption,
    ShopItem,
    iter_entries,
    month_bounds,
)
from storage.checkin.wallets import WalletRepo
from storage.database import Database


class CheckinRepos:
    """The check-in feature's repositories on one database, one attribute per aggregate."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.ledger = LedgerRepo(db)
        self.checkins = CheckinRepo(db)
        self.badges = BadgeRepo(db)
        self.activity = ActivityPointsRepo(db)
        self.shop = ShopRepo(db)
        self.referrals = ReferralRepo(db)
        self.wallets = WalletRepo(db)
        self.boards = BoardRepo(db)


__all__ = [
    "ALL_COUNTER_KEYS",
    "STORED_COUNTER_KEYS",
    "ActivityCredit",
    "ActivityPointsRepo",
    "AutoRule",
    "BadgeRepo",
    "BoardRepo",
    "CheckinOutcome",
    "CheckinRepo",
    "CheckinRepos",
    "CheckinStatus",
    "Earnings",
    "Entry",
    "InsufficientPoints",
    "Itemizer",
    "LedgerRepo",
    "LedgerRow",
    "Outcome",
    "Posting",
    "Redemption",
    "ReferralRepo",
    "ShopItem",
    "ShopRepo",
    "WalletRepo",
    "iter_entries",
    "month_bounds",
]
