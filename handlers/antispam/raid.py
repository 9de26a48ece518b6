"""Raid mode: a surge of joins or of spam accounts switches the group into a defensive state.

While a raid is on: joiners are muted at once and their welcomes and badge announcements are
held (other features ask the ``NewcomerGate`` port); whatever the wave posts is deleted and its
senders banned; the group gets one notice when the raid starts and one when it ends, the
moderators one alert, edited in place with the running count, with buttons to ban the whole
wave, release the genuine newcomers and end the raid. It ends after a quiet period without a
surge (or at the end of a ``/raid on`` duration); the newcomers left get one combined welcome.

A raid survives a restart: the book is written by the batcher (one transaction a second, not a
write per raider) to ``antispam_raids``/``antispam_raid_joiners`` and read back at start; the
end check is a scheduler job, so it follows the virtual clock and survives too.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.errors import QunyouError
from bot.events import ChatRef, SentMessage, UserRef
from bot.messages import Button, Mention, OutgoingMessage, Part, Text
from bot.ports import AuditTrail
from bot.scheduler import At
from handlers.antispam.challenge import DATA_RAID, buttons, question
from handlers.antispam.sent import sent_json, sent_of
from handlers.antispam.settings import AntispamSettings
from handlers.antispam.state import get_state
from storage.antispam import RaidJoinerRow, RaidRow
from storage.models import Group, Job

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

JOB_END = "antispam-raid-end"
JOB_WELCOME = "antispam-welcome"
RAID_KEY = "antispam.raids"
#: How long a raid's joiner is muted at most (the raid's end or a release lifts it sooner).
RAID_MUTE = timedelta(days=7)
#: The moderators' alert is edited at most this often while the count runs (rate limits).
EDIT_GAP = timedelta(seconds=5)


@dataclass
class Joiner:
    """Someone who joined during the raid."""

    user: UserRef
    member_id: int
    banned: bool = False
    released: bool = False
    #: Wrong answers to the raid's standing challenge.
    wrong: int = 0


@dataclass
class Raid:
    """One raid on one group."""

    number: int
    group_id: int
    started_at: datetime
    reason: str
    #: Last surge (join or spam account); the quiet period counts from here.
    last_surge: datetime
    #: Set by ``/raid on DURATION``: the raid ends then, surge or not.
    until: datetime | None = None
    #: Accounts banned during the raid.
    banned: set[str] = field(default_factory=set)
    joiners: dict[str, Joiner] = field(default_factory=dict)
    alerts: list[SentMessage] = field(default_factory=list)
    last_edit: datetime | None = None
    dirty: bool = False
    #: The public notice, and the nonce and answer of the standing challenge it carries.
    notice: SentMessage | None = None
    challenge: tuple[str, int] | None = None
    #: Removed before the last restart (``banned`` holds only the accounts seen since).
    removed_before: int = 0
    #: Joiners whose row must be written with the next flush.
    changed: set[str] = field(default_factory=set)
    #: True while the alert shows the "Release the genuine" tick list instead of the summary.
    listing: bool = False
    first_written: bool = False  # its first joiner, written at once (``raid_restart``)

    @property
    def removed(self) -> int:
        """How many accounts the raid removed so far."""
        return self.removed_before + len(self.banned)


@dataclass
class RaidBook:
    """Raids in progress and the surge counters that start them."""

    raids: dict[int, Raid] = field(default_factory=dict)
    joins: dict[int, deque[datetime]] = field(default_factory=dict)
    caught: dict[int, deque[datetime]] = field(default_factory=dict)
    numbers: int = 0
    #: Newcomers of a join burst too small for a raid, greeted together when it settles.
    pending: dict[int, dict[str, Joiner]] = field(default_factory=dict)
    #: Groups whose raid must be written with the next flush, and whose raid ended.
    dirty: set[int] = field(default_factory=set)
    ended: set[int] = field(default_factory=set)
    #: Workers sharing PostgreSQL: a new raid's row is claimed first (``raid_sync.claim``); it
    #: returns the raid another worker started (and announced) when that claim won instead.
    claim: Callable[[Group, Raid], Awaitable[Raid | None]] | None = None
    _flush_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def touch(self, raid: Raid, *user_ids: str) -> None:
        """Mark a raid (and some of its joiners) for the next flush."""
        self.dirty.add(raid.group_id)
        raid.changed.update(user_ids)

    def surge(
        self, counter: dict[int, deque[datetime]], group_id: int, at: datetime, n: int, span: timedelta
    ) -> int:
        """Count ``n`` events at ``at``; returns the events within ``span`` before it."""
        seen = counter.setdefault(group_id, deque())
        seen.extend([at] * n)
        while seen and seen[0] <= at - span:
            seen.popleft()
        return len(seen)


def book(services: Services) -> RaidBook:
    """The raid book (in ``services.state``)."""
    found = services.state.get(RAID_KEY)
    if not isinstance(found, RaidBook):
        found = RaidBook()
        services.state[RAID_KEY] = found
    return found


class Gate:
    """The ``NewcomerGate`` port: per-member announcements wait while a group is raided."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def holding(self, group_id: int) -> bool:
        """True while a raid is on in the group, or a burst of joins is being greeted together."""
        raids = book(self._services)
        return group_id in raids.raids or bool(raids.pending.get(group_id))

    async def verifying(self, group_id: int, user_id: str) -> bool:
        """True while the newcomer has a join challenge of their own open."""
        return (group_id, user_id) in get_state(self._services).verifying


async def _rules(services: Services, group: Group) -> AntispamSettings:
    return await services.settings.of(group.id, AntispamSettings)


async def start(
    services: Services, group: Group, reason: str, *, until: datetime | None = None
) -> Raid | None:
    """Start a raid (None when one is on already: a manual duration then replaces its end; an
    automatic start on one worker that another beat to it returns the other's raid)."""
    raids = book(services)
    now = services.clock.now()
    current = raids.raids.get(group.id)
    if current is not None:
        if until is not None:
            current.until = until
        return None
    raids.numbers += 1
    raid = Raid(raids.numbers, group.id, now, reason, now, until=until)
    # The burst before the raid is greeted (if genuine) with the raid's newcomers, not apart.
    raid.joiners.update({k: _released(j) for k, j in raids.pending.pop(group.id, {}).items()})
    await services.scheduler.cancel(f"{JOB_WELCOME}:{group.id}")
    if raids.claim is not None and (other := await raids.claim(group, raid)) is not None:
        return None if reason == "manual" else other  # another worker's raid: one notice in all
    raids.raids[group.id] = raid
    raids.touch(raid, *raid.joiners)
    raid.notice = await _post(services, group, await _notice(services, group, raid))
    alerts = services.alerts
    if alerts is not None:
        try:
            raid.alerts = await alerts.notify(group, _alert_message(services, group, raid))
        except QunyouError as exc:
            log.warning("raid alert for group %s failed: %s", group.id, exc)
    await _audit(services, group, now, "raid-start", reason)
    await _plan_end(services, group, raid)
    await flush(services)  # at once: a crash must not leave its joiners muted with no raid to end
    return raid


async def _notice(services: Services, group: Group, raid: Raid) -> OutgoingMessage:
    """The raid's one public notice; with verification on it carries the standing challenge
    (never one challenge per joiner during a raid)."""
    i18n, lang = services.i18n, group.language
    text = i18n.t(lang, "antispam.raid.public_start")
    if (await _rules(services, group)).verification == "off":
        return OutgoingMessage.of(text)
    q = question(get_state(services).rng, lambda name: i18n.t(lang, f"antispam.verify.emoji.{name}"))
    raid.challenge = (q.nonce, q.answer)
    line = i18n.t(lang, "antispam.verify.standing") + " " + i18n.t(lang, q.key, **q.values)
    return OutgoingMessage.of(f"{text}\n\n{line}", buttons=buttons(f"{DATA_RAID}{group.id}:{raid.number}", q))


async def _plan_end(services: Services, group: Group, raid: Raid) -> None:
    quiet = timedelta(minutes=(await _rules(services, group)).raid_quiet_minutes)
    due = raid.until if raid.until is not None else raid.last_surge + quiet
    await services.scheduler.schedule(
        f"{JOB_END}:{group.id}", JOB_END, At(due), {"raid": raid.number}, group_id=group.id
    )


def _released(joiner: Joiner) -> Joiner:
    # Joined before the raid: never muted by it, so nothing to release or to lift at the end.
    joiner.released = True
    return joiner


async def run_welcome_job(services: Services, job: Job, fire: datetime) -> None:
    """Greet the newcomers of a join burst that did not become a raid, in one message."""
    if job.group_id is None:
        return
    waiting = book(services).pending.pop(job.group_id, {})
    group = await services.groups.get(job.group_id)
    if group is not None:
        await welcome(services, group, list(waiting.values()))


async def welcome(services: Services, group: Group, joiners: list[Joiner]) -> None:
    """One combined welcome for the newcomers not banned (mentions that do not ping)."""
    genuine = [j for j in joiners if not j.banned]
    if not genuine:
        return
    i18n, lang = services.i18n, group.language
    parts: list[Part] = [Text(i18n.t(lang, "antispam.raid.welcome_many") + " ")]
    for i, joiner in enumerate(genuine[:50]):
        if i:
            parts.append(Text(" "))
        parts.append(Mention(joiner.user))
    if len(genuine) > 50:
        parts.append(Text(" " + i18n.t(lang, "antispam.raid.and_more", count=len(genuine) - 50)))
    # notify=(): a list of fifty names must not ping fifty people (or the raid's accounts).
    await _post(services, group, OutgoingMessage(parts=tuple(parts), notify=()))


async def run_end_job(services: Services, job: Job, fire: datetime) -> None:
    """End the raid when it has been quiet long enough (or its duration is over); else look again
    when the quiet period after the latest surge is over."""
    if job.group_id is None:
        return
    raid = book(services).raids.get(job.group_id)
    group = await services.groups.get(job.group_id)
    if raid is None or group is None or job.payload.get("raid") != raid.number:
        return  # a raid that ended already, or one from before a restart
    now = services.clock.now()
    quiet = timedelta(minutes=(await _rules(services, group)).raid_quiet_minutes)
    if raid.until is not None and now >= raid.until:
        await end(services, group, "duration")
    elif raid.until is None and now >= raid.last_surge + quiet:
        await end(services, group, "quiet")
    else:
        await flush_alert(services, group, force=True)
        await _plan_end(services, group, raid)


async def end(services: Services, group: Group, why: str) -> Raid | None:
    """End the raid: the closing notice, the final alert, the newcomers' one combined welcome."""
    raids = book(services)
    raid = raids.raids.pop(group.id, None)
    if raid is None:
        return None
    raids.dirty.discard(group.id)
    raids.ended.add(group.id)
    await services.scheduler.cancel(f"{JOB_END}:{group.id}")
    i18n, lang = services.i18n, group.language
    await _post(
        services, group, OutgoingMessage.of(i18n.t(lang, "antispam.raid.public_end", count=raid.removed))
    )
    if raid.notice is not None and raid.challenge is not None:
        # The standing challenge is over: its buttons go, the notice stays.
        notice = OutgoingMessage.of(i18n.t(lang, "antispam.raid.public_start"))
        adapter_of_notice = services.adapters.get(raid.notice.chat.adapter)
        if adapter_of_notice is not None:
            await _quietly(adapter_of_notice.edit(raid.notice.chat, raid.notice.message_id, notice))
    await _edit_alerts(services, group, raid, ended=True)
    genuine = [j for j in raid.joiners.values() if not j.banned]
    adapter = services.adapters.get(group.adapter)
    chat = services.directory.chat_for(group)
    for joiner in genuine:
        if adapter is not None and not joiner.released:
            await _quietly(adapter.unmute(chat, joiner.user.user_id))
    await welcome(services, group, genuine)
    await _audit(services, group, services.clock.now(), "raid-end", f"{why} removed={raid.removed}")
    await flush(services)  # at once: its end job is gone, so a raid read back would never end
    return raid


async def joined(services: Services, group: Group, chat: ChatRef, user: UserRef, member_id: int) -> bool:
    """A join: counts toward a surge; during a raid the joiner is muted at once. True when the
    joiner joined a raid (their welcome is held)."""
    raids = book(services)
    now = services.clock.now()
    rules = await _rules(services, group)  # read once: a raid is a thousand joins
    count = raids.surge(raids.joins, group.id, now, 1, timedelta(seconds=rules.raid_seconds))
    raid = raids.raids.get(group.id)
    if raid is None and count >= rules.raid_joins:
        raid = await start(services, group, "joins")
    if raid is None:
        if count < rules.welcome_batch_joins:
            return False
        # A burst, not (yet) a raid: this newcomer is greeted with the others when it settles.
        waiting = raids.pending.setdefault(group.id, {})
        if not waiting:
            span = timedelta(seconds=rules.raid_seconds)
            await services.scheduler.schedule(
                f"{JOB_WELCOME}:{group.id}", JOB_WELCOME, At(now + span), {}, group_id=group.id
            )
        waiting[user.user_id] = Joiner(user, member_id)
        return True
    raid.last_surge = now
    raid.joiners[user.user_id] = Joiner(user, member_id)
    raids.touch(raid, user.user_id)
    adapter = services.adapters.get(group.adapter)
    if adapter is not None:
        # Bounded, not "until unmuted": Discord caps timeouts at 28 days; the raid's end lifts it.
        await _quietly(adapter.mute(chat, user.user_id, now + RAID_MUTE))
    if not raid.first_written:
        raid.first_written = True
        await flush(services)
    return True


async def caught(services: Services, group: Group, accounts: int) -> Raid | None:
    """Accounts the duplicate detector caught: counts toward a surge. Returns the raid, if any."""
    raids = book(services)
    now = services.clock.now()
    span = timedelta(seconds=(await _rules(services, group)).raid_seconds)
    count = raids.surge(raids.caught, group.id, now, accounts, span)
    raid = raids.raids.get(group.id)
    if raid is None and count >= (await _rules(services, group)).raid_spammers:
        raid = await start(services, group, "spam")
    if raid is not None:
        raid.last_surge = now
        raids.touch(raid)
    return raid


def removed(services: Services, group: Group, user_ids: list[str]) -> None:
    """Accounts banned during the raid (the running count), or out of a burst's welcome."""
    raids = book(services)
    for user_id in user_ids:
        waiting = raids.pending.get(group.id, {}).get(user_id)
        if waiting is not None:
            waiting.banned = True
    raid = raids.raids.get(group.id)
    if raid is None:
        return
    for user_id in user_ids:
        joiner = raid.joiners.get(user_id)
        if joiner is not None:
            joiner.banned = True
        raid.banned.add(user_id)
    raid.dirty = True
    raids.touch(raid, *user_ids)


async def flush_alert(services: Services, group: Group, *, force: bool = False) -> None:
    """Edit the moderators' alert with the running count, at most every ``EDIT_GAP``."""
    raid = book(services).raids.get(group.id)
    if raid is None or not raid.dirty:
        return
    now = services.clock.now()
    if not force and raid.last_edit is not None and now - raid.last_edit < EDIT_GAP:
        return
    await _edit_alerts(services, group, raid, ended=False)


async def _edit_alerts(services: Services, group: Group, raid: Raid, *, ended: bool) -> None:
    raid.last_edit, raid.dirty = services.clock.now(), False
    message = _alert_message(services, group, raid, ended=ended)
    for sent in raid.alerts:
        adapter = services.adapters.get(sent.chat.adapter)
        if adapter is not None:
            await _quietly(adapter.edit(sent.chat, sent.message_id, message))


#: Newcomers shown on the tick list at once (Discord fits 5 rows of 5 buttons; two rows are
#: kept for "release all" and "back").
LIST_MAX = 15


def waiting(raid: Raid) -> list[Joiner]:
    """The raid's newcomers still held: neither banned nor let in."""
    return [j for j in raid.joiners.values() if not j.banned and not j.released]


def _list_message(services: Services, group: Group, raid: Raid) -> OutgoingMessage:
    """The "Release the genuine" tick list: one button per held newcomer (pressing lets them
    in), then "release all" and "back"."""
    i18n, lang = services.i18n, group.language
    held = waiting(raid)
    data = f"as:raid:{group.id}:{raid.number}"
    text = i18n.t(lang, "antispam.raid.list", count=len(held), shown=min(len(held), LIST_MAX))
    people = [Button(f"☐ {j.user.display_name[:40]}", f"{data}:m{j.member_id}") for j in held[:LIST_MAX]]
    rows: list[tuple[Button, ...]] = [tuple(people[i : i + 5]) for i in range(0, len(people), 5)]
    last = [Button(i18n.t(lang, "antispam.raid.button_back"), f"{data}:back")]
    if held:
        last.insert(
            0, Button(i18n.t(lang, "antispam.raid.button_release_all", count=len(held)), f"{data}:all")
        )
    rows.append(tuple(last))
    return OutgoingMessage.of(text, buttons=tuple(rows))


def _alert_message(services: Services, group: Group, raid: Raid, *, ended: bool = False) -> OutgoingMessage:
    if raid.listing and not ended:
        return _list_message(services, group, raid)
    i18n, lang = services.i18n, group.language
    key = "antispam.raid.alert_ended" if ended else "antispam.raid.alert"
    text = i18n.t(
        lang,
        key,
        title=group.title or group.scope_id,
        reason=i18n.t(lang, f"antispam.raid.reason.{raid.reason}"),
        removed=raid.removed,
        waiting=len(waiting(raid)),
    )
    if ended:
        return OutgoingMessage.of(text)
    data = f"as:raid:{group.id}:{raid.number}"
    buttons = (
        (Button(i18n.t(lang, "antispam.raid.button_ban"), f"{data}:ban"),),
        (Button(i18n.t(lang, "antispam.raid.button_release"), f"{data}:release"),),
        (Button(i18n.t(lang, "antispam.raid.button_end"), f"{data}:end"),),
    )
    return OutgoingMessage.of(text, buttons=buttons)


async def ban_wave(services: Services, group: Group) -> int:
    """Ban every joiner of the raid not released or banned yet; returns how many."""
    raid = book(services).raids.get(group.id)
    adapter = services.adapters.get(group.adapter)
    if raid is None or adapter is None:
        return 0
    chat = services.directory.chat_for(group)
    targets = [j for j in raid.joiners.values() if not j.banned and not j.released]
    for joiner in targets:
        await _quietly(adapter.ban(chat, joiner.user.user_id, None))
    removed(services, group, [j.user.user_id for j in targets])
    await flush_alert(services, group, force=True)
    return len(targets)


async def show_list(services: Services, group: Group, listing: bool) -> None:
    """Switch the alert between its summary and the tick list."""
    raid = book(services).raids.get(group.id)
    if raid is None:
        return
    raid.listing, raid.dirty = listing, True
    await flush_alert(services, group, force=True)


async def release_one(services: Services, group: Group, member_id: int) -> bool:
    """Let one held newcomer in (a tick on the list); False when they are not held (any more)."""
    raid = book(services).raids.get(group.id)
    adapter = services.adapters.get(group.adapter)
    joiner = next((j for j in waiting(raid) if j.member_id == member_id), None) if raid else None
    if raid is None or joiner is None or adapter is None:
        return False
    await _quietly(adapter.unmute(services.directory.chat_for(group), joiner.user.user_id))
    joiner.released = True
    raid.dirty = True
    book(services).touch(raid, joiner.user.user_id)
    await flush_alert(services, group, force=True)
    return True


async def release(services: Services, group: Group) -> int:
    """Unmute the raid's joiners that posted nothing caught (they stay on probation)."""
    raid = book(services).raids.get(group.id)
    adapter = services.adapters.get(group.adapter)
    if raid is None or adapter is None:
        return 0
    chat = services.directory.chat_for(group)
    targets = waiting(raid)
    raid.listing = False
    for joiner in targets:
        await _quietly(adapter.unmute(chat, joiner.user.user_id))
        joiner.released = True
    raid.dirty = True
    book(services).touch(raid, *(j.user.user_id for j in targets))
    await flush_alert(services, group, force=True)
    return len(targets)


# -- persistence ------------------------------------------------------------------------------


async def flush(services: Services) -> None:
    """Write the raids that changed since the last flush (the batcher calls it every second)."""
    raids = book(services)
    async with raids._flush_lock:
        if not raids.dirty and not raids.ended:
            return
        ended, raids.ended = sorted(raids.ended), set()
        rows: list[RaidRow] = []
        for group_id in sorted(raids.dirty):
            raid = raids.raids.get(group_id)
            if raid is None:
                continue
            changed, raid.changed = raid.changed, set()
            notice = None
            if raid.notice is not None:
                notice = json.dumps({**sent_json(raid.notice), "challenge": raid.challenge})
            rows.append(
                RaidRow(
                    group_id,
                    raid.number,
                    raid.started_at,
                    raid.reason,
                    raid.last_surge,
                    raid.until,
                    raid.removed,
                    notice,
                    json.dumps([sent_json(a) for a in raid.alerts]),
                    tuple(
                        RaidJoinerRow(
                            j.member_id, j.user.user_id, j.user.display_name, j.banned, j.released, j.wrong
                        )
                        for uid in sorted(changed)
                        if (j := raid.joiners.get(uid)) is not None
                    ),
                )
            )
        raids.dirty = set()
        try:
            await get_state(services).repos.raids.save(ended, rows)
        except Exception:
            # Kept for the next flush (the batcher logs the failure and calls again).
            raids.ended.update(ended)
            for row in rows:
                raids.dirty.add(row.group_id)
                current = raids.raids.get(row.group_id)
                if current is not None:
                    current.changed.update(j.user_id for j in row.joiners)
            raise


async def load(services: Services, into: RaidBook | None = None) -> None:
    """At start: the raids running at the last flush (``into`` a book apart: ``raid_sync``'s)."""
    raids = book(services) if into is None else into
    for row in await get_state(services).repos.raids.load():
        group = await services.groups.get(row.group_id)
        if group is None:
            continue
        raid = Raid(row.number, row.group_id, row.started_at, row.reason, row.last_surge, until=row.until)
        notice = json.loads(row.notice) if row.notice else None
        raid.notice = sent_of(notice)
        challenge = notice.get("challenge") if isinstance(notice, dict) else None
        if isinstance(challenge, list) and len(challenge) == 2:
            raid.challenge = (str(challenge[0]), int(challenge[1]))
        raid.alerts = [s for s in map(sent_of, json.loads(row.alerts or "[]")) if s is not None]
        for j in row.joiners:
            user = UserRef(group.platform, j.user_id, j.name)
            raid.joiners[j.user_id] = Joiner(user, j.member_id, j.banned, j.released, j.wrong)
        raid.removed_before = row.removed
        raids.raids[group.id] = raid
        raids.numbers = max(raids.numbers, raid.number)


async def _post(services: Services, group: Group, message: OutgoingMessage) -> SentMessage | None:
    try:
        return await services.send(services.directory.chat_for(group), message, group.language)
    except QunyouError as exc:
        log.warning("raid notice for group %s failed: %s", group.id, exc)
        return None


async def _audit(services: Services, group: Group, at: datetime, action: str, detail: str) -> None:
    trail = services.ports.find(AuditTrail)
    if trail is not None:
        await trail.record(group.id, at, "antispam", action, detail)


async def _quietly(action: object) -> bool:
    try:
        await action  # type: ignore[misc]
    except QunyouError as exc:
        log.warning("raid action failed: %s", exc)
        return False
    return True
