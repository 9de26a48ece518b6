"""Charts: activity by day and by hour of the week as inline SVG, the numbers beside them in a
table, and the table as CSV (``GroupIndicators.activity``, the numbers of ``/stats chart``); the
weekly retention cohorts of new members as a shaded table, and as CSV (``GroupIndicators.cohorts``)."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from bot.ports import GroupIndicators
from web.auth import SECURITY_HEADERS, PageError
from web.charts import activity_chart, heatmap

if TYPE_CHECKING:
    from web.app import Dashboard, Handler

PERIODS = (7, 30, 90)
#: Weekly join cohorts on the page (the last one's week-4 figure needs five more weeks).
COHORT_WEEKS = 8


def period_of(request: Request) -> int:
    """The ``days`` query parameter, one of ``PERIODS`` (30 otherwise)."""
    raw = request.query_params.get("days", "30")
    return int(raw) if raw in {str(p) for p in PERIODS} else 30


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

    return [
        ("/g/{group}/charts", "GET", charts_page),
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
