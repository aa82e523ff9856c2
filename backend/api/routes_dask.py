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

import asyncio
import contextlib
import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

if TYPE_CHECKING:
    import ssl

    from .deps import Services

PREFIX = "/api/v1/dask/"
FORWARDED = ("accept", "accept-encoding", "accept-language", "cache-control", "if-modified-since",
             "if-none-match", "range", "user-agent")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade", "content-length"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")
TIMEOUT_S = 30.0


class RefusedPath(ValueError):
    """A dashboard path that could lead somewhere other than the dashboard."""


def checked_tail(scope: dict[str, Any]) -> str:
    """The request's path below PREFIX as the client encoded it, or RefusedPath."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else scope["path"]
    path = path.split("?", 1)[0]
    if not path.startswith(PREFIX):
        raise RefusedPath(f"the dashboard's paths start with {PREFIX}, found {path!r} (encoded)")
    tail = path[len(PREFIX):]
    segments = tail.split("/")
    for i, segment in enumerate(segments):
        if segment == "" and i != len(segments) - 1:
            raise RefusedPath(f"{path!r} has an empty segment (`//`); the dashboard has no such path")
        decoded = unquote(segment)
        if _CONTROL.search(decoded) or _CONTROL.search(segment):
            raise RefusedPath(f"{path!r} has a backslash or a control character")
        if any(part in (".", "..") for part in decoded.split("/")):
            raise RefusedPath(f"{path!r} has a `.` or `..` segment (maybe percent-encoded), which "
                              "could leave the dashboard")
    return tail


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


def _target(base: str, tail: str, query: bytes) -> str:
    target = f"{base}/{tail}" + (f"?{query.decode('latin-1')}" if query else "")
    want, got = urlsplit(base), urlsplit(target)
    if (got.scheme, got.hostname, got.port) != (want.scheme, want.hostname, want.port):
        raise RefusedPath(f"the path {tail!r} would leave the dashboard")  # pragma: no cover
    return target


def _relative_location(location: str, base: str, tail: str) -> str:
    """A redirect to a path of the dashboard, made relative to the page that asked (so it
    stays below whatever prefix the browser sees); any other location as it is."""
    parts = urlsplit(location)
    if parts.netloc and (parts.scheme, parts.netloc) != urlsplit(base)[:2]:
        return location
    if not parts.path.startswith("/"):
        return location
    relative = "../" * tail.count("/") + parts.path.lstrip("/")
    return (relative or "./") + (f"?{parts.query}" if parts.query else "")


def _problem(status: int, code: str, message: str) -> Response:
    return Response(json.dumps({"error": code, "message": message}), status_code=status,
                    media_type="application/json")


async def dashboard(request: Request) -> Response:
    """GET or HEAD a dashboard page or resource."""
    services: Services = request.app.state.services
    try:
        tail = checked_tail(request.scope)
        base, context = _upstream(services)
        target = _target(base, tail, request.scope.get("query_string", b""))
    except RefusedPath as exc:
        return _problem(400, "bad_request", str(exc))
    except (LookupError, FileNotFoundError) as exc:
        return _problem(503, "unavailable", str(exc))
    import httpx

    headers = {k: v for k, v in request.headers.items() if k in FORWARDED}
    client = httpx.AsyncClient(verify=context if context is not None else True, timeout=TIMEOUT_S,
                               follow_redirects=False)
    try:
        upstream = await client.send(client.build_request(request.method, target, headers=headers),
                                     stream=True)
    except httpx.HTTPError as exc:
        await client.aclose()
        return _problem(502, "unavailable", f"the Dask dashboard did not answer: {type(exc).__name__}")
    answer = [(k, v) for k, v in upstream.headers.multi_items() if k.lower() not in HOP_BY_HOP]
    answer = [(k, _relative_location(v, base, tail) if k.lower() == "location" else v) for k, v in answer]

    async def close() -> None:
        await upstream.aclose()
        await client.aclose()

    from starlette.background import BackgroundTask

    response = StreamingResponse(upstream.aiter_raw(), status_code=upstream.status_code,
                                 background=BackgroundTask(close))
    response.raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer]
    return response


async def dashboard_root(request: Request) -> Response:
    return RedirectResponse("dask/status", status_code=307)


async def dashboard_socket(websocket: WebSocket) -> None:
    """A websocket of the dashboard (bokeh's session), frames passed both ways."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    services: Services = websocket.app.state.services
    try:
        tail = checked_tail(websocket.scope)
        base, context = _upstream(services)
        target = _target(base.replace("http", "ws", 1), tail, websocket.scope.get("query_string", b""))
    except (RefusedPath, LookupError, FileNotFoundError):
        await websocket.close(code=1008)
        return
    subprotocols = list(websocket.scope.get("subprotocols") or [])
    try:
        upstream = await asyncio.wait_for(
            websocket_connect(HTTPRequest(target, ssl_options=context, request_timeout=TIMEOUT_S),
                              subprotocols=subprotocols or None, max_message_size=256 * 1024 * 1024),
            TIMEOUT_S)
    except Exception:  # noqa: BLE001 - the dashboard refused or did not answer
        await websocket.close(code=1011)
        return
    await websocket.accept(subprotocol=upstream.selected_subprotocol)

    async def down() -> None:  # dashboard -> browser
        while True:
            message = await upstream.read_message()
            if message is None:
                return
            if isinstance(message, bytes):
                await websocket.send_bytes(message)
            else:
                await websocket.send_text(message)

    async def up() -> None:  # browser -> dashboard
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("bytes") is not None:
                await upstream.write_message(message["bytes"], binary=True)
            elif message.get("text") is not None:
                await upstream.write_message(message["text"])

    tasks = [asyncio.ensure_future(down()), asyncio.ensure_future(up())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, Exception):
                await task
        upstream.close()
        with contextlib.suppress(Exception):
            await websocket.close()


routes: list[BaseRoute] = [
    Route("/api/v1/dask", dashboard_root, methods=["GET", "HEAD"], name="dask_dashboard_root"),
    Route(PREFIX + "{path:path}", dashboard, methods=["GET", "HEAD"], name="dask_dashboard"),
    WebSocketRoute(PREFIX + "{path:path}", dashboard_socket, name="dask_dashboard_socket"),
]
