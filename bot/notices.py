"""Never amplify: public notices about sanctions are coalesced, and they give way to everything
else when the bot is already loud in a group.

* The first notice of a kind ("muted for flooding", "removed: advertising") in a group goes out
  at once, as before. More of the same kind within ``COALESCE`` are held and go out as **one**
  summary when that window closes ("3 more members muted: flooding …"), with the names as
  mentions that do not ping anyone.
* Every post the bot makes into a group is counted (``Services.send`` calls ``posted``). When a
  group has had ``CAP_PER_MINUTE`` bot posts in the last minute, notices are held and merged
  into the pending summary instead of being sent; command replies and other posts are never
  held here (they come first). A held summary goes out once the minute has room again.

Summaries are sent from the batcher's flush, which under a clock that moves only when told
(console, tests) runs as that clock passes: a console ``advance`` fires a summary that falls due.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bot.clock import Clock
from bot.errors import QunyouError
from bot.events import ChatRef, SentMessage, UserRef
from bot.i18n import I18n
from bot.messages import Mention, OutgoingMessage, Part, Text

log = logging.getLogger(__name__)

#: Notices of one kind within this time after the first become one summary.
COALESCE = timedelta(seconds=5)
#: Bot posts per group per minute past which notices wait (Telegram allows about 20).
CAP_PER_MINUTE = 12
#: Names a summary mentions; the rest are counted.
NAMES_MAX = 10
MINUTE = timedelta(minutes=1)


@dataclass
class _Batch:
    chat: ChatRef
    lang: str
    summary_key: str
    values: dict[str, str]
    due: datetime
    members: dict[str, UserRef] = field(default_factory=dict)


class NoticeHost(Protocol):
    """What notices need of the services (``bot.services.Services`` is one): typed as a protocol
    so this module never imports the services bag that holds ``Notices``."""

    @property
    def clock(self) -> Clock:
        """The clock (virtual in tests and the console)."""
        ...

    @property
    def i18n(self) -> I18n:
        """Translations."""
        ...

    async def send(self, chat: ChatRef, message: OutgoingMessage, lang: str | None = None) -> SentMessage:
        """Post through the chat's adapter."""
        ...


def _key(chat: ChatRef) -> str:
    return f"{chat.adapter}:{chat.channel_id}"


class Notices:
    """Coalesces public sanction notices and keeps them under the per-group cap."""

    def __init__(self, services: NoticeHost, language: str) -> None:
        self._services = services
        self._language = language
        #: (chat, kind) → when the coalescing window opened by the last notice sent closes.
        self._open: dict[tuple[str, str], datetime] = {}
        self._batches: dict[tuple[str, str], _Batch] = {}
        self._posts: dict[str, deque[datetime]] = {}
        #: Notices merged into a summary instead of posted alone (for the bench and /status).
        self.coalesced = 0

    def posted(self, chat: ChatRef) -> None:
        """Count one bot post into a group chat."""
        if chat.is_private:
            return
        now = self._services.clock.now()
        stamps = self._posts.setdefault(_key(chat), deque())
        stamps.append(now)
        self._trim(stamps, now)

    def recent(self, chat: ChatRef) -> int:
        """Bot posts into ``chat`` in the last minute."""
        stamps = self._posts.get(_key(chat))
        if not stamps:
            return 0
        self._trim(stamps, self._services.clock.now())
        return len(stamps)

    @staticmethod
    def _trim(stamps: deque[datetime], now: datetime) -> None:
        while stamps and stamps[0] <= now - MINUTE:
            stamps.popleft()

    async def notice(
        self,
        chat: ChatRef,
        message: OutgoingMessage,
        *,
        kind: str,
        member: UserRef,
        summary_key: str,
        values: Mapping[str, str] | None = None,
        lang: str | None = None,
    ) -> bool:
        """Post ``message`` now, or fold ``member`` into the pending summary of ``kind``.

        ``summary_key`` names the summary's text; it gets ``count`` and ``values``. Returns True
        when the notice itself went out now.
        """
        now = self._services.clock.now()
        key = (_key(chat), kind)
        window = self._open.get(key)
        batch = self._batches.get(key)
        quiet = window is None or window <= now
        if batch is None and quiet and self.recent(chat) < CAP_PER_MINUTE:
            self._open[key] = now + COALESCE
            try:
                await self._services.send(chat, message, lang)
            except QunyouError as exc:
                log.warning("notice in %s failed: %s", chat.channel_id, exc)
            return True
        if batch is None:
            due = window if window is not None and window > now else now + COALESCE
            batch = self._batches[key] = _Batch(chat, lang or "", summary_key, dict(values or {}), due)
        batch.members.setdefault(member.user_id, member)
        self.coalesced += 1
        return False

    async def flush(self) -> None:
        """Send the summaries that fell due (the batcher calls this every second)."""
        if not self._batches:
            return
        now = self._services.clock.now()
        for key, batch in list(self._batches.items()):
            if batch.due > now:
                continue
            if self.recent(batch.chat) >= CAP_PER_MINUTE:
                continue  # still loud: the summary waits for room (and keeps collecting)
            del self._batches[key]
            self._open[key] = now + COALESCE
            try:
                await self._services.send(batch.chat, self._summary(batch), batch.lang or None)
            except QunyouError as exc:
                log.warning("notice summary in %s failed: %s", batch.chat.channel_id, exc)
        for key in [k for k, end in self._open.items() if end <= now and k not in self._batches]:
            del self._open[key]

    def _summary(self, batch: _Batch) -> OutgoingMessage:
        i18n = self._services.i18n
        lang = batch.lang or self._language
        people = list(batch.members.values())
        parts: list[Part] = [Text(i18n.t(lang, batch.summary_key, count=len(people), **batch.values) + " ")]
        for i, user in enumerate(people[:NAMES_MAX]):
            if i:
                parts.append(Text(" "))
            parts.append(Mention(user))
        if len(people) > NAMES_MAX:
            parts.append(Text(" " + i18n.t(lang, "core.notices.and_more", count=len(people) - NAMES_MAX)))
        # notify=(): a list of names must not ping them all (nor draw the wave back in).
        return OutgoingMessage(parts=tuple(parts), notify=())
