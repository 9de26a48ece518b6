"""The moderation runtime: matcher cache, flood and surge tracking, credit, sanctions and alerts.

Everything here is reached through ``services.state["moderation"]`` (a :class:`ModState`), so
nothing lives in module globals and two apps in one process (tests) stay apart.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot import metrics
from bot.adapter import Adapter, Capability
from bot.clock import local_day, zone
from bot.errors import (
    BotLacksPermission,
    CapabilityNotSupported,
    QunyouError,
    RateLimited,
    TargetNotFound,
)
from bot.events import ChatRef, SentMessage, UserRef
from bot.messages import Button, Mention, OutgoingMessage, Part, Text
from bot.scheduler import At, Cron
from bot.services import Services
from handlers.moderation.folding import fold
from handlers.moderation.lexicon import KNOWN_CATEGORIES
from handlers.moderation.matcher import (
    DEFAULT_REGEX_TIMEOUT,
    Entry,
    Layer,
    Level,
    Matcher,
    Mode,
    build_matcher,
)
from handlers.moderation.segment import SEGMENTER
from storage.models import Group, Member
from storage.moderation import AlertRow, ModerationRepos

log = logging.getLogger(__name__)

STATE_KEY = "moderation"
BOT_ACTOR = "bot"

#: Credit starts here, recovers one point per clean local day up to here.
CREDIT_START = 100
#: (lowest score, level key) from best to worst.
CREDIT_LEVELS: tuple[tuple[int, str], ...] = (
    (90, "excellent"),
    (75, "good"),
    (60, "fair"),
    (40, "poor"),
    (0, "danger"),
)
#: Active warnings → what happens: 3 → mute 1 h, 4 → mute 24 h, 5 → ban.
WARNING_LADDER: dict[int, tuple[str, timedelta | None]] = {
    3: ("mute", timedelta(hours=1)),
    4: ("mute", timedelta(hours=24)),
    5: ("ban", None),
}
WARNING_MAX = 5

JOB_LIFT = "moderation.lift"
JOB_BATCH = "moderation.batch"
JOB_ESCALATE = "moderation.escalate"
JOB_DIGEST = "moderation.digest"


def credit_level(score: int) -> str:
    """The level key (``excellent``…``danger``) of a credit score."""
    for floor, name in CREDIT_LEVELS:
        if score >= floor:
            return name
    return "danger"


def category_key(category: str | None) -> str:
    """The translation key of a category; unknown ones read as generic "custom".

    A moderator may type anything as a category, even the blocked word itself, so only the
    known categories are ever shown by name in public.
    """
    cat = (category or "custom").casefold()
    return f"moderation.category.{cat if cat in KNOWN_CATEGORIES else 'custom'}"


@dataclass(slots=True)
class Step:
    """One action of a plan and how it went."""

    name: str
    ok: bool
    why: str = ""

    def as_dict(self) -> dict[str, Any]:
        """For the alert row."""
        return {"step": self.name, "ok": self.ok, "why": self.why}


class FloodTracker:
    """Recent message times and texts per member, in memory (never stored)."""

    def __init__(self) -> None:
        self._recent: dict[tuple[int, str], deque[tuple[datetime, str]]] = {}

    def observe(
        self,
        group_id: int,
        user_id: str,
        at: datetime,
        text: str,
        *,
        max_messages: int,
        window: timedelta,
        max_identical: int,
        identical_window: timedelta,
    ) -> str | None:
        """Record a message; returns ``"rate"`` or ``"identical"`` when this one tips it over."""
        key = (group_id, user_id)
        queue = self._recent.setdefault(key, deque())
        queue.append((at, fold(text)[:200]))
        horizon = at - max(window, identical_window)
        while queue and queue[0][0] < horizon:
            queue.popleft()
        in_window = sum(1 for t, _ in queue if t > at - window)
        if in_window > max_messages:
            queue.clear()
            return "rate"
        folded = queue[-1][1]
        if folded:
            same = sum(1 for t, f in queue if f == folded and t > at - identical_window)
            if same >= max_identical:
                queue.clear()
                return "identical"
        if len(self._recent) > 50_000:
            # Drop the idle half rather than grow without bound in a huge deployment.
            for stale in [k for k, q in self._recent.items() if not q or q[-1][0] < horizon]:
                del self._recent[stale]
        return None


@dataclass(slots=True)
class ModState:
    """Runtime state of the moderation feature for one running app."""

    #: The feature's repositories, one per aggregate (lexicon, alerts, sanctions, audit…).
    repos: ModerationRepos
    global_layer: Layer
    regex_timeout: float = DEFAULT_REGEX_TIMEOUT
    matchers: dict[int, Matcher] = field(default_factory=dict)
    locks: dict[int, asyncio.Lock] = field(default_factory=dict)
    flood: FloodTracker = field(default_factory=FloodTracker)
    surge: dict[int, deque[datetime]] = field(default_factory=dict)
    surge_alerted: dict[int, datetime] = field(default_factory=dict)
    digests: set[int] = field(default_factory=set)
    #: Recent group messages (id → author, text), memory only: a report's excerpt comes from here.
    recent: dict[int, OrderedDict[str, tuple[str, str]]] = field(default_factory=dict)
    builds: int = 0
    #: Called after a lexicon change rebuilt a group's matcher (other workers then drop theirs).
    on_rebuilt: Callable[[int], Awaitable[None]] | None = None
    #: group id → (is it some group's moderator chat, until when that answer is trusted).

    # -- matchers ------------------------------------------------------------------------
    async def matcher(self, group_id: int) -> Matcher:
        """The group's compiled snapshot, built on first use."""
        found = self.matchers.get(group_id)
        if found is not None:
            return found
        return await self.rebuild(group_id, only_if_missing=True)

    async def rebuild(self, group_id: int, *, only_if_missing: bool = False) -> Matcher:
        """Compile the group's lexicon in a worker thread, then swap it in with one assignment.

        Messages handled meanwhile keep using the previous snapshot; none sees a half-built one.
        Events run concurrently, so the first messages of a group may all ask for a build:
        ``only_if_missing`` lets the later ones take the snapshot the first one made.
        """
        lock = self.locks.setdefault(group_id, asyncio.Lock())
        async with lock:
            if only_if_missing and group_id in self.matchers:
                return self.matchers[group_id]
            terms = await self.repos.lexicon.terms(group_id)
            allow = [a.term for a in await self.repos.lexicon.allow_terms(group_id)]
            entries = [
                Entry(t.term, Level.parse(t.level), t.category, Mode(t.mode), t.id, scope=str(group_id))
                for t in terms
            ]
            built = await asyncio.to_thread(
                build_matcher,
                self.global_layer,
                entries,
                allow,
                regex_timeout=self.regex_timeout,
                owner=f"group:{group_id}",
            )
            self.matchers[group_id] = built
            if not only_if_missing and self.on_rebuilt is not None:
                await self.on_rebuilt(group_id)
            self.builds += 1
            return built

    # -- recent messages -------------------------------------------------------------------
    def remember(self, group_id: int, message_id: str, user_id: str, text: str) -> None:
        """Keep a message for a possible report (bounded, in memory only)."""
        buf = self.recent.setdefault(group_id, OrderedDict())
        buf[message_id] = (user_id, text[:500])
        while len(buf) > 500:
            buf.popitem(last=False)

    def recalled(self, group_id: int, message_id: str) -> tuple[str, str] | None:
        """A remembered message."""
        buf = self.recent.get(group_id)
        return buf.get(message_id) if buf is not None else None

    # -- surge ---------------------------------------------------------------------------
    def surge_hit(self, group_id: int, at: datetime, limit: int, window: timedelta) -> bool:
        """Count a red/yellow hit; True when the group just went over ``limit`` in ``window``."""
        queue = self.surge.setdefault(group_id, deque())
        queue.append(at)
        while queue and queue[0] <= at - window:
            queue.popleft()
        if len(queue) <= limit:
            return False
        last = self.surge_alerted.get(group_id)
        if last is not None and at - last < window:
            return False
        self.surge_alerted[group_id] = at
        return True


def get_state(services: Services) -> ModState:
    """The feature's state (created by the startup hook)."""
    state: ModState = services.state[STATE_KEY]
    return state


def build_global_layer(entries: Sequence[Entry]) -> Layer:
    """Compile the operator's lexicon files and teach the segmenter their Chinese terms."""
    SEGMENTER.warm()
    layer = Layer(entries)
    SEGMENTER.set_words("global", layer.cjk_words())
    return layer


# -- credit ----------------------------------------------------------------------------------


async def current_credit(services: Services, group: Group, member: Member) -> int:
    """A member's credit today, after adding the clean days since it was last touched."""
    state = get_state(services)
    row = await state.repos.sanctions.credit(member.id)
    if row is None:
        return CREDIT_START
    today = local_day(services.clock.now(), group.timezone)
    yesterday = today - timedelta(days=1)
    clean = (yesterday - row.recovered_through).days
    if clean <= 0 or row.score >= CREDIT_START:
        return row.score
    score = min(CREDIT_START, row.score + clean)
    await state.repos.sanctions.put_credit(member.id, group.id, score, yesterday, services.clock.now())
    return score


async def change_credit(services: Services, group: Group, member: Member, delta: int) -> int:
    """Add ``delta`` (negative for a penalty) and return the new score (0…100).

    A penalty marks today as not clean, so recovery starts again tomorrow.
    """
    state = get_state(services)
    score = await current_credit(services, group, member)
    new = max(0, min(CREDIT_START, score + delta))
    today = local_day(services.clock.now(), group.timezone)
    row = await state.repos.sanctions.credit(member.id)
    through = today if delta < 0 else (row.recovered_through if row else today - timedelta(days=1))
    await state.repos.sanctions.put_credit(member.id, group.id, new, through, services.clock.now())
    return new


# -- platform actions with manual fallback -----------------------------------------------


_CAPABILITY = {
    "delete": Capability.DELETE,
    "mute": Capability.MUTE,
    "unmute": Capability.UNMUTE,
    "ban": Capability.BAN,
    "unban": Capability.UNBAN,
    "kick": Capability.KICK,
}


async def attempt(
    steps: list[Step], name: str, adapter: Adapter, call: Callable[[], Awaitable[None]]
) -> bool:
    """Run one platform action; a refusal becomes a "manual action needed" step, never silence.

    The capability is checked first, so an adapter that declares less than it implements is
    still treated as unable (and nothing is attempted behind the platform's back).
    """
    capability = _CAPABILITY.get(name)
    try:
        if capability is not None and not adapter.supports(capability):
            raise CapabilityNotSupported(capability, adapter.name)
        await call()
    except CapabilityNotSupported:
        steps.append(Step(name, False, "unsupported"))
        return False
    except BotLacksPermission:
        steps.append(Step(name, False, "no_rights"))
        return False
    except TargetNotFound:
        steps.append(Step(name, False, "gone"))
        return False
    except RateLimited:
        steps.append(Step(name, False, "failed"))
        return False
    except QunyouError as exc:
        log.warning("moderation step %s failed: %s", name, exc)
        steps.append(Step(name, False, "failed"))
        return False
    steps.append(Step(name, True))
    return True


def _adapter(services: Services, group: Group) -> Adapter:
    return services.adapters[group.adapter]


async def sanction(
    services: Services,
    group: Group,
    member: Member,
    kind: str,
    duration: timedelta | None,
    reason: str | None,
    actor: str,
    steps: list[Step],
    alert_id: int | None = None,
) -> bool:
    """Mute or ban a member (``duration`` None: until lifted) and schedule the lift."""
    state = get_state(services)
    now = services.clock.now()
    until = now + duration if duration else None
    chat = services.directory.chat_for(group)
    adapter = _adapter(services, group)
    ok = await attempt(
        steps,
        kind,
        adapter,
        lambda: (
            adapter.mute(chat, member.user_id, until)
            if kind == "mute"
            else adapter.ban(chat, member.user_id, until)
        ),
    )
    detail = f"until={until.isoformat() if until else 'indefinite'}" + (f" reason={reason}" if reason else "")
    if ok:
        metrics.SANCTIONS.labels(action=kind).inc()
        sanction_id = await state.repos.sanctions.add_sanction(
            group.id, member.id, member.user_id, kind, until, now, reason
        )
        if until is not None:
            await services.scheduler.schedule(
                f"mod-lift:{sanction_id}", JOB_LIFT, At(until), {"sanction": sanction_id}, group_id=group.id
            )
    await state.repos.audit.log(
        group.id, now, actor, kind if ok else f"{kind}_failed", detail, member_id=member.id, alert_id=alert_id
    )
    return ok


async def lift(
    services: Services, group: Group, member: Member, kind: str, actor: str, steps: list[Step]
) -> bool:
    """Unmute or unban now and cancel the scheduled lift."""
    state = get_state(services)
    chat = services.directory.chat_for(group)
    adapter = _adapter(services, group)
    name = "unmute" if kind == "mute" else "unban"
    ok = await attempt(
        steps,
        name,
        adapter,
        lambda: (
            adapter.unmute(chat, member.user_id) if kind == "mute" else adapter.unban(chat, member.user_id)
        ),
    )
    now = services.clock.now()
    for sanction_id in await state.repos.sanctions.lift(member.id, kind, now):
        await services.scheduler.cancel(f"mod-lift:{sanction_id}")
    await state.repos.audit.log(
        group.id, now, actor, name if ok else f"{name}_failed", "", member_id=member.id
    )
    return ok


async def run_lift_job(services: Services, job: Any, fire_time: datetime) -> None:
    """A temporary mute or ban has ended: lift it (re-reads the row, so a stale job is harmless)."""
    state = get_state(services)
    sanction_id = int(job.payload.get("sanction", 0))
    row = await state.repos.sanctions.sanction(sanction_id)
    if row is None or row.lifted_at is not None:
        return
    group = await services.directory.group_by_id(row.group_id)
    if group is None:
        return
    chat = services.directory.chat_for(group)
    adapter = _adapter(services, group)
    steps: list[Step] = []
    ok = await attempt(
        steps,
        "unmute" if row.kind == "mute" else "unban",
        adapter,
        lambda: adapter.unmute(chat, row.user_id) if row.kind == "mute" else adapter.unban(chat, row.user_id),
    )
    now = services.clock.now()
    await state.repos.sanctions.close_sanction(sanction_id, now)
    await state.repos.audit.log(
        group.id,
        now,
        BOT_ACTOR,
        f"{row.kind}_expired" if ok else f"{row.kind}_expire_failed",
        "",
        member_id=row.member_id,
    )
    if not ok:
        text = services.i18n.t(
            group.language,
            "moderation.alert.lift_manual",
            user=row.user_id,
            action=_step_label(services, group, steps[-1]),
        )
        await notify(services, group, OutgoingMessage.of(text))


async def reschedule_lifts(services: Services) -> None:
    """At start: every open temporary sanction gets its lift job; overdue ones lift at once.

    The scheduler skips runs missed by more than its grace window, but a mute must end even if
    the bot was down for a day when it was due, so overdue lifts are moved to just after start.
    """
    state = get_state(services)
    now = services.clock.now()
    for row in await state.repos.sanctions.open_sanctions():
        if row.until is None:
            continue
        at = row.until if row.until > now else now + timedelta(seconds=1)
        await services.scheduler.schedule(
            f"mod-lift:{row.id}", JOB_LIFT, At(at), {"sanction": row.id}, group_id=row.group_id
        )


# -- alerts ----------------------------------------------------------------------------------


def _step_label(services: Services, group: Group, step: Step) -> str:
    t = services.i18n.t
    return t(
        group.language,
        "moderation.step_failed",
        step=t(group.language, f"moderation.step.{step.name}"),
        why=t(group.language, f"moderation.why.{step.why or 'failed'}"),
    )


def manual_lines(services: Services, group: Group, steps: Sequence[dict[str, Any]]) -> list[str]:
    """ "Manual action needed" lines for the steps that did not happen."""
    t = services.i18n.t
    lines = []
    for raw in steps:
        if raw.get("ok"):
            continue
        step = Step(str(raw.get("step")), False, str(raw.get("why") or "failed"))
        lines.append(t(group.language, "moderation.alert.manual", what=_step_label(services, group, step)))
    return lines


def done_line(services: Services, group: Group, steps: Sequence[dict[str, Any]]) -> str:
    """The steps that happened, as one line."""
    t = services.i18n.t
    names = [t(group.language, f"moderation.step.{s['step']}") for s in steps if s.get("ok")]
    sep = t(group.language, "moderation.alert.sep")
    return t(group.language, "moderation.alert.done", steps=sep.join(names) if names else "—")


async def notify(services: Services, group: Group, message: OutgoingMessage) -> list[SentMessage]:
    """Send to the group's moderators (moderator chat, else privately, else the group)."""
    assert services.alerts is not None
    try:
        return await services.alerts.notify(group, message)
    except QunyouError as exc:
        log.error("could not deliver a moderation alert for group %s: %s", group.id, exc)
        return []


def refs_of(sent: Sequence[SentMessage]) -> list[list[str]]:
    """Where alert messages went, stored so they can be edited later."""
    return [
        [s.chat.platform, s.chat.adapter, s.chat.scope_id, s.chat.channel_id, s.chat.kind, s.message_id]
        for s in sent
    ]


async def edit_alert_messages(services: Services, alert: AlertRow, message: OutgoingMessage) -> None:
    """Replace every copy of an alert message (dropping its buttons); failures are only logged."""
    for platform, adapter_name, scope, channel, kind, message_id in alert.refs:
        adapter = services.adapters.get(adapter_name)
        if adapter is None:
            continue
        chat = ChatRef(platform, adapter_name, scope, channel, "private" if kind == "private" else "group")
        try:
            await adapter.edit(chat, message_id, message)
        except QunyouError as exc:
            log.info("could not edit alert %s message %s: %s", alert.id, message_id, exc)


async def has_moderator_chat(services: Services, group: Group) -> bool:
    """True when alerts reach a dedicated moderator chat (then a lexicon term may be named)."""
    assert services.alerts is not None
    return await services.alerts.moderator_chat(group) is not None


def alert_buttons(
    services: Services, group: Group, alert_id: int, kind: str
) -> tuple[tuple[Button, ...], ...]:
    """Acknowledge / Undo / Ban (hits), or Resolve / Delete / Ban (reports)."""
    t = services.i18n.t
    lang = group.language
    if kind == "report":
        row = (
            Button(t(lang, "moderation.button.resolve"), f"mod:ack:{alert_id}", f"/ack {alert_id}"),
            Button(t(lang, "moderation.button.delete"), f"mod:del:{alert_id}"),
            Button(t(lang, "moderation.button.ban"), f"mod:ban:{alert_id}"),
        )
    else:
        row = (
            Button(t(lang, "moderation.button.ack"), f"mod:ack:{alert_id}", f"/ack {alert_id}"),
            Button(t(lang, "moderation.button.undo"), f"mod:undo:{alert_id}"),
            Button(t(lang, "moderation.button.ban"), f"mod:ban:{alert_id}"),
        )
    return (row,)


async def member_ref(
    services: Services, group: Group, member_id: int | None, user_id: str | None
) -> UserRef | None:
    """A mentionable reference to a stored member."""
    member = await services.members.get(member_id) if member_id else None
    if member is not None:
        return services.directory.user_ref(member, group.platform)
    if user_id:
        return UserRef(group.platform, user_id, user_id)
    return None


async def hit_alert_message(
    services: Services, group: Group, alert: AlertRow, *, escalation: bool = False
) -> OutgoingMessage:
    """The text of a red alert (or its 15-minute re-alert), with its buttons."""
    t = services.i18n.t
    lang = group.language
    who = await member_ref(services, group, alert.member_id, alert.user_id)
    parts: list[Part] = []
    if escalation:
        head = "moderation.alert.red_again"
    elif alert.kind == "hit":
        head = f"moderation.alert.hit_{alert.level or 'red'}"
    else:
        head = f"moderation.alert.{alert.kind}"
    minutes = int(await services.settings.get(group.id, "moderation.escalate_minutes"))
    parts.extend(services.i18n.parts(lang, head, id=alert.id, minutes=minutes))
    parts.append(Text("\n" + t(lang, "moderation.alert.member")))
    parts.append(Mention(who) if who else Text("—"))
    parts.append(
        Text("\n" + t(lang, "moderation.alert.category", category=t(lang, category_key(alert.category))))
    )
    if alert.term_key and await has_moderator_chat(services, group):
        parts.append(Text("\n" + t(lang, "moderation.alert.term", term=alert.term_key)))
    if alert.excerpt:
        parts.append(Text("\n" + t(lang, "moderation.alert.excerpt", excerpt=alert.excerpt)))
    if alert.reporters:
        parts.append(Text("\n" + t(lang, "moderation.alert.reporters", count=alert.reporters)))
    if alert.steps:
        parts.append(Text("\n" + done_line(services, group, alert.steps)))
        for line in manual_lines(services, group, alert.steps):
            parts.append(Text("\n" + line))
    notify_refs: tuple[UserRef, ...] = ()
    if escalation:
        assert services.alerts is not None
        mods = []
        for user_id in await services.alerts.moderators(group):
            found = await services.members.find(group.id, user_id)
            mods.append(
                services.directory.user_ref(found, group.platform)
                if found
                else UserRef(group.platform, user_id, user_id)
            )
        if mods:
            parts.append(Text("\n"))
            for i, mod in enumerate(mods):
                parts.append(Text(" " if i else ""))
                parts.append(Mention(mod))
        notify_refs = tuple(mods)
    buttons = alert_buttons(services, group, alert.id, alert.kind) if alert.status == "open" else None
    return OutgoingMessage(parts=tuple(parts), buttons=buttons, notify=notify_refs)


async def handled_message(
    services: Services, group: Group, alert: AlertRow, handler: UserRef | None
) -> OutgoingMessage:
    """The alert as it reads after a moderator handled it (no buttons)."""
    base = await hit_alert_message(services, group, alert)
    local = (alert.handled_at or services.clock.now()).astimezone(zone(group.timezone))
    status = services.i18n.t(group.language, f"moderation.status.{alert.status}")
    extra: list[Part] = [
        Text(
            "\n"
            + services.i18n.t(
                group.language, "moderation.alert.handled", status=status, time=local.strftime("%H:%M")
            )
            + " "
        )
    ]
    extra.append(Mention(handler) if handler else Text(alert.handled_by or "—"))
    return OutgoingMessage(parts=base.parts + tuple(extra), buttons=None)


async def send_alert(services: Services, group: Group, alert_id: int, *, escalation: bool = False) -> None:
    """Send (or re-send) one alert with buttons and remember where it went."""
    state = get_state(services)
    alert = await state.repos.alerts.alert(alert_id)
    if alert is None:
        return
    message = await hit_alert_message(services, group, alert, escalation=escalation)
    sent = await notify(services, group, message)
    now = services.clock.now()
    refs = alert.refs + refs_of(sent)
    if escalation:
        await state.repos.alerts.set_alert(alert_id, escalated_at=now, refs=refs)
    else:
        await state.repos.alerts.mark_notified([alert_id], now, refs)


async def flush_batch(services: Services, group: Group) -> int:
    """Send the waiting yellow alerts of a group as one message; returns how many it listed."""
    state = get_state(services)
    pending = await state.repos.alerts.unnotified(group.id, "hit", "yellow")
    if not pending:
        return 0
    t = services.i18n.t
    lang = group.language
    parts: list[Part] = [Text(t(lang, "moderation.alert.yellow_batch", count=len(pending)))]
    named = await has_moderator_chat(services, group)
    for alert in pending:
        who = await member_ref(services, group, alert.member_id, alert.user_id)
        parts.append(
            Text(
                "\n"
                + t(
                    lang,
                    "moderation.alert.batch_line",
                    id=alert.id,
                    category=t(lang, category_key(alert.category)),
                )
                + " "
            )
        )
        parts.append(Mention(who) if who else Text("—"))
        if named and alert.term_key:
            parts.append(Text(" " + t(lang, "moderation.alert.term", term=alert.term_key)))
        parts.append(Text(" · " + done_line(services, group, alert.steps)))
        for line in manual_lines(services, group, alert.steps):
            parts.append(Text("\n  " + line))
    sent = await notify(services, group, OutgoingMessage(parts=tuple(parts)))
    await state.repos.alerts.mark_notified([a.id for a in pending], services.clock.now(), refs_of(sent))
    return len(pending)


async def queue_yellow(services: Services, group: Group) -> None:
    """Send the yellow batch now, or schedule it so that a group gets at most one per window."""
    state = get_state(services)
    window = timedelta(minutes=int(await services.settings.get(group.id, "moderation.alert_batch_minutes")))
    last = await state.repos.alerts.last_notified(group.id, "hit", "yellow")
    now = services.clock.now()
    if last is None or now - last >= window:
        await flush_batch(services, group)
        return
    await services.scheduler.schedule(
        f"mod-batch:{group.id}", JOB_BATCH, At(last + window), {}, group_id=group.id
    )


async def run_batch_job(services: Services, job: Any, fire_time: datetime) -> None:
    """The batching window ended: send what is waiting."""
    group = await services.directory.group_by_id(job.group_id) if job.group_id else None
    if group is not None:
        await flush_batch(services, group)


async def run_escalate_job(services: Services, job: Any, fire_time: datetime) -> None:
    """A red alert unacknowledged after the escalation delay: alert again, mentioning moderators."""
    state = get_state(services)
    alert = await state.repos.alerts.alert(int(job.payload.get("alert", 0)))
    if alert is None or alert.status != "open":
        return
    group = await services.directory.group_by_id(alert.group_id)
    if group is None:
        return
    await send_alert(services, group, alert.id, escalation=True)
    await state.repos.audit.log(
        group.id,
        services.clock.now(),
        BOT_ACTOR,
        "escalated",
        "",
        member_id=alert.member_id,
        alert_id=alert.id,
    )


async def ensure_digest(services: Services, group: Group) -> None:
    """Schedule the group's daily digest (once per group)."""
    state = get_state(services)
    if group.id in state.digests:
        return
    hour = int(await services.settings.get(group.id, "moderation.digest_hour"))
    await services.scheduler.schedule(
        f"mod-digest:{group.id}",
        JOB_DIGEST,
        Cron(tz=group.timezone, minute="0", hour=str(hour)),
        {},
        group_id=group.id,
    )
    state.digests.add(group.id)


async def run_digest_job(services: Services, job: Any, fire_time: datetime) -> None:
    """The moderators' daily digest: blue hits and what is still open, for the last day."""
    state = get_state(services)
    group = await services.directory.group_by_id(job.group_id) if job.group_id else None
    if group is None:
        return
    since = fire_time - timedelta(days=1)
    recent = await state.repos.alerts.alerts(group.id, since=since, limit=1000)
    blue = [a for a in recent if a.kind == "hit" and a.level == "blue"]
    still_open = [a for a in recent if a.status == "open" and not (a.kind == "hit" and a.level == "blue")]
    if not blue and not still_open:
        return
    t = services.i18n.t
    lang = group.language
    lines = [t(lang, "moderation.digest.header", blue=len(blue), open=len(still_open))]
    by_cat: dict[str, int] = {}
    for a in blue:
        label = t(lang, category_key(a.category))
        by_cat[label] = by_cat.get(label, 0) + 1
    for label, count in sorted(by_cat.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(t(lang, "moderation.digest.category_line", category=label, count=count))
    if still_open:
        lines.append(
            t(lang, "moderation.digest.open_line", ids=", ".join(f"#{a.id}" for a in still_open[:20]))
        )
    lines.append(t(lang, "moderation.digest.footer"))
    await notify(services, group, OutgoingMessage.of("\n".join(lines)))
    for a in blue:
        if a.notified_at is None:
            await state.repos.alerts.mark_notified([a.id], services.clock.now(), a.refs)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``values``; 0 for none."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def human_duration(services: Services, lang: str, seconds: float) -> str:
    """``4h 12m`` / ``4 小时 12 分`` for a number of seconds."""
    minutes = round(seconds / 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    t = services.i18n.t
    parts = []
    if days:
        parts.append(t(lang, "moderation.time.days", n=days))
    if hours:
        parts.append(t(lang, "moderation.time.hours", n=hours))
    if mins or not parts:
        parts.append(t(lang, "moderation.time.minutes", n=mins))
    return " ".join(parts)
