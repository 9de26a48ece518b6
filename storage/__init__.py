"""Storage: the database engine, migrations and repositories. The only place with SQL."""

from storage.core import ActivityRepo, EventLogRepo, GroupRepo, JobRepo, MemberRepo, RoleRepo, SettingsRepo
from storage.database import Database, is_transient
from storage.leases import LeaseRepo
from storage.models import ActivityRow, Group, Job, Lease, Member

__all__ = [
    "ActivityRepo",
    "ActivityRow",
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
    "RoleRepo",
    "SettingsRepo",
    "is_transient",
]
