"""`/api/v1/dask/{path}`: the Dask dashboard, behind the bearer token like every route.

The embedded cluster's dashboard listens on loopback only and asks every client
for a certificate of the home's CA (execution/executor.py), so no other local
user opens it; users reach it here. The lab's server extension forwards
`/plait/api/dask/...` (HTTP and WebSocket) here with the token.

    GET /api/v1/dask/status            the dashboard's /status page
    GET /api/v1/dask/static/js/...     what the page loads (relative URLs)
    WS  /api/v1/dask/status/ws         the page's bokeh session (subprotocols passed on)

The dashboard's pages name their scripts, styles, links and websocket
(`<page>/ws`) relative to the page, so it works under any prefix, as it does
through jupyter-server-proxy; a redirect to an absolute path is rewritten to a
relative one. Only the dashboard is reached: the upstream's scheme, host and
port come from the executor, and a path that could leave it (a `.` or `..`
segment, also percent-encoded, an empty segment such as `//`, a backslash, a
control character) is refused with 400. Requests carry no client header but
the few listed in FORWARDED (never the token).

These are plain Starlette routes: the dashboard is an HTML application, not
part of the JSON API that the OpenAPI document describes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from ..proxy import Passing, RefusedPath, forward_http, forward_socket, problem
from ..proxy import checked_tail as _checked_tail

if TYPE_CHECKING:
    import ssl

    from .deps import Services

PREFIX = "/api/v1/dask/"
# Only these headers of the browser's request reach the dashboard (never the token or cookies).
FORWARDED = ("accept", "accept-encoding", "accept-language", "cache-control", "if-modified-since",
             "if-none-match", "range", "user-agent")


def checked_tail(scope: dict[str, Any]) -> str:
    """The request's path below PREFIX as the client encoded it, or RefusedPath."""
    return _checked_tail(scope, PREFIX)


def _upstream(services: Services) -> tuple[str, ssl.SSLContext | None]:
    """The dashboard's base URL and the SSL context to reach it with."""
    base = services.executor.dashboard_upstream
    if not base:
        raise LookupError("the Dask cluster of this server has no dashboard")
    context = None
    if base.startswith("https://"):
        tls = services.settings.dask_tls()
        if tls is not None:
            context = tls.client_context()
    return base.rstrip("/"), context


async def dashboard(request: Request) -> Response:
    """GET or HEAD a dashboard page or resource."""
    services: Services = request.app.state.services
    try:
        tail = checked_tail(request.scope)
        base, context = _upstream(services)
    except RefusedPath as exc:
        return problem(400, "bad_request", str(exc))
    except (LookupError, FileNotFoundError) as exc:
        return problem(503, "unavailable", str(exc))
    return await forward_http(request, base, tail, context=context, passing=Passing(only=FORWARDED))


async def dashboard_root(request: Request) -> Response:
    return RedirectResponse("dask/status", status_code=307)


async def dashboard_socket(websocket: WebSocket) -> None:
    """A websocket of the dashboard (bokeh's session), frames passed both ways."""
    services: Services = websocket.app.state.services
    try:
        tail = checked_tail(websocket.scope)
        base, context = _upstream(services)
    except (RefusedPath, LookupError, FileNotFoundError):
        await websocket.close(code=1008)
        return
    await forward_socket(websocket, base.replace("http", "ws", 1), tail, context=context, passing=Passing(only=()))


routes: list[BaseRoute] = [
    Route("/api/v1/dask", dashboard_root, methods=["GET", "HEAD"], name="dask_dashboard_root"),
    Route(PREFIX + "{path:path}", dashboard, methods=["GET", "HEAD"], name="dask_dashboard"),
    WebSocketRoute(PREFIX + "{path:path}", dashboard_socket, name="dask_dashboard_socket"),
]
