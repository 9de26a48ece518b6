"""Pure reward arithmetic: check-in itemization, the level curve, tiers and activity folding.

Nothing here touches storage, the clock or a platform, so every rule is unit-tested on its own and
the same numbers are used by the commands, the batch flush and the bench.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

#: Ledger kinds. Earning kinds count toward levels and leaderboards; spending kinds and incoming
#: transfers do not, so nobody climbs the board by shuffling points between accounts.
EARNING_KINDS = frozenset(
    {
        "checkin",
        "streak_bonus",
        "milestone",
        "rank_bonus",
        "activity",
        "admin",
        "referral",
        "topic",
        "event",
        "moderation",
        "badge",
    }
)
SPENDING_KINDS = frozenset({"transfer", "redeem", "makeup"})


@dataclass(frozen=True, slots=True)
class CheckinRules:
    """The numbers behind one check-in; every field is a group setting."""

    base: int = 10
    streak_step: int = 2
    streak_cap: int = 20
    milestones: Mapping[int, int] = field(default_factory=lambda: {7: 50, 30: 200, 100: 1000})
    rank_bonus: Sequence[int] = (5, 3, 1)


@dataclass(frozen=True, slots=True)
class Item:
    """One line of a check-in reward: a ledger kind and its amount."""

    kind: str
    amount: int


def itemize(streak: int, rank: int, rules: CheckinRules) -> list[Item]:
    """The reward for the ``rank``-th check-in of the day that makes a streak of ``streak`` days.

    Zero-valued items are left out so the reply lists only what the member actually got.
    """
    if streak < 1 or rank < 1:
        raise ValueError("streak and rank start at 1")
    items = [Item("checkin", rules.base)]
    bonus = min(rules.streak_step * (streak - 1), rules.streak_cap)
    if bonus > 0:
        items.append(Item("streak_bonus", bonus))
    milestone = rules.milestones.get(streak, 0)
    if milestone > 0:
        items.append(Item("milestone", milestone))
    if rank <= len(rules.rank_bonus) and rules.rank_bonus[rank - 1] > 0:
        items.append(Item("rank_bonus", rules.rank_bonus[rank - 1]))
    return [i for i in items if i.amount > 0]


def parse_int_list(text: str) -> list[int]:
    """Read ``"5,3,1"`` (a setting value) into integers; blanks are ignored."""
    return [int(p) for p in text.replace("，", ",").split(",") if p.strip()]


def parse_milestones(text: str) -> dict[int, int]:
    """Read ``"7:50,30:200,100:1000"`` (a setting value) into ``{streak: bonus}``."""
    out: dict[int, int] = {}
    for part in text.replace("，", ",").split(","):
        if not part.strip():
            continue
        day, _, bonus = part.partition(":")
        out[int(day)] = int(bonus)
    return out


# --- levels and tiers -----------------------------------------------------------------------------


def level_threshold(level: int, factor: int = 50) -> int:
    """Lifetime earned points needed for ``level``: ``factor · level²`` (50, 200, 450, 800…)."""
    return factor * level * level


def level_for(earned: int, factor: int = 50) -> int:
    """The highest level whose threshold ``earned`` reaches; 0 below the first threshold."""
    if earned <= 0:
        return 0
    n = math.isqrt(earned // factor)
    # isqrt of the floored quotient can be one short only through rounding; settle it exactly.
    while level_threshold(n + 1, factor) <= earned:
        n += 1
    while n > 0 and level_threshold(n, factor) > earned:
        n -= 1
    return n


@dataclass(frozen=True, slots=True)
class LevelProgress:
    """Where a member stands on the level curve."""

    level: int
    earned: int
    floor: int
    next_at: int

    @property
    def to_next(self) -> int:
        """Points still needed for the next level."""
        return self.next_at - self.earned

    @property
    def span(self) -> int:
        """Points from this level's threshold to the next one's."""
        return self.next_at - self.floor

    @property
    def into(self) -> int:
        """Points earned since reaching this level."""
        return max(0, min(self.span, self.earned - self.floor))

    @property
    def percent(self) -> int:
        """Progress through the current level, 0–100 (``into`` of ``span``, not of the total)."""
        return 100 if self.span <= 0 else self.into * 100 // self.span


def progress(earned: int, factor: int = 50) -> LevelProgress:
    """The level for ``earned`` points and the distance to the next one."""
    earned = max(earned, 0)
    level = level_for(earned, factor)
    return LevelProgress(level, earned, level_threshold(level, factor), level_threshold(level + 1, factor))


@dataclass(frozen=True, slots=True)
class Tier:
    """A named band of levels."""

    min_level: int
    name_zh: str
    name_en: str

    def name(self, lang: str) -> str:
        """The tier's name in ``lang`` (Chinese for any ``zh*``)."""
        return self.name_zh if lang.lower().startswith("zh") else self.name_en


DEFAULT_TIERS: tuple[Tier, ...] = (
    Tier(0, "基础会员", "Member"),
    Tier(5, "成长会员", "Rising"),
    Tier(15, "VIP会员", "VIP"),
)


def parse_tiers(text: str) -> tuple[Tier, ...]:
    """Read ``"0:基础会员/Member,5:成长会员/Rising"`` (a setting value) into tiers, sorted by level."""
    tiers: list[Tier] = []
    for part in text.replace("，", ",").split(","):
        if not part.strip():
            continue
        level, _, names = part.partition(":")
        zh, _, en = names.partition("/")
        zh = zh.strip()
        tiers.append(Tier(int(level), zh, en.strip() or zh))
    if not any(t.min_level == 0 for t in tiers):
        raise ValueError("a tier for level 0 is needed")
    return tuple(sorted(tiers, key=lambda t: t.min_level))


def format_tiers(tiers: Sequence[Tier]) -> str:
    """The setting-string form of ``tiers`` (inverse of ``parse_tiers``)."""
    return ",".join(f"{t.min_level}:{t.name_zh}/{t.name_en}" for t in tiers)


def tier_for(level: int, tiers: Sequence[Tier] = DEFAULT_TIERS) -> Tier:
    """The highest tier whose minimum level ``level`` reaches."""
    chosen = tiers[0]
    for tier in tiers:
        if level >= tier.min_level:
            chosen = tier
    return chosen


# --- activity points --------------------------------------------------------------------------


#: Characters of a message that take part in folding; the repeat check compares this prefix.
FOLD_LIMIT = 1000
# \W is everything but letters and digits (of any script); "_" is a word character for re.
_NOT_CONTENT = re.compile(r"[\W_]+")


def fold_text(text: str) -> str:
    r"""Text reduced to what counts as content: NFKC, case-folded, no spaces, symbols or controls.

    ``"哈 哈 哈!!!"`` and ``"哈哈哈"`` fold alike, so padding a message with spaces or punctuation
    neither reaches the length minimum nor dodges the repeat check. Combining marks go too
    (re's \W), which only shortens Indic and Thai text a little.
    """
    # This runs for every group message: one C-level regex pass instead of a per-character
    # loop, and only over a bounded prefix so a 100 kB paste costs what a long message costs.
    return content_of(unicodedata.normalize("NFKC", text[:FOLD_LIMIT]).casefold())


def content_of(casefolded: str) -> str:
    """:func:`fold_text` of a text already NFKC-normalised and case-folded (a message's
    ``ctx.parsed.casefolded``): the regex pass runs over a bounded prefix only."""
    return _NOT_CONTENT.sub("", casefolded[:FOLD_LIMIT])


@dataclass(slots=True)
class ActivityState:
    """What the hot path remembers about one member, in memory only."""

    last_folded: str = ""
    last_award_ts: float = -1e18
    day_ordinal: int = 0
    awarded_today: int = 0


@dataclass(frozen=True, slots=True)
class ActivityRules:
    """Limits on points for ordinary messages."""

    points: int = 1
    min_chars: int = 5
    cooldown_seconds: int = 60
    daily_cap: int = 20


def activity_award(
    state: ActivityState, folded: str, ts: float, day_ordinal: int, rules: ActivityRules
) -> int:
    """Points this message earns (0 or ``rules.points``), updating ``state`` in place.

    The repeat check compares with the member's previous message whether or not it earned
    anything, so alternating two short phrases does not help either.
    """
    if state.day_ordinal != day_ordinal:
        state.day_ordinal = day_ordinal
        state.awarded_today = 0
    previous = state.last_folded
    state.last_folded = folded
    if rules.points <= 0 or len(folded) < rules.min_chars or folded == previous:
        return 0
    if ts - state.last_award_ts < rules.cooldown_seconds or state.awarded_today >= rules.daily_cap:
        return 0
    state.last_award_ts = ts
    state.awarded_today += 1
    return rules.points
