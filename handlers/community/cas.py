"""Newcomers checked against Combot Anti-Spam (CAS) online, opt-in per chat.

The join handler only starts a background task and returns: the welcome, captcha and every
other join listener run at once, whatever CAS does. When CAS answers "listed", the account is
banned through the moderation feature (``MemberSanctions``: recorded and audited like a
moderator's ``/ban``) and the moderators get one alert. A slow, unreachable or garbled CAS
lets the member in (logged). CAS lists Telegram accounts only, so other platforms are skipped.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from bot.cas import DEFAULT_URL, CasChecker, CasVerdict, cas_user_id
from bot.messages import OutgoingMessage
from bot.ports import MemberSanctions
from bot.services import Services
from handlers.community.peers import CommunityPeers
from handlers.community.state import chat_name, get_state
from storage.models import Group

log = logging.getLogger(__name__)

#: Who the audit trail names for a CAS ban.
CAS_ACTOR = "cas"
#: The audit reason; the alert links the public record.
CAS_REASON = "CAS: listed by Combot Anti-Spam (cas.chat)"


class CasSection(BaseModel):
    """``[community]`` keys for the CAS lookup (the per-chat switch is ``community.cas_check``)."""

    model_config = ConfigDict(extra="forbid")

    cas_url: str = Field(default=DEFAULT_URL, pattern=r"^https?://", description="CAS's check endpoint")
    cas_timeout_seconds: float = Field(default=3.0, gt=0, le=30, description="longest wait for CAS's answer")
    cas_cache_minutes: int = Field(
        default=60, ge=1, le=7 * 24 * 60, description="how long an answer is reused"
    )


class CommunityConfig(BaseModel):
    """The feature's config model: the app fills it from the ``[community]`` section."""

    model_config = ConfigDict(extra="forbid")

    community: CasSection = Field(default_factory=CasSection)


def build_checker(services: Services, section: CasSection) -> None:
    """Create the feature's CAS checker from the config (at start)."""
    get_state(services).cas = CasChecker(
        services.clock,
        url=section.cas_url,
        timeout=section.cas_timeout_seconds,
        ttl=timedelta(minutes=section.cas_cache_minutes),
    )


def watch(services: Services, group: Group, user_id: str, name: str) -> None:
    """Check a newcomer against CAS in the background; returns at once."""
    state = get_state(services)
    cas_id = cas_user_id(group.platform, user_id)
    if cas_id is None or state.cas is None:
        return
    task = asyncio.get_running_loop().create_task(
        _check(services, state.cas, group, user_id, name, cas_id), name=f"cas-check-{cas_id}"
    )
    state.cas_tasks.add(task)  # a reference, or the task may be collected mid-run
    task.add_done_callback(state.cas_tasks.discard)


async def _check(
    services: Services, checker: CasChecker, group: Group, user_id: str, name: str, cas_id: str
) -> None:
    try:
        if await checker.check(cas_id) is not CasVerdict.BANNED:
            return
        log.info("account %s joined group %s and is listed by CAS: banning", cas_id, group.id)
        sanctions = services.ports.get(MemberSanctions)
        banned = await sanctions.ban(group, user_id, name, CAS_REASON, CAS_ACTOR)
        key = "community.cas.alert" if banned else "community.cas.alert_failed"
        lang = group.language
        lines = [services.i18n.t(lang, key, member=name, id=cas_id, chat=chat_name(group))]
        # Like any ban here, it applies in the community's other chats that take shared bans,
        # to the account on each chat's platform (linked accounts too): one alert for all.
        reached: list[str] = []
        refused: list[str] = []
        for peer, peer_user in await CommunityPeers(services).peers(group, user_id):
            done = await sanctions.ban(peer, peer_user, name, CAS_REASON, CAS_ACTOR)
            (reached if done else refused).append(chat_name(peer))
        if reached:
            lines.append(services.i18n.t(lang, "community.cas.shared", chats=", ".join(reached)))
        if refused:
            lines.append(services.i18n.t(lang, "community.cas.shared_failed", chats=", ".join(refused)))
        await services.alerts.notify(group, OutgoingMessage.of("\n".join(lines)))
    except asyncio.CancelledError:
        raise
    except Exception:
        # A background task has nobody to report to: log it, the bot goes on.
        log.exception("CAS check of %s in group %s failed", cas_id, group.id)


async def settle(services: Services) -> None:
    """Wait for the CAS checks in flight (shutdown, and tests that look at their outcome)."""
    tasks = list(get_state(services).cas_tasks)
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)


async def stop(services: Services) -> None:
    """Cancel the CAS checks in flight: a stopping bot bans nobody later."""
    tasks = list(get_state(services).cas_tasks)
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)
