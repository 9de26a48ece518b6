"""The planning features on the real core: a console harness with exactly these features."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from bot.feature import Feature
from handlers import activities, core, onboarding, schedules, topics
from tests.harness import Harness


def planning_features() -> list[Feature]:
    """The core feature plus the four planning features."""
    return [core.FEATURE, topics.FEATURE, schedules.FEATURE, activities.FEATURE, onboarding.FEATURE]


HarnessFactory = Callable[..., AbstractAsyncContextManager[Harness]]


@pytest.fixture
def make_harness(tmp_path: Path) -> HarnessFactory:
    """``async with make_harness(clock=..., config=...) as h``."""

    def make(**kw: Any) -> Harness:
        kw.setdefault("features", planning_features())
        return Harness(tmp_path, **kw)

    return make


@pytest.fixture
async def h(make_harness: HarnessFactory) -> AsyncIterator[Harness]:
    """A harness at Monday 2026-03-02 09:00 Shanghai."""
    async with make_harness() as harness:
        yield harness
