"""The shipped starter topic banks (at least 60 topics each in zh-CN and en)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_DATA = Path(__file__).with_name("data")


@cache
def starter_topics(lang: str) -> tuple[str, ...]:
    """The starter bank for ``lang`` (``zh-CN`` or ``en``; anything else falls back to ``en``)."""
    name = "zh-CN" if lang.lower().startswith("zh") else "en"
    lines = (_DATA / f"topics.{name}.txt").read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#"))
