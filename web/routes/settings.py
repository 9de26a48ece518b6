"""Settings: every group setting as a form field generated from its feature's typed model
(``bot.settings.SettingSpec``), saved through the settings service with ``/set``'s checks and
``/set``'s error text. Guarded settings (where data goes, who holds power) are shown read-only:
they are changed in chat, where the change is announced to the moderators."""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from bot.settings import SettingError, SettingSpec
from storage.models import Group
from web.auth import PageError, Viewer

if TYPE_CHECKING:
    from bot.roles import Role
    from web.app import Dashboard, Handler


def _choices(spec: SettingSpec) -> list[str] | None:
    """The words a Literal or a bool setting takes, for a select; None for a free field."""
    annotation = spec.model.model_fields[spec.field].annotation
    if annotation is bool:
        return ["on", "off"]
    if typing.get_origin(annotation) is typing.Literal:
        return [str(v) for v in typing.get_args(annotation)]
    return None


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def routes(dash: Dashboard) -> list[tuple[str, str, Handler]]:
    """``GET /g/{group}/settings`` and ``POST /g/{group}/settings``."""
    services = dash.services

    async def rows(group: Group, role: Role) -> list[dict[str, Any]]:
        out = []
        for key in services.settings.keys():
            spec = services.settings.specs[key]
            value = await services.settings.get(group.id, key)
            out.append(
                {
                    "key": key,
                    "section": key.split(".")[0] if "." in key else "core",
                    "value": _shown(value),
                    "default": _shown(services.settings.default(key)),
                    "description": spec.description,
                    "choices": _choices(spec),
                    "editable": not spec.guarded and role >= spec.required_role,
                    "guarded": spec.guarded,
                }
            )
        return out

    async def show(request: Request, viewer: Viewer, group: Group, role: Role, **values: Any) -> Response:
        return await dash.render(
            request, "settings.html", viewer=viewer, group=group, rows=await rows(group, role), **values
        )

    async def settings_page(request: Request) -> Response:
        viewer = await dash.auth.require(request)
        group, role = await dash.auth.group(viewer, request.path_params["group"])
        return await show(request, viewer, group, role)

    async def save(request: Request) -> Response:
        viewer = await dash.auth.require(request)
        group, role = await dash.auth.group(viewer, request.path_params["group"])
        form = await dash.auth.check_csrf(request, viewer)
        t = services.i18n.t
        lang = dash.language(viewer, group)
        key = form.get("key", "")[:80]
        spec = services.settings.specs.get(key)
        if spec is None:
            raise PageError(400, "bad_value")
        if spec.guarded or role < spec.required_role:
            raise PageError(403, "denied")
        raw = form.get("value", "")[:500]
        try:
            value = await services.settings.set(group.id, key, raw, viewer.account.user_id, dash.auth.now())
        except SettingError as exc:
            error = t(lang, "core.set.bad_value", key=exc.key, allowed=exc.reason)
            return await show(request, viewer, group, role, error=error, status=400, failed=key)
        notice = t(lang, "core.set.done", key=key, value=_shown(value))
        return await show(request, viewer, group, role, notice=notice)

    return [
        ("/g/{group}/settings", "GET", settings_page),
        ("/g/{group}/settings", "POST", save),
    ]
