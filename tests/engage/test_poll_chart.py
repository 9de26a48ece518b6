"""A poll's results as a bar chart image (issue 23): attached to ``/poll results`` and to the
final results at the close where the platform takes images, in the group's language with the
CJK font, one bar per option with the counts the text gives. On SQLite and PostgreSQL."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from PIL import Image

from bot.capability import ALL_CAPABILITIES, Capability
from bot.charts import cjk_font
from handlers.engage import poll_chart
from tests.harness import Harness, sends

START = "2026-03-02T09:00:00+08:00"
Record = dict[str, Any]


def _title(path: Path) -> str:
    with Image.open(path) as image:
        assert image.format == "PNG"
        info: dict[str, Any] = dict(getattr(image, "text", {}))
    return str(info["Title"])


async def _poll_with_votes(h: Harness) -> Record:
    await h.say("demo", "max", "hello", role="moderator")
    out = sends(await h.say("demo", "alice", "/poll 周六哪天有空？| 6号 | 13号 | 20号"))
    post = next(r for r in out if r.get("buttons"))
    await h.press("demo", "alice", post["id"], "pl:v:1:2")
    await h.press("demo", "bob", post["id"], "pl:v:1:2")
    await h.press("demo", "carol", post["id"], "pl:v:1:1")
    return post


async def test_results_and_the_close_carry_a_chart_in_chinese(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, clock=START, db_url=db_url) as h:
        await _poll_with_votes(h)
        (answer,) = sends(await h.say("demo", "alice", "/poll results"))
        assert "2. 13号  ███████░░░ 2 票（67%）" in answer["text"]  # the text stays as it was
        chart = Path(answer["image"])
        assert chart.is_file() and _title(chart) == "投票 #1：周六哪天有空？"
        # The same results are the same file; a new vote draws a new one.
        (again,) = sends(await h.say("demo", "bob", "/poll results 1"))
        assert again["image"] == answer["image"]
        closed = sends(await h.say("demo", "alice", "/poll close"))
        final = next(r for r in closed if "最终结果" in r["text"] or r.get("image"))
        assert final.get("image") and Path(final["image"]).is_file()
        assert final["image"] != answer["image"]  # "final" under the title: another chart


async def test_english_group_and_the_setting_and_a_platform_without_images(
    tmp_path: Path, db_url: str
) -> None:
    config = {"bot": {"language": "en"}}
    async with Harness(tmp_path / "en", clock=START, db_url=db_url, config=config) as h:
        await _poll_with_votes(h)
        (answer,) = sends(await h.say("demo", "alice", "/poll results"))
        assert _title(Path(answer["image"])) == "Poll #1: 周六哪天有空？"
        await h.say("demo", "max", "/set engage.poll_chart off")
        (plain,) = sends(await h.say("demo", "alice", "/poll results"))
        assert "image" not in plain and "13号" in plain["text"]
    poorer = ALL_CAPABILITIES - {Capability.IMAGES}
    async with Harness(tmp_path / "noimg", clock=START, db_url=db_url, capabilities=poorer) as h:
        await _poll_with_votes(h)
        (plain,) = sends(await h.say("demo", "alice", "/poll results"))
        assert "image" not in plain and "13号" in plain["text"]


def test_chinese_options_draw_without_missing_glyphs(tmp_path: Path) -> None:
    chart = poll_chart.PollChart("投票 #1：周六哪天有空？", ("六号", "十三号"), (3, 1), "4 人投票 · 最终结果")

    def missing(font: str | None, name: str) -> list[str]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            poll_chart.render(chart, tmp_path / name, font)
        return [str(w.message) for w in caught if "missing from" in str(w.message)]

    assert missing(cjk_font(), "zh.png") == []
    assert missing(None, "tofu.png") != []  # the check sees boxes when there are some


def test_the_chart_grows_with_the_options_and_cuts_long_ones(tmp_path: Path) -> None:
    few = poll_chart.render(poll_chart.PollChart("Q", ("a", "b"), (1, 0), "1 voted"), tmp_path / "few.png")
    ten = poll_chart.PollChart("Q", tuple("x" * 100 + str(i) for i in range(10)), (0,) * 10, "0 voted")
    many = poll_chart.render(ten, tmp_path / "many.png")
    with Image.open(few) as a, Image.open(many) as b:
        assert b.size[1] > a.size[1] and a.size[0] == b.size[0]
    assert not list(tmp_path.glob(".*.tmp"))  # written whole, then renamed into place
