"""The community feature's runtime state: its repositories and the one-time code generator."""

from __future__ import annotations

import asyncio
import random
import secrets
import string
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.cas import CasChecker
from bot.services import Services
from storage.community import Account, CommunityRepos
from storage.models import Group

STATE_KEY = "community"
#: How long a community invitation or an account-link code stays valid.
CODE_TTL = timedelta(minutes=10)
#: Wrong codes one account may try within ``CODE_TTL``: guessing 31^8 codes is pointless.
MAX_WRONG_CODES = 5
#: Letters and digits a person cannot confuse (no 0/O, 1/I/L).
ALPHABET = "".join(c for c in string.ascii_uppercase + string.digits if c not in "0O1IL")
CODE_LENGTH = 8


@dataclass
class CommunityState:
    """Repositories, the code generator, and recent wrong codes per account."""

    repos: CommunityRepos
    rng: random.Random
    wrong: dict[Account, deque[datetime]] = field(default_factory=dict)
    #: group id → its community's chat ids (empty: in none). Points commands ask on every call
    #: (``CommunityScope``), so it is cached, and emptied whenever any community's chats change.
    chats_cache: dict[int, tuple[int, ...]] = field(default_factory=dict)
    #: group id → whether it subscribes to a federation. Every join asks (the ban-list check),
    #: and a raid is a thousand joins: a chat in no federation then costs no database round
    #: trip. Emptied whenever any chat's subscription changes (here and in the other workers).
    federated: dict[int, bool] = field(default_factory=dict)
    #: The CAS lookup (``handlers.community.cas``), built at start; its checks in flight.
    cas: CasChecker | None = None
    cas_tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def community_chats(self, group_id: int) -> tuple[int, ...]:
        """The chats of ``group_id``'s community in the order they joined; empty when in none."""
        cached = self.chats_cache.get(group_id)
        if cached is None:
            community = await self.repos.communities.of_group(group_id)
            cached = tuple(await self.repos.communities.chats(community.id)) if community else ()
            self.chats_cache[group_id] = cached
        return cached

    async def in_federation(self, group_id: int) -> bool:
        """True when ``group_id`` follows a federation's ban list (cached)."""
        found = self.federated.get(group_id)
        if found is None:
            found = self.federated[group_id] = await self.repos.federations.of_group(group_id) is not None
        return found

    def new_code(self, prefix: str = "") -> str:
        """A fresh one-time code."""
        return prefix + "".join(self.rng.choice(ALPHABET) for _ in range(CODE_LENGTH))

    def may_try(self, account: Account, now: datetime) -> bool:
        """False once an account has given ``MAX_WRONG_CODES`` wrong codes within ``CODE_TTL``."""
        recent = self.wrong.setdefault(account, deque())
        while recent and recent[0] <= now - CODE_TTL:
            recent.popleft()
        return len(recent) < MAX_WRONG_CODES

    def wrong_code(self, account: Account, now: datetime) -> None:
        """Remember one wrong code."""
        self.wrong.setdefault(account, deque()).append(now)


def get_state(services: Services) -> CommunityState:
    """The feature's state in ``services.state``, created on first use."""
    state = services.state.get(STATE_KEY)
    if state is None:
        # Codes must be unguessable in production; under the virtual clock (scripts, tests) runs
        # must be byte-identical, so the generator is seeded there.
        rng: random.Random = random.Random(0) if services.clock.is_virtual else secrets.SystemRandom()
        state = CommunityState(CommunityRepos(services.db), rng)
        services.state[STATE_KEY] = state
        # Another worker changed a community: this one's cached chat lists are stale.
        services.changes.subscribe("community", lambda _key: state.chats_cache.clear())
        services.changes.subscribe("federation", lambda _key: state.federated.clear())
    assert isinstance(state, CommunityState)
    return state


def account_of(group: Group, user_id: str) -> Account:
    """A member's platform account."""
    return Account(group.platform, user_id)


def chat_name(group: Group) -> str:
    """How a chat is named in replies: its title and platform."""
    return f"{group.title or group.scope_id} ({group.platform})"


async def chats_changed(services: Services) -> None:
    """A community gained or lost a chat: empty the cached chat lists here and in every worker."""
    get_state(services).chats_cache.clear()
    await services.changes.publish("community", 0)


async def federations_changed(services: Services) -> None:
    """A chat followed or left a federation: forget who follows one, here and in every worker."""
    get_state(services).federated.clear()
    await services.changes.publish("federation", 0)
