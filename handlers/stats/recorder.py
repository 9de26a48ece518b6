"""The stats feature's share of the per-message path: sums in memory, one write per flush.

``note_message`` and ``note_membership`` only touch dictionaries; ``flush`` (run by the core's
batcher every second and at shutdown) writes everything in one transaction. Replies received
are kept by the replied-to account's platform id and turned into member ids once per flush.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from bot.batcher import write_isolated
from storage.stats import Batch, StatsRepo

log = logging.getLogger(__name__)

#: Retained texts are cut to this many characters: hot words need words, not essays, and a
#: garbled megabyte must not end up in the database.
MAX_TEXT = 500


class Recorder:
    """Accumulates hot-path counters between flushes."""

    def __init__(self, repo: StatsRepo) -> None:
        self.repo = repo
        self._batch = Batch.empty()
        #: (group, replied-to user id, day) → replies received
        self._received: dict[tuple[int, str, date], int] = defaultdict(int)
        self.messages_seen = 0

    def note_message(
        self,
        *,
        group_id: int,
        member_id: int,
        at: datetime,
        day: date,
        hour: int,
        reply_to_user: str | None,
        to_bot: bool,
        text: str | None,
    ) -> None:
        """Count one plain group message (no I/O)."""
        b = self._batch
        self.messages_seen += 1
        key = (group_id, day, hour)
        b.hourly[key] = b.hourly.get(key, 0) + 1
        prev = b.last_post.get(member_id)
        if prev is None or at > prev[1]:
            b.last_post[member_id] = (group_id, at)
        if to_bot:
            mkey = (group_id, member_id, day)
            r, t = b.member_daily.get(mkey, (0, 0))
            b.member_daily[mkey] = (r, t + 1)
        elif reply_to_user is not None:
            self._received[(group_id, reply_to_user, day)] += 1
        if text:
            b.texts.append((group_id, member_id, at, text[:MAX_TEXT]))

    def note_membership(self, *, group_id: int, day: date, joined: bool) -> None:
        """Count a join or a leave (no I/O)."""
        j, lv = self._batch.joins.get((group_id, day), (0, 0))
        self._batch.joins[(group_id, day)] = (j + 1, lv) if joined else (j, lv + 1)

    def discard_texts(self, group_id: int) -> None:
        """Drop a group's texts that wait for the next flush (keeping text was turned off)."""
        self._batch.texts = [t for t in self._batch.texts if t[0] != group_id]

    @property
    def pending(self) -> bool:
        """True when something waits to be written."""
        return bool(self._batch) or bool(self._received)

    async def flush(self) -> None:
        """Write what was collected.

        An item the database refuses (say, a retained text holding a character it cannot
        encode) is logged and dropped alone and the rest is written; what the database could
        not take at all (locked, away) is put back for the next flush.
        """
        if not self.pending:
            return
        batch, received = self._batch, self._received
        self._batch, self._received = Batch.empty(), defaultdict(int)
        by_group: dict[int, set[str]] = defaultdict(set)
        for g, user, _d in received:
            by_group[g].add(user)
        for g, users in by_group.items():
            ids: dict[str, int] = {}

            async def resolve(part: Sequence[str], g: int = g, ids: dict[str, int] = ids) -> None:
                ids.update(await self.repo.resolve_users(g, set(part)))

            if await write_isolated("stats users", sorted(users), resolve):
                self._merge_back(batch, received)  # the database is away: try it all again later
                return
            for (gg, user, d), n in received.items():
                if gg != g or user not in ids:
                    continue
                mkey = (g, ids[user], d)
                r, t = batch.member_daily.get(mkey, (0, 0))
                batch.member_daily[mkey] = (r + n, t)

        async def write(part: Sequence[_Item]) -> None:
            await self.repo.record(_batch_of(part))

        left = await write_isolated("stats", _items(batch), write)
        if left:
            self._merge_back(_batch_of(left), {})

    def _merge_back(self, batch: Batch, received: dict[tuple[int, str, date], int]) -> None:
        cur = self._batch
        for k, n in batch.hourly.items():
            cur.hourly[k] = cur.hourly.get(k, 0) + n
        for m, (g, at) in batch.last_post.items():
            prev = cur.last_post.get(m)
            if prev is None or at > prev[1]:
                cur.last_post[m] = (g, at)
        for jk, (j, lv) in batch.joins.items():
            cj, cl = cur.joins.get(jk, (0, 0))
            cur.joins[jk] = (cj + j, cl + lv)
        for mk, (r, t) in batch.member_daily.items():
            cr, ct = cur.member_daily.get(mk, (0, 0))
            cur.member_daily[mk] = (cr + r, ct + t)
        cur.texts[:0] = batch.texts
        for k2, n in received.items():
            self._received[k2] += n


#: One entry of a batch: (field, key, value); texts have no key.
_Item = tuple[str, Any, Any]


def _items(batch: Batch) -> list[_Item]:
    """A batch as a list, so a flush can write it in parts and isolate an item it cannot."""
    items: list[_Item] = []
    for name in ("hourly", "last_post", "member_daily", "joins"):
        items.extend((name, k, v) for k, v in getattr(batch, name).items())
    items.extend(("texts", None, t) for t in batch.texts)
    return items


def _batch_of(items: Sequence[_Item]) -> Batch:
    """The inverse of ``_items`` for any part of it."""
    batch = Batch.empty()
    for name, key, value in items:
        if name == "texts":
            batch.texts.append(value)
        else:
            getattr(batch, name)[key] = value
    return batch
