"""Data rights of the community tables (storage/rights.py; docs/privacy.md).

These tables name people by platform account, not by group: a person's link or ban is theirs on
every chat. Forgetting in a group reaches the rows of the account on that group's platform.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, select, true

from storage.community.tables import (
    account_links,
    communities,
    community_chats,
    community_codes,
    federation_admins,
    federation_bans,
    federations,
)
from storage.rights import declare, erase, rewrite
from storage.schema import groups

FORGOTTEN = "(forgotten)"


def _platform_of(group_id: int) -> Any:
    return select(groups.c.platform).where(groups.c.id == group_id).scalar_subquery()


def _on_platform(column: str) -> Any:
    def scope(table: Table, group_id: int) -> Any:
        return table.c[column] == _platform_of(group_id)

    return scope


def _communities_of(table: Table, group_id: int) -> Any:
    mine = select(community_chats.c.community_id).where(community_chats.c.group_id == group_id)
    return table.c.id.in_(mine)


declare(
    communities,
    rewrite("created_by", {"created_by": FORGOTTEN}, holds="user"),
    scope=_communities_of,
    why="the community stays for its chats; who created it is forgotten",
)
declare(
    community_chats,
    rewrite("added_by", {"added_by": FORGOTTEN}, holds="user"),
    why="the chat stays in its community; who added it is forgotten",
)
declare(
    community_codes,
    erase("user_id", holds="user"),
    scope=_on_platform("platform"),
    why="a pending code of theirs is dropped (it expires within minutes anyway)",
)
declare(
    account_links,
    erase("user_id", holds="user"),
    scope=_on_platform("platform"),
    why="the account is no longer linked to their other accounts",
)
declare(
    federations,
    rewrite("owner_user", {"owner_user": FORGOTTEN}, holds="user"),
    scope=_on_platform("owner_platform"),
    why="the federation stays for its chats; its owner is forgotten",
)
declare(
    federation_admins,
    erase("user_id", holds="user"),
    scope=_on_platform("platform"),
    why="they are no longer one of the federation's admins",
)
declare(
    federation_bans,
    # A ban in force stays until a federation admin lifts it (it keeps a spammer out); the
    # retention sweep looks again later. Who banned is forgotten at once.
    erase("user_id", holds="user", keep=lambda table: true()),
    rewrite("banned_by", {"banned_by": FORGOTTEN}, holds="user"),
    scope=_on_platform("platform"),
    why="a federation ban of them stays while in force; who banned someone is forgotten",
)
