"""Unit tests of the statistics arithmetic: exact figures, no division by zero."""

from __future__ import annotations

import struct
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from handlers.stats import charts
from handlers.stats.hotwords import KeywordEngine
from handlers.stats.kol import KolInput, rank
from handlers.stats.lifecycle import Stage, churn_check, classify
from handlers.stats.metrics import DayRow, compute_kpis, period_bounds
from handlers.stats.nps import nps, parse_score

END = date(2026, 3, 15)


def _rows(days: int, **per_day: int) -> list[DayRow]:
    return [DayRow(day=END - timedelta(days=i), **per_day) for i in range(days)]


def test_period_bounds_are_adjacent() -> None:
    assert period_bounds(END, 7) == (date(2026, 3, 9), END, date(2026, 3, 2), date(2026, 3, 8))


def test_kpis_exact_figures_and_changes() -> None:
    cur = [
        DayRow(END - timedelta(days=i), messages=20, replies=5, dau=4, checkins=2, joins=1) for i in range(7)
    ]
    prev = [
        DayRow(END - timedelta(days=7 + i), messages=10, replies=5, dau=2, checkins=2, leaves=1)
        for i in range(7)
    ]
    k = compute_kpis(
        end=END,
        days=7,
        rows=cur + prev,
        members_now=50,
        wau=(10, 5),
        mau=(20, 16),
        top=[(1, "alice", 30, 10), (2, "bob", 12, 0)],
        hours={9: (40, 20), 21: (60, 60), 3: (0, 5), 12: (40, 0)},
    )
    assert k.dau.value == 4 and k.dau.delta == 1.0
    assert k.wau.value == 10 and k.wau.delta == 1.0
    assert k.mau.value == 20 and k.mau.delta == 0.25
    assert k.stickiness.value == pytest.approx(0.2)
    assert k.stickiness.delta == pytest.approx(0.2 - 2 / 16)
    assert k.messages_per_day.value == 20 and k.messages_per_day.delta == 1.0
    assert k.interaction_rate.value == 0.25 and k.interaction_rate.delta == pytest.approx(-0.25)
    assert k.checkin_rate.value == 0.5 and k.checkin_rate.delta == pytest.approx(-0.5)
    assert k.joined.value == 7 and k.joined.delta is None  # nothing to compare: previous was 0
    assert k.left.value == 0 and k.left.delta == -1.0
    assert [(t.member_id, t.messages, t.change.delta) for t in k.top] == [(1, 30, 2.0), (2, 12, None)]
    # Busiest: 21h first, then the 9h/12h tie broken by the earlier hour; a zero hour never shows.
    assert [(h.hour, h.messages) for h in k.busiest_hours] == [(21, 60), (9, 40), (12, 40)]
    assert k.has_data


def test_kpis_with_no_data_never_divide_by_zero() -> None:
    k = compute_kpis(end=END, days=30, rows=[], members_now=0, wau=(0, 0), mau=(0, 0))
    assert not k.has_data
    assert k.stickiness.value is None
    assert k.interaction_rate.value is None
    assert k.checkin_rate.value is None
    assert k.dau.delta is None and k.messages_per_day.value == 0


def test_checkin_rate_is_capped() -> None:
    k = compute_kpis(
        end=END, days=7, rows=_rows(7, checkins=5, dau=2, messages=2), members_now=5, wau=(2, 0), mau=(2, 0)
    )
    assert k.checkin_rate.value == 1.0


NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("joined", "posted", "left", "stage"),
    [
        (3, None, None, Stage.NEW),
        (3, 1, None, Stage.NEW),
        (100, 7, None, Stage.ACTIVE),
        (100, 8, None, Stage.SLEEPING),
        (100, 30, None, Stage.SLEEPING),
        (100, 31, None, Stage.CHURNED),
        (20, None, None, Stage.SLEEPING),
        (40, None, None, Stage.CHURNED),
        (None, 2, None, Stage.ACTIVE),
        (100, 5, 2, Stage.LEFT),
        (None, None, None, Stage.CHURNED),
    ],
)
def test_lifecycle_stages(joined: int | None, posted: int | None, left: int | None, stage: Stage) -> None:
    def ago(d: int | None) -> datetime | None:
        return None if d is None else NOW - timedelta(days=d)

    assert classify(NOW, joined_at=ago(joined), last_active_at=ago(posted), left_at=ago(left)) is stage


def test_churn_warns_on_25_percent_drop_not_15() -> None:
    assert churn_check([100] * 28 + [75] * 7).warn
    assert not churn_check([100] * 28 + [85] * 7).warn
    exactly = churn_check([100] * 28 + [80] * 7)
    assert not exactly.warn and exactly.ratio == pytest.approx(0.8)
    assert not churn_check([100] * 30).enough_data
    assert not churn_check([0] * 35).warn


def test_nps_formula_and_text_answers() -> None:
    r = nps([10, 9, 9, 8, 7, 6, 0, 3, 10, 10])
    assert (r.count, r.promoters, r.passives, r.detractors) == (10, 5, 2, 3)
    assert r.score == 20.0
    assert nps([]).score is None
    assert parse_score("１０") == 10 and parse_score(" 7 ") == 7
    assert parse_score("11") is None and parse_score("-1") is None and parse_score("seven") is None
    with pytest.raises(ValueError):
        nps([11])


def test_kol_composite_is_normalised_and_stable() -> None:
    ranked = rank(
        [
            KolInput(1, "spammer", messages=1000),
            KolInput(2, "helper", messages=100, replies_received=50, topic_replies=10, streak=40),
            KolInput(3, "quiet"),
            KolInput(4, "host", messages=10, activities=4, replies_received=5),
        ]
    )
    assert [k.member_id for k in ranked] == [2, 1, 4]
    assert ranked[0].score == pytest.approx(100 * (0.3 + 0.2 + 0.2 * 0.1 + 0.15))


@pytest.fixture(scope="module")
def kw() -> KeywordEngine:
    return KeywordEngine()


def test_hot_words_cap_floods_and_drop_stop_words(kw: KeywordEngine) -> None:
    msgs = [(1, "周末一起去爬山吧 https://example.com/爬山")] + [(2, f"爬山 装备 推荐 {i}") for i in range(3)]
    msgs += [(3, "我们 就是 这个 the and 哈哈哈")] + [(9, "刷屏刷屏 刷屏刷屏")] * 50 + [(4, "爬山 好累")]
    hot = kw.hot_words(msgs, top=5)
    words = [h.word for h in hot]
    assert words[0] == "爬山"
    assert hot[0].members == 3 and hot[0].messages == 5
    assert not {"我们", "就是", "这个", "the", "and", "哈哈哈", "https", "example"} & set(words)
    flood = next(h for h in hot if h.word == "刷屏")
    assert flood.messages == 50 and flood.members == 1  # shown as it is, weighted as the cap
    assert flood.score < hot[0].score
    assert "爬山" not in [h.word for h in kw.hot_words(msgs, exclude=lambda w: w == "爬山")]


def test_feedback_grouping(kw: KeywordEngine) -> None:
    groups = kw.group([(1, "签到积分太少"), (2, "积分商城东西少"), (3, "希望多点线下活动"), (4, "嗯")])
    flat = {k: ids for k, ids in groups}
    assert any(1 in ids and 2 in ids for ids in flat.values())
    assert 4 in flat[None]


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_chart_is_a_valid_png(tmp_path: Path) -> None:
    days = [END - timedelta(days=29 - i) for i in range(30)]
    data = charts.ChartData(
        days,
        [i for i in range(30)],
        [i % 5 for i in range(30)],
        [[r + c for c in range(24)] for r in range(7)],
        {"new": 1, "active": 3},
    )
    labels = charts.ChartLabels("t", "a", "m", "x", "h", "hour", list("1234567"), "l", "n", "none")
    out = charts.render_health(data, labels, tmp_path / "c.png")
    width, height = _png_size(out)
    assert (width, height) == (800, 880)
    assert 20_000 < out.stat().st_size < 500_000
    empty = charts.ChartData([], [], [], [], {})
    assert _png_size(charts.render_health(empty, labels, tmp_path / "e.png")) == (800, 880)


def test_cjk_font_found_exactly_when_one_covers_chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    from handlers.stats.report import chart_language

    def covers(path: str) -> bool:
        try:
            charmap = FT2Font(path).get_charmap()
        except (OSError, RuntimeError):
            return False
        return all(ord(ch) in charmap for ch in "数据活跃成员")

    # The first call registers the packaged CJK font; then every candidate is on the list.
    font = charts.cjk_font()
    # matplotlib's "Last Resort" font maps every code point to a box glyph: that is the tofu.
    fonts = [f for f in font_manager.fontManager.ttflist if "last resort" not in f.name.lower()]
    any_cjk = any(covers(f.fname) for f in fonts)
    assert (font is not None) == any_cjk
    # Without a CJK font Chinese groups get English charts (never boxes); with one, Chinese.
    assert chart_language("en") == "en"
    assert chart_language("zh-CN") == ("zh-CN" if any_cjk else "en")
    monkeypatch.setattr(charts, "cjk_font", lambda: "Noto Sans CJK SC")
    assert chart_language("zh-CN") == "zh-CN"
