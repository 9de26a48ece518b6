"""Moderation storage: lexicon entries, allow-list, alerts, warnings, credit, sanctions, audit log,
one repository per aggregate.

Every action the moderation feature takes, automatic or by a moderator, leaves a row in
``mod_log``; alerts keep who handled them and when, so handling times can be reported.

Callers hold a ``ModerationRepos`` and name the aggregate they touch
(``repos.alerts.add_alert(…)``, ``repos.audit.log(…)``); each repository can also be built on its
own from a ``Database`` (the ``AuditTrail`` port needs only ``AuditRepo``).
"""

from __future__ import annotations

from storage.database import Database
from storage.moderation.alerts import AlertRepo, AlertRow
from storage.moderation.audit import AuditRepo, LogRow
from storage.moderation.lexicon import AllowRow, LexiconRepo, TermRow, TermStats
from storage.moderation.sanctions import CreditRow, SanctionRepo, SanctionRow, WarningRow


class ModerationRepos:
    """The moderation feature's repositories on one database, one attribute per aggregate."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.lexicon = LexiconRepo(db)
        self.alerts = AlertRepo(db)
        self.sanctions = SanctionRepo(db)
        self.audit = AuditRepo(db)


__all__ = [
    "AlertRepo",
    "AlertRow",
    "AllowRow",
    "AuditRepo",
    "CreditRow",
    "LexiconRepo",
    "LogRow",
    "ModerationRepos",
    "SanctionRepo",
    "SanctionRow",
    "TermRow",
    "TermStats",
    "WarningRow",
]
