"""Storage: the database engine, migrations and repositories. The only place with SQL."""

from storage.core import ActivityRepo, EventLogRepo, GroupRepo, JobRepo, MemberRepo, RoleRepo, SettingsRepo
from storage.database import Database, is_transient
from storage.models import ActivityRow, Group, Job, Member

__all__ = [
    "ActivityRepo",
    "ActivityRow",
    "Database",
    "EventLogRepo",
    "Group",
    "GroupRepo",
    "Job",
    "JobRepo",
    "Member",
    "MemberRepo",
    "RoleRepo",
    "SettingsRepo",
    "is_transient",
]
