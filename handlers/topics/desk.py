"""The ``TopicBankDesk`` port: the topic bank and its suggestions on the dashboard's Content page.

Approving a suggestion is one function (``decide_suggestion``) shared with the chat's Approve /
Reject buttons, so both credit the author the same way. Adding and removing topics check what
``/topic add|del`` check. Every action is written to the group's audit log as the moderator.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bot.content_values import ContentSuggestion, ContentTopic
from bot.points_access import award
from bot.ports import AuditTrail, DeskRefused
from bot.scheduler import Cron, next_fire
from handlers.topics.bank import starter_topics
from handlers.topics.commands import MAX_TOPIC
from handlers.topics.settings import TopicsSettings
from handlers.topics.state import topics_state

if TYPE_CHECKING:
    from bot.events import UserRef
    from bot.services import Services
    from storage.models import Group
    from storage.topics import Suggestion, Topic


async def decide_suggestion(
    services: Services, group: Group, suggestion_id: int, approve: bool, by: str, now: datetime
) -> tuple[Suggestion, Topic | None, bool] | None:
    """Approve (adding the topic, crediting its author) or reject a pending suggestion, once.

    Returns (suggestion, new topic or None, whether points were credited); None when it was
    already decided.
    """
    decided = await topics_state(services).topics.decide(suggestion_id, approve, by, now)
    if decided is None:
        return None
    suggestion, topic = decided
    if topic is None or suggestion.member_id is None:
        return suggestion, topic, False
    author = await services.members.get(suggestion.member_id)
    if author is None:
        return suggestion, topic, False
    points = (await services.settings.of(group.id, TopicsSettings)).suggest_points
    credited = points > 0 and await award(
        services,
        author,
        points,
        "topic",
        # The ledger reason is shown to the member by /points: in the group's language.
        services.i18n.t(group.language, "topics.reason_suggestion", id=suggestion.id),
        chat=services.directory.chat_for(group),
    )
    return suggestion, topic, credited


class TopicBankPort:
    """The topic bank for the dashboard, over the feature's repository."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def topics(self, group: Group, *, offset: int, limit: int) -> tuple[list[ContentTopic], int]:
        """One page of the bank (seeded first, as ``/topic list`` does)."""
        repo = topics_state(self.services).topics
        await repo.seed(group.id, starter_topics(group.language), self.services.clock.now())
        rows = await repo.bank(group.id, limit=limit, offset=offset)
        return [ContentTopic(t.id, t.text, t.source, t.uses) for t in rows], await repo.count(group.id)

    async def daily(self, group: Group, now: datetime) -> tuple[str | None, datetime | None]:
        """The daily topic's local time and next run (None, None when it is off)."""
        hhmm = (await topics_state(self.services).topics.state(group.id)).daily_time
        if hhmm is None:
            return None, None
        hour, minute = hhmm.split(":")
        trigger = Cron(tz=group.timezone, minute=str(int(minute)), hour=str(int(hour)))
        return hhmm, next_fire(trigger, now)

    async def suggestions(self, group: Group) -> list[ContentSuggestion]:
        """Pending suggestions, oldest first, with their author's name."""
        out = []
        for sug, at in await topics_state(self.services).topics.pending(group.id):
            author = await self.services.members.get(sug.member_id) if sug.member_id is not None else None
            out.append(ContentSuggestion(sug.id, sug.text, author.display_name if author else None, at))
        return out

    async def add(self, group: Group, text: str, actor: UserRef, now: datetime) -> int:
        """``/topic add``: not empty, not too long, not already in the bank."""
        text = text.strip()
        if not text:
            raise DeskRefused("topics.err_empty")
        if len(text) > MAX_TOPIC:
            raise DeskRefused("topics.err_too_long", limit=MAX_TOPIC, length=len(text))
        repo = topics_state(self.services).topics
        await repo.seed(group.id, starter_topics(group.language), now)
        if await repo.find_text(group.id, text) is not None:
            raise DeskRefused("topics.err_duplicate")
        member = await self.services.members.find(group.id, actor.user_id)
        topic = await repo.add(group.id, text, "custom", member.id if member else None, now)
        await self._audit(group, now, actor, "topic_add", f"topic={topic.id}")
        return topic.id

    async def remove(self, group: Group, topic_id: int, actor: UserRef, now: datetime) -> None:
        """``/topic del``."""
        if not await topics_state(self.services).topics.delete(group.id, topic_id):
            raise DeskRefused("topics.err_unknown", id=topic_id)
        await self._audit(group, now, actor, "topic_delete", f"topic={topic_id}")

    async def decide(
        self, group: Group, suggestion_id: int, approve: bool, actor: UserRef, now: datetime
    ) -> tuple[int | None, bool]:
        """Approve / Reject, as the buttons in the moderators' chat."""
        sug = await topics_state(self.services).topics.get_suggestion(suggestion_id)
        if sug is None or sug.group_id != group.id:
            raise DeskRefused("topics.err_unknown_suggestion", id=suggestion_id)
        decided = await decide_suggestion(self.services, group, suggestion_id, approve, actor.user_id, now)
        if decided is None:
            raise DeskRefused("topics.already_decided", id=suggestion_id)
        _sug, topic, credited = decided
        action = "topic_approve" if approve else "topic_reject"
        await self._audit(group, now, actor, action, f"suggestion={suggestion_id}")
        return (topic.id if topic else None), credited

    async def _audit(self, group: Group, now: datetime, actor: UserRef, action: str, detail: str) -> None:
        trail = self.services.ports.find(AuditTrail)
        if trail is not None:
            await trail.record(group.id, now, actor.user_id, action, detail)
