"""Charts: activity by day and by hour of the week as inline SVG, the numbers beside them in a
table, and the table as CSV (``GroupIndicators.activity``, the numbers of ``/stats chart``); the
weekly retention cohorts of new members as a shaded table, and as CSV (``GroupIndicators.cohorts``);
members by lifecycle stage over the days (``GroupIndicators.stages``, what ``/lifecycle`` counts,
recorded each night) and the hot words of the last day or week (``GroupIndicators.hot_words``,
``/hot``'s), each as SVG, a table and CSV."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from bot.ports import GroupIndicators
from web.auth import SECURITY_HEADERS, PageError
from web.charts import activity_chart, heatmap, stage_chart, word_bars

if TYPE_CHECKING:
    from web.app import Dashboard, Handler

PERIODS = (7, 30, 90)
#: Weekly join cohorts on the page (the last one's week-4 figure needs five more weeks).
COHORT_WEEKS = 8


def period_of(request: Request) -> int:
    """The ``days`` query parameter, one of ``PERIODS`` (30 otherwise)."""
    raw = request.query_params.get("days", "30")
    return int(raw) if raw in {str(p) for p in PERIODS} else 30


#: The hot words' windows, as ``/hot`` takes them: the query value → hours.
HOT_WINDOWS = {"24h": 24, "7d": 168}


def hot_window_of(request: Request) -> str:
    """The ``hot`` query parameter, a key of ``HOT_WINDOWS`` (7d otherwise)."""
    raw = request.query_params.get("hot", "7d")
    return raw if raw in HOT_WINDOWS else "7d"


def routes(dash: Dashboard) -> list[tuple[str, str, Handler]]:
    """``GET /g/{group}/charts`` and ``GET /g/{group}/charts.csv``."""

    def port() -> GroupIndicators:
        found = dash.services.ports.find(GroupIndicators)
        if found is None:
            raise PageError(404, "not_found")
        return found

    async def charts_page(request: Request) -> Response:
        viewer, group = await dash.auth.in_group(request)
        days = period_of(request)
        series = await port().activity(group, dash.auth.now(), days)
        i18n, lang = dash.services.i18n, dash.language(viewer, group)
        labels = (
            i18n.t(lang, "web.charts.activity", days=days),
            i18n.t(lang, "stats.chart.messages"),
            i18n.t(lang, "stats.chart.actives"),
        )
        weekdays = i18n.t(lang, "stats.chart.weekdays").split(",")
        stages = await port().stages(group, dash.auth.now(), days)
        stage_names = [i18n.t(lang, f"web.kpi.stage_{s}") for s in stages.stages]
        window = hot_window_of(request)
        # The page does not wait for a count (jieba's first load, a week of text): it starts it.
        hot = await port().hot_words(group, dash.auth.now(), HOT_WINDOWS[window], wait=False)
        captions = [
            (w.word, w.score, i18n.t(lang, "web.charts.hot_caption", messages=w.messages, members=w.members))
            for w in hot.words
        ]
        return await dash.render(
            request,
            "charts.html",
            viewer=viewer,
            group=group,
            days=days,
            periods=PERIODS,
            rows=list(zip(series.days, series.messages, series.actives, strict=True)),
            activity_svg=activity_chart(series.days, series.messages, series.actives, labels),
            heatmap_svg=heatmap(series.heatmap, weekdays, i18n.t(lang, "stats.chart.heatmap")),
            cohorts=await port().cohorts(group, dash.auth.now(), COHORT_WEEKS),
            stages=stages,
            stage_names=stage_names,
            stage_rows=list(zip(stages.days, stages.counts, strict=True)),
            stages_svg=stage_chart(
                stages.days,
                stages.counts,
                stages.stages,
                stage_names,
                i18n.t(lang, "web.charts.stages", days=days),
            ),
            hot_windows=tuple(HOT_WINDOWS),
            hot_window=window,
            hot=hot,
            hot_svg=word_bars(captions, i18n.t(lang, "web.charts.hot")) if hot.words else None,
        )

    async def charts_csv(request: Request) -> Response:
        _viewer, group = await dash.auth.in_group(request)
        days = period_of(request)
        series = await port().activity(group, dash.auth.now(), days)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["day", "messages", "active_members"])
        for day, messages, actives in zip(series.days, series.messages, series.actives, strict=True):
            writer.writerow([day.isoformat(), messages, actives])
        return _csv(out.getvalue(), f"group-{group.id}-activity-{days}d.csv")

    async def cohorts_csv(request: Request) -> Response:
        _viewer, group = await dash.auth.in_group(request)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["joined_week_start", "joined", "week_1", "week_2", "week_3", "week_4"])
        for c in await port().cohorts(group, dash.auth.now(), COHORT_WEEKS):
            shares = ["" if v is None else f"{v:.4f}" for v in c.weeks]
            writer.writerow([c.start.isoformat(), c.size, *shares])
        return _csv(out.getvalue(), f"group-{group.id}-retention-cohorts.csv")

    async def stages_csv(request: Request) -> Response:
        _viewer, group = await dash.auth.in_group(request)
        days = period_of(request)
        stages = await port().stages(group, dash.auth.now(), days)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["day", *stages.stages])
        for day, row in zip(stages.days, stages.counts, strict=True):
            writer.writerow([day.isoformat(), *(row if row is not None else [""] * len(stages.stages))])
        writer.writerow(["now", *stages.now])
        return _csv(out.getvalue(), f"group-{group.id}-stages-{days}d.csv")

    async def hot_csv(request: Request) -> Response:
        _viewer, group = await dash.auth.in_group(request)
        window = hot_window_of(request)
        hot = await port().hot_words(group, dash.auth.now(), HOT_WINDOWS[window])
        if hot.state == "off":
            raise PageError(404, "not_found")
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["rank", "word", "score", "messages", "members"])
        for rank, w in enumerate(hot.words, 1):
            writer.writerow([rank, w.word, f"{w.score:.4f}", w.messages, w.members])
        return _csv(out.getvalue(), f"group-{group.id}-hot-words-{window}.csv")

    return [
        ("/g/{group}/charts", "GET", charts_page),
        ("/g/{group}/stages.csv", "GET", stages_csv),
        ("/g/{group}/hotwords.csv", "GET", hot_csv),
        ("/g/{group}/charts.csv", "GET", charts_csv),
        ("/g/{group}/cohorts.csv", "GET", cohorts_csv),
    ]


def _csv(text: str, name: str) -> Response:
    """A CSV download."""
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
    )
