"""Overview: the group's key figures for 7 or 30 days, with the change against the previous
period (``GroupIndicators``, the numbers ``/stats`` shows), each coloured good / warn / bad by
the group's thresholds (the ``stats.thresholds`` setting) and saying so in words too."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from bot.ports import GroupIndicators, Indicator
from web.charts import sparkline

if TYPE_CHECKING:
    from web.app import Dashboard, Handler

PERIODS = (7, 30)


def _value(ind: Indicator) -> str:
    if ind.value is None:
        return "—"
    if ind.is_ratio:
        return f"{ind.value * 100:.1f}%"
    if ind.key == "net_growth":
        return f"{ind.value:+.0f}"
    if ind.key.endswith("_hours"):
        return f"{ind.value:.1f} h"
    return str(int(ind.value)) if float(ind.value).is_integer() else f"{ind.value:.1f}"


def _delta(ind: Indicator) -> tuple[str, str]:
    """(text, direction) of the change; direction is up, down or flat (for the colour)."""
    if ind.delta is None:
        return "", "flat"
    text = f"{ind.delta * 100:+.1f} pt" if ind.is_ratio else f"{ind.delta * 100:+.0f}%"
    return text, "up" if ind.delta > 0 else "down" if ind.delta < 0 else "flat"


def routes(dash: Dashboard) -> list[tuple[str, str, Handler]]:
    """``GET /g/{group}``."""

    async def overview(request: Request) -> Response:
        viewer, group = await dash.auth.in_group(request)
        days = 30 if request.query_params.get("days") == "30" else 7
        port = dash.services.ports.find(GroupIndicators)
        figures = await port.indicators(group, dash.auth.now(), days) if port is not None else []
        trends = {}
        if figures and port is not None:
            # A sparkline for the figures a day-by-day series exists for (/stats chart's numbers).
            series = await port.activity(group, dash.auth.now(), days)
            trends = {"messages_per_day": series.messages, "dau": series.actives}
        t = dash.services.i18n.t
        lang = dash.language(viewer, group)
        cards = [
            {
                "key": ind.key,
                "value": _value(ind),
                "delta": _delta(ind)[0],
                "direction": _delta(ind)[1],
                # good / warn / bad by the group's thresholds (stats.thresholds), or None
                "tone": ind.tone,
                "spark": sparkline(trends[ind.key], t(lang, f"web.kpi.{ind.key}"))
                if ind.key in trends
                else "",
            }
            for ind in figures
        ]
        return await dash.render(
            request, "overview.html", viewer=viewer, group=group, cards=cards, days=days, periods=PERIODS
        )

    return [("/g/{group}", "GET", overview)]
