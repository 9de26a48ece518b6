"""Badge definitions and their rule engine.

A badge is earned when one member counter reaches a threshold (``checkin_streak >= 7``) or is
given by hand (``manual``). The engine only compares numbers: every feature that wants a badge
feeds a counter (see ``handlers.checkin.api.bump_counter``), so new rules need no new code here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: Counters a rule may name. The first three are derived from check-ins and the ledger; the rest
#: are stored counters fed by features (messages by the activity listener, invites by referrals,
#: events and topic replies by those features through ``bump_counter``).
COUNTERS = (
    "checkin_streak",
    "checkin_total",
    "points_earned",
    "messages",
    "invites",
    "events_attended",
    "topic_replies",
)
STORED_COUNTERS = frozenset({"messages", "invites", "events_attended", "topic_replies"})

_RULE = re.compile(r"^\s*([a-z_]+)\s*>=\s*(\d{1,9})\s*$")


@dataclass(frozen=True, slots=True)
class BadgeRule:
    """``counter >= threshold``, or a manual badge when ``counter`` is None."""

    counter: str | None
    threshold: int = 0

    @property
    def manual(self) -> bool:
        """True when only a moderator can give this badge."""
        return self.counter is None

    def met(self, counters: Mapping[str, int]) -> bool:
        """True when the counters satisfy the rule (never for a manual badge)."""
        return self.counter is not None and counters.get(self.counter, 0) >= self.threshold


def parse_rule(text: str) -> BadgeRule:
    """Read ``"checkin_streak >= 7"`` or ``"manual"``; raises ``ValueError`` naming the problem."""
    if text.strip().lower() == "manual":
        return BadgeRule(None)
    match = _RULE.match(text)
    if not match:
        raise ValueError(f"badge rule {text!r} is not 'COUNTER >= N' or 'manual'")
    counter, threshold = match.group(1), int(match.group(2))
    if counter not in COUNTERS:
        raise ValueError(f"badge rule {text!r}: unknown counter {counter!r}; known: {', '.join(COUNTERS)}")
    return BadgeRule(counter, threshold)


class BadgeConfig(BaseModel):
    """One ``[[badges]]`` entry of config.toml."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,32}$")
    name_zh: str = Field(min_length=1, max_length=32)
    name_en: str = Field(min_length=1, max_length=64)
    emoji: str = Field(default="🏅", max_length=8)
    rule: str = "manual"

    @field_validator("rule")
    @classmethod
    def _valid_rule(cls, value: str) -> str:
        parse_rule(value)
        return value


@dataclass(frozen=True, slots=True)
class Badge:
    """A badge definition ready to evaluate."""

    key: str
    name_zh: str
    name_en: str
    emoji: str
    rule: BadgeRule

    def name(self, lang: str) -> str:
        """The badge's name in ``lang``."""
        return self.name_zh if lang.lower().startswith("zh") else self.name_en

    def label(self, lang: str) -> str:
        """Emoji and name, as shown in lists and announcements."""
        return f"{self.emoji} {self.name(lang)}"


DEFAULT_BADGES: tuple[BadgeConfig, ...] = tuple(
    BadgeConfig(key=k, name_zh=zh, name_en=en, emoji=e, rule=r)
    for k, zh, en, e, r in (
        ("first_message", "初来乍到", "First Words", "👋", "messages >= 1"),
        ("streak_7", "七日之约", "Seven-Day Pact", "📅", "checkin_streak >= 7"),
        ("streak_30", "月度坚持", "Month Strong", "🗓️", "checkin_streak >= 30"),
        ("streak_100", "百日达人", "Hundred Days", "💯", "checkin_streak >= 100"),
        ("chatterbox", "话痨", "Chatterbox", "💬", "messages >= 1000"),
        ("recruiter", "拉新之星", "Recruiter", "🌟", "invites >= 5"),
        ("event_goer", "活动达人", "Event Regular", "🎉", "events_attended >= 5"),
    )
)


def build_badges(configs: Iterable[BadgeConfig]) -> tuple[Badge, ...]:
    """Turn config entries into badges; a repeated key is a config error."""
    seen: set[str] = set()
    out: list[Badge] = []
    for c in configs:
        if c.key in seen:
            raise ValueError(f"badge key {c.key!r} is defined twice")
        seen.add(c.key)
        out.append(Badge(c.key, c.name_zh, c.name_en, c.emoji, parse_rule(c.rule)))
    return tuple(out)


def newly_earned(badges: Sequence[Badge], counters: Mapping[str, int], owned: Iterable[str]) -> list[Badge]:
    """Automatic badges the counters now satisfy that the member does not hold yet."""
    have = set(owned)
    return [b for b in badges if b.key not in have and b.rule.met(counters)]


def find_badge(badges: Sequence[Badge], token: str) -> Badge | None:
    """A badge by key or by either name, case-insensitively."""
    wanted = token.strip().casefold()
    for b in badges:
        if wanted in (b.key.casefold(), b.name_zh.casefold(), b.name_en.casefold()):
            return b
    return None
