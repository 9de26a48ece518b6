"""A Chinese group's chart is drawn in Chinese with the CJK font the install brings (issue 21)."""

from __future__ import annotations

import warnings
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from PIL import Image

from handlers.stats import charts
from tests.harness import Harness, sends

START = "2026-03-02T09:00:00+08:00"


def _title(path: Path) -> str:
    with Image.open(path) as image:
        info: dict[str, Any] = dict(getattr(image, "text", {}))
    return str(info["Title"])


async def _chart(tmp_path: Path, lang: str) -> Path:
    config = {"bot": {"language": lang}, "stats": {"weekly_report": False}}
    async with Harness(tmp_path, clock=START, config=config) as h:
        for user in ("alice", "bob"):
            await h.say("demo", user, "hi")
        await h.advance(86400)
        sent = sends(await h.say("demo", "mod", "/stats chart", role="moderator"))
    return Path(sent[0]["image"])


async def test_zh_cn_chart_is_labelled_in_chinese(tmp_path: Path) -> None:
    # The packaged font needs no system font: it is found through the package metadata.
    assert charts.packaged_cjk_font() is not None
    assert charts.cjk_font() == "Noto Sans CJK JP"
    assert _title(await _chart(tmp_path / "zh", "zh-CN")) == "demo 群数据"
    assert _title(await _chart(tmp_path / "en", "en")) == "demo: group health"


def _labels(lang: str) -> charts.ChartLabels:
    from bot.i18n import I18n

    t = I18n.load().t
    return charts.ChartLabels(
        title=t(lang, "stats.chart.title", group="测试群"),
        activity=t(lang, "stats.chart.activity"),
        messages=t(lang, "stats.chart.messages"),
        actives=t(lang, "stats.chart.actives"),
        heatmap=t(lang, "stats.chart.heatmap"),
        hour=t(lang, "stats.chart.hour"),
        weekdays=t(lang, "stats.chart.weekdays").split(","),
        lifecycle=t(lang, "stats.chart.lifecycle"),
        members=t(lang, "stats.chart.members"),
        no_data=t(lang, "stats.chart.no_data"),
    )


def _missing_glyphs(labels: charts.ChartLabels, path: Path, font: str | None) -> list[str]:
    days = [date(2026, 3, 1) + timedelta(days=i) for i in range(30)]
    data = charts.ChartData(days, [5] * 30, [2] * 30, [[1] * 24 for _ in range(7)], {"新人": 3, "活跃": 5})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        charts.render_health(data, labels, path, font)
    return [str(w.message) for w in caught if "missing from" in str(w.message)]


def test_chinese_labels_render_without_missing_glyphs(tmp_path: Path) -> None:
    labels = _labels("zh-CN")
    assert labels.lifecycle != _labels("en").lifecycle  # really the Chinese words
    assert _missing_glyphs(labels, tmp_path / "zh.png", charts.cjk_font()) == []
    # The check sees tofu when there is some: the same labels with the Latin font alone.
    assert _missing_glyphs(labels, tmp_path / "tofu.png", None) != []
