"""Every ``checkin.*`` key the feature uses exists in both catalogs, with the same placeholders."""

from __future__ import annotations

import re
import string
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "handlers" / "checkin").glob("*.py"))
# Keys built at run time from a fixed family of suffixes.
FAMILIES = {
    "checkin.kind.": [
        "checkin",
        "streak_bonus",
        "milestone",
        "rank_bonus",
        "activity",
        "admin",
        "transfer",
        "redeem",
        "makeup",
        "referral",
        "topic",
        "event",
        "moderation",
        "badge",
    ],
    "checkin.rank.period.": ["week", "month", "all"],
    "checkin.redemptions.status.": ["open", "done"],
}


def catalog(lang: str) -> dict[str, str]:
    out: dict[str, str] = {}

    def flat(prefix: str, table: dict[str, object]) -> None:
        for key, value in table.items():
            if isinstance(value, dict):
                flat(prefix + key + ".", value)
            else:
                out[prefix + key] = str(value)

    with (ROOT / "bot" / "locales" / lang / "checkin.toml").open("rb") as fh:
        flat("", tomllib.load(fh))
    return out


def used_keys() -> set[str]:
    keys: set[str] = set()
    for path in SOURCES:
        keys |= set(re.findall(r'"(checkin\.[a-z_.]+[a-z_])"', path.read_text(encoding="utf-8")))
    keys.discard("checkin.activity")  # the batcher's flush name, not a message
    for prefix, suffixes in FAMILIES.items():
        keys |= {prefix + s for s in suffixes}
    from handlers.checkin.badges import COUNTERS

    keys |= {f"checkin.counter.{c}" for c in COUNTERS}
    return keys


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_used_key_is_in_both_languages() -> None:
    from handlers.checkin.config import CheckinSettings

    settings = {CheckinSettings.key_of(name) for name in CheckinSettings.model_fields}
    zh, en = catalog("zh-CN"), catalog("en")
    missing = {k for k in used_keys() - settings if k not in zh or k not in en}
    assert not missing, sorted(missing)


def test_catalogs_match_key_for_key_and_placeholder_for_placeholder() -> None:
    zh, en = catalog("zh-CN"), catalog("en")
    assert set(zh) == set(en)
    for key in zh:
        assert placeholders(zh[key]) == placeholders(en[key]), key
