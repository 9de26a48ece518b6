"""Storage: the database engine, migrations and repositories. The only place with SQL."""

from storage.core import (
    EventLogRepo,
    GroupRepo,
    MemberRepo,
    MessageCountRepo,
    RoleRepo,
    SettingsRepo,
)
from storage.database import Database, is_transient
from storage.jobs import JobRepo
from storage.leases import LeaseRepo
from storage.models import Group, Job, Lease, Member, MessageCountRow

__all__ = [
    "Database",
    "EventLogRepo",
    "Group",
    "GroupRepo",
    "Job",
    "JobRepo",
    "Lease",
    "LeaseRepo",
    "Member",
    "MemberRepo",
    "MessageCountRepo",
    "MessageCountRow",
    "RoleRepo",
    "SettingsRepo",
    "is_transient",
]
