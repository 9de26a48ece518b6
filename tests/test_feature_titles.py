"""Every listed feature has a title in both catalogs: ``/help`` groups commands under it (a
missing one showed the bare name ``circles`` in the Chinese help)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from handlers import FEATURES

LOCALES = Path(__file__).resolve().parent.parent / "bot" / "locales"


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_every_feature_has_a_title(lang: str) -> None:
    with (LOCALES / lang / "core.toml").open("rb") as f:
        titles = tomllib.load(f)["core"]["feature"]
    missing = [feature.name for feature in FEATURES if feature.name not in titles]
    assert missing == []
