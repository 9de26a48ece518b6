"""The bot's HTTP side: one small Starlette app, served by uvicorn inside the bot's event loop.

Layering: ``web`` sits beside ``adapters``, above the core. It imports ``bot`` (metrics, the
``Probe`` it is handed) and never ``bot.app``: ``bot/cli.py`` wires the running ``App`` in as the
probe. Today it serves what an operator's monitoring needs (issue 20):

* ``/healthz``: the process is up and its event loop answers (200);
* ``/readyz``: database reachable, migrations current, every adapter connected (200, else 503),
  with each check in a JSON body;
* ``/metrics``: the worker's Prometheus series (``bot.metrics``).

The dashboard (issue 17) adds its pages by passing more routes to ``create_app``
(``extra_routes``); ``[web] metrics = true`` serves the three routes above without them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Protocol

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot import metrics

log = logging.getLogger(__name__)


class Probe(Protocol):
    """What the web side asks of the running bot."""

    async def readiness(self) -> Mapping[str, bool]:
        """Each readiness check by name (``database``, ``migrations``, ``adapter:<name>``)."""
        ...


def health_routes(probe: Probe) -> list[BaseRoute]:
    """``/healthz``, ``/readyz`` and ``/metrics`` over ``probe``."""

    async def healthz(_request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def readyz(_request: Request) -> Response:
        checks = dict(await probe.readiness())
        ready = bool(checks) and all(checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    async def metrics_page(_request: Request) -> Response:
        return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_page, methods=["GET"]),
    ]


def create_app(probe: Probe, *, extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The ASGI app: the health routes plus whatever pages a caller adds (the dashboard)."""
    return Starlette(routes=[*health_routes(probe), *extra_routes])


class _EmbeddedServer(uvicorn.Server):
    """uvicorn's server without its own signal handling: the bot's SIGTERM handler decides when
    to stop, and stops this server as one step of its graceful shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class WebServer:
    """uvicorn serving an ASGI app as a task of the running loop."""

    def __init__(self, app: Starlette, host: str, port: int) -> None:
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", lifespan="off", access_log=False
        )
        self._server = _EmbeddedServer(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start serving; returns once the socket listens (raises when it cannot bind)."""
        self._task = asyncio.get_running_loop().create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                # uvicorn logs a failed bind and exits its task with SystemExit: make it an error
                # the caller can report, not the end of the whole bot.
                with contextlib.suppress(SystemExit):
                    self._task.result()
                config = self._server.config
                raise OSError(f"the web server could not listen on {config.host}:{config.port}")
            await asyncio.sleep(0.01)

    @property
    def port(self) -> int:
        """The port actually bound (useful with port 0)."""
        for server in self._server.servers:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        return self._server.config.port

    async def stop(self) -> None:
        """Stop accepting, finish open requests, return."""
        if self._task is None:
            return
        self._server.should_exit = True
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None
