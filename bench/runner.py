"""Runs the sections of ``python -m bot bench`` and prints one JSON line of their figures.

A section is a module of this package with ``run(argv)`` (sync or async) that prints its table
and returns a dict of figures. Each section is imported only when it runs, so ``bench core``
does not pay for jieba, python-telegram-bot or discord.py.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any

#: What a section runs: argv in, figures out (printed as it goes).
Section = Callable[[list[str]], Awaitable[dict[str, float]] | dict[str, float]]


def _core() -> Section:
    from bench.core import run

    return run


def _antispam() -> Section:
    from bench.antispam import run

    return run


def _checkin() -> Section:
    from bench.checkin import run

    return run


def _dashboard() -> Section:
    from bench.dashboard import run

    return run


def _engage() -> Section:
    from bench.engage import run

    return run


def _desk() -> Section:
    from bench.desk import run

    return run


def _discord() -> Section:
    from bench.discord_adapter import run

    return run


def _moderation() -> Section:
    from bench.moderation import run

    return run


def _lexicon() -> Section:
    from bench.lexicon import run

    return run


def _onebot() -> Section:
    from bench.onebot_adapter import run

    return run


def _stats() -> Section:
    from bench.stats import run

    return run


def _schedule() -> Section:
    from bench.schedule import run

    return run


def _startup() -> Section:
    from bench.headline import run

    return run


def _scaleout() -> Section:
    from bench.scaleout import run

    return run


def _floods() -> Section:
    from bench.floods import run

    return run


def _telegram() -> Section:
    from bench.telegram_adapter import run

    return run


#: section name → a loader importing that section's ``run`` (``all`` runs them in this order).
SECTIONS: dict[str, Callable[[], Section]] = {
    "core": _core,
    "antispam": _antispam,
    "checkin": _checkin,
    "dashboard": _dashboard,
    "desk": _desk,
    "discord": _discord,
    "engage": _engage,
    "moderation": _moderation,
    "lexicon": _lexicon,
    "onebot": _onebot,
    "stats": _stats,
    "schedule": _schedule,
    "telegram": _telegram,
    "startup": _startup,
    "scaleout": _scaleout,
    "floods": _floods,
}

#: Sections the plain ``python -m bot bench`` runs: the pipeline, then the headline figures
#: (start-up time and open-loop check-in p99, each with its goal; issue 21).
DEFAULT = ("core", "startup")


async def main(section: str, argv: list[str]) -> int:
    """Run one section (or ``all``, each with its defaults) and print one JSON line of figures."""
    names = list(SECTIONS) if section == "all" else list(DEFAULT) if section == "default" else [section]
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        print(f"unknown bench section {unknown[0]!r}; known: all, {', '.join(SECTIONS)}")
        return 2
    results: dict[str, Any] = {}
    for name in names:
        result = SECTIONS[name]()(argv if section not in ("all", "default") else [])
        if inspect.isawaitable(result):
            result = await result
        results[name] = result
    print(json.dumps({"bench": results}, sort_keys=True))
    return 0
