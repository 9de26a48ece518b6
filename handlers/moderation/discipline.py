"""The ``MemberDiscipline`` port: Warn and Mute from the dashboard's member page.

The same steps as ``/warn`` and ``/mute`` (``_warn`` and the warning ladder; ``sanction`` with
the group's default duration), audited as the moderator, and the same reply posted in the group
when the bot is connected to it, so members see what a moderator did wherever it was done.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.errors import QunyouError
from bot.messages import OutgoingMessage, Part, Text, render_plain
from bot.ports import DeskRefused
from bot.roles import Role
from handlers.moderation.plans import _ladder, _minutes, _warn
from handlers.moderation.sanctions import Shared, sanction
from handlers.moderation.service import WARNING_MAX, Step, get_state, human_duration
from handlers.moderation.settings import ModerationSettings
from handlers.moderation.targets import _ref

if TYPE_CHECKING:
    from bot.events import UserRef
    from bot.services import Services
    from storage.models import Group, Member

log = logging.getLogger(__name__)

#: Longest mute the page takes (a year), as a guard on the form's number.
MAX_MUTE_MINUTES = 525_600


class Discipline:
    """``MemberDiscipline`` over the feature's warnings and sanctions."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def warnings(self, group: Group, member: Member) -> int:
        """Active warnings, as ``/warns`` counts them."""
        rows = await get_state(self._services).repos.sanctions.active_warnings(
            member.id, self._services.clock.now()
        )
        return len(rows)

    async def _check_target(self, group: Group, member: Member, actor: UserRef) -> None:
        """What ``/warn`` and ``/mute`` refuse: the bot, oneself, a moderator."""
        services = self._services
        if member.is_bot:
            raise DeskRefused("moderation.target_bot")
        if member.user_id == actor.user_id:
            raise DeskRefused("moderation.target_self")
        adapter = services.adapters.get(group.adapter)
        if adapter is None:  # `bot web`: the grants (/promote) are the roles it can see
            role = (await services.permissions.overrides(group.id)).get(member.user_id, Role.MEMBER)
        else:
            chat = services.directory.chat_for(group)
            role = await services.permissions.role_of(adapter, chat, group.id, member.user_id)
        if role >= Role.MODERATOR:
            raise DeskRefused("moderation.target_moderator")

    async def warn(self, group: Group, member: Member, reason: str, actor: UserRef, lang: str) -> str:
        """``/warn``: a warning, then whatever the ladder does at this count."""
        services = self._services
        await self._check_target(group, member, actor)
        note = reason.strip()[:200] or None
        count = await _warn(services, group, member, None, note, actor.user_id, None)
        steps: list[Step] = []
        ladder = await _ladder(services, group, member, count, actor.user_id, steps, None)

        def reply(in_lang: str) -> tuple[Part, ...]:
            i18n = services.i18n
            parts = list(
                i18n.parts(
                    in_lang,
                    "moderation.warned",
                    member=_ref(services, group, member),
                    count=min(count, WARNING_MAX),
                    max=WARNING_MAX,
                )
            )
            if note:
                parts.append(Text(" " + i18n.t(in_lang, "moderation.reason", reason=note)))
            if ladder:
                parts.append(Text(" " + i18n.t(in_lang, ladder)))
            return tuple(parts)

        await self._announce(group, reply(group.language))
        return render_plain(reply(lang))

    async def mute(
        self, group: Group, member: Member, minutes: int | None, reason: str, actor: UserRef, lang: str
    ) -> str:
        """``/mute``: needs the platform, so only the dashboard the running bot serves can."""
        services = self._services
        if group.adapter not in services.adapters:
            raise DeskRefused("web.desk.needs_bot")
        await self._check_target(group, member, actor)
        if minutes is not None and not 1 <= minutes <= MAX_MUTE_MINUTES:
            raise DeskRefused("web.members.bad_minutes", max=MAX_MUTE_MINUTES)
        duration: timedelta = (
            timedelta(minutes=minutes)
            if minutes is not None
            else _minutes((await services.settings.of(group.id, ModerationSettings)).default_mute_minutes)
        )
        steps: list[Step] = []
        note = reason.strip()[:200] or None
        ok = await sanction(
            services, group, member, "mute", duration, note, actor.user_id, steps, shared=Shared()
        )
        if not ok:
            why = steps[-1].why if steps else "unknown"
            raise DeskRefused("moderation.action_failed", what=services.i18n.t(lang, f"moderation.why.{why}"))

        def reply(in_lang: str) -> tuple[Part, ...]:
            return services.i18n.parts(
                in_lang,
                "moderation.muted",
                member=_ref(services, group, member),
                duration=human_duration(services, in_lang, duration.total_seconds()),
            )

        await self._announce(group, reply(group.language))
        return render_plain(reply(lang))

    async def _announce(self, group: Group, parts: tuple[Part, ...]) -> None:
        """Post the chat's reply in the group when connected to it (a failure is logged: the
        warning or mute is already recorded)."""
        services = self._services
        if group.adapter not in services.adapters:
            return
        try:
            await services.send(
                services.directory.chat_for(group), OutgoingMessage(parts=parts), group.language
            )
        except QunyouError as exc:
            log.warning("could not tell group %s about a dashboard action: %s", group.id, exc)
