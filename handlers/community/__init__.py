"""Communities across platforms: chats that share bans, linked accounts, federations.

* ``commands`` (the router): ``/community`` and ``/link`` / ``/unlink``;
* ``federation``: ``/fed``, ``/fban``, ``/unfban``, ``/fedinfo``, ``/fedadmins``, ``/fbanlist``;
* ``listeners``: a newcomer on the federation's ban list is banned at the door;
* ``cas``: (opt-in) a Telegram newcomer listed by Combot Anti-Spam is banned soon after, checked
  in the background;
* ``peers``: the ``SharedSanctions`` port moderation asks where else a sanction applies, and
  the ``CommunityScope`` port the check-in feature asks which chats share points.

Bans themselves are the moderation feature's (``MemberSanctions``): recorded, audited and
liftable in every chat exactly as a moderator's ``/ban`` there.
"""

from __future__ import annotations

from typing import Any

from bot.feature import Feature
from bot.ports import AccountLinkWatcher, CommunityScope, LinkedAccounts, MemberSanctions, SharedSanctions
from bot.services import Services
from handlers.community import cas, federation, listeners
from handlers.community.commands import router
from handlers.community.peers import CommunityPeers, CommunityPoints
from handlers.community.settings import CommunitySettings
from handlers.community.state import get_state
from storage.community import Account

#: Imported for their registrations on ``router``.
HANDLER_MODULES = (federation, listeners)


class _Linked:
    """``LinkedAccounts`` over the account links."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def accounts(self, platform: str, user_id: str) -> list[tuple[str, str]]:
        """Every account linked with this one, itself included."""
        found = await get_state(self._services).repos.links.accounts(Account(platform, user_id))
        return [(a.platform, a.user_id) for a in found]


def _ports(services: Services) -> dict[type[Any], Any]:
    peers: SharedSanctions = CommunityPeers(services)
    linked: LinkedAccounts = _Linked(services)
    points: CommunityScope = CommunityPoints(services)
    return {SharedSanctions: peers, LinkedAccounts: linked, CommunityScope: points}


async def _startup(services: Services) -> None:
    config = FEATURE.config if isinstance(FEATURE.config, cas.CommunityConfig) else cas.CommunityConfig()
    cas.build_checker(services, config.community)


async def _shutdown(services: Services) -> None:
    await cas.stop(services)


FEATURE = Feature(
    name="community",
    router=router,
    settings=CommunitySettings,
    config_model=cas.CommunityConfig,
    startup=_startup,
    shutdown=_shutdown,
    provides=_ports,
    requires=(MemberSanctions,),
    # An unlinked account takes back its share of the wallet it shared (the check-in feature).
    uses=(AccountLinkWatcher,),
)
