"""Forward the panels' calls to the plait backend, adding its token.

`routes.py` decides what may pass and builds the upstream URL; these handlers
put it on the wire under Jupyter's login: `ProxyHandler` for the panels' API,
`DaskHandler` for the Dask dashboard (pages and its WebSocket).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from jupyter_server.utils import url_path_join
from plait.remote import API, Connection, discover, start_server
from tornado import httpclient, web, websocket

from .routes import Forward, Refusal, dask_target, match

_FORWARDED_HEADERS = ("content-type", "etag", "cache-control", "retry-after")
_DASK_REQUEST_HEADERS = ("accept", "if-none-match", "if-modified-since")
_DASK_RESPONSE_HEADERS = ("content-type", "etag", "cache-control", "last-modified", "retry-after")
# Close codes a WebSocket endpoint may send (1005, 1006 and 1015 are only ever reported).
_SENDABLE_CLOSE = {1000, 1001, 1002, 1003, *range(1007, 1015), *range(3000, 5000)}


class BackendUnavailable(Exception):
    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error, self.message = error, message


class Backend:
    """The connection to the plait backend, found (or started) on first use."""

    def __init__(self) -> None:
        self._conn: Connection | None = None
        self._client: httpx.AsyncClient | None = None
        self._lock = asyncio.Lock()

    async def client(self) -> httpx.AsyncClient:
        async with self._lock:
            if self._client is None:
                conn = discover()
                if conn.endpoint is None:
                    url = await asyncio.get_running_loop().run_in_executor(None, start_server)
                    conn = discover(url)
                headers = {"User-Agent": "plait-jupyterlab"}
                if conn.token:
                    headers["Authorization"] = f"Bearer {conn.token}"
                self._conn = conn
                self._client = httpx.AsyncClient(base_url=str(conn.endpoint), headers=headers,
                                                 timeout=httpx.Timeout(30.0, connect=5.0))
            return self._client

    async def connection(self) -> Connection:
        """Where the backend is and its token (found or started as for `client`)."""
        await self.client()
        assert self._conn is not None
        return self._conn

    @property
    def endpoint(self) -> str | None:
        return self._conn.endpoint if self._conn else None

    async def send(self, method: str, forward: Forward, *, content: bytes | None = None,
                   headers: dict[str, str] | None = None) -> httpx.Response:
        """`forward` on the wire; a backend that moved is looked up again once.

        A GET is asked again after any transport error; a POST only when the
        connection was never made, since a backend that received it may have
        acted (a second try could launch the same execution twice).
        """
        for attempt in (1, 2):
            try:
                client = await self.client()
                return await client.request(method, forward.path, params=list(forward.query),
                                            content=content, headers=headers or {})
            except httpx.TransportError as exc:
                await self.reset()  # a restarted backend has a new port: look again
                sent = not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
                if attempt == 2 or (method != "GET" and sent):
                    raise BackendUnavailable(
                        "backend_unreachable",
                        f"the plait backend did not answer ({type(exc).__name__}: {exc}); "
                        "start it with `plait server` or set PLAIT_ENDPOINT") from exc
            except Exception as exc:  # noqa: BLE001 - starting the backend failed: say why
                raise BackendUnavailable("backend_unavailable", str(exc)) from exc
        raise AssertionError("unreachable")

    async def reset(self) -> None:
        """Forget the connection (the backend moved or restarted); the next call finds it again."""
        async with self._lock:
            if self._client is not None:
                await self._client.aclose()
            self._client, self._conn = None, None

    async def close(self) -> None:
        await self.reset()


def _json_error(handler: web.RequestHandler, status: int, error: str, message: str) -> None:
    handler.set_status(status)
    handler.set_header("Content-Type", "application/json")
    handler.finish(json.dumps({"error": error, "message": message}))


def _raw_rest(handler: web.RequestHandler, prefix: str) -> str | None:
    """The request's path after `prefix`, still percent-encoded (tornado's path args are decoded)."""
    path = handler.request.path
    return path[len(prefix):] if path.startswith(prefix) else None


def dashboard_url(base_url: str) -> str:
    """The Dask dashboard as the lab serves it: under Jupyter's base URL and login."""
    return url_path_join(base_url, "plait", "api", "dask", "status")


def _with_lab_dashboard(health: Any, base_url: str) -> Any:
    """Health with its `dask_dashboard` link pointing at the lab's forward (if there is a dashboard)."""
    if isinstance(health, dict) and health.get("dask_dashboard"):
        return {**health, "dask_dashboard": dashboard_url(base_url)}
    return health


class ProxyHandler(APIHandler):
    """`/plait/api/<route>` → the backend's `/api/v1/<route>`, under Jupyter's authentication."""

    def initialize(self, backend: Backend, prefix: str) -> None:
        self.backend, self.prefix = backend, prefix

    @web.authenticated
    async def get(self, _path: str) -> None:
        await self._forward("GET")

    @web.authenticated
    async def post(self, _path: str) -> None:
        await self._forward("POST")

    async def _forward(self, method: str) -> None:
        raw = _raw_rest(self, self.prefix)
        found = match(method, raw, self.request.query) if raw is not None else \
            Refusal(404, "not_found", f"{self.request.path} is not under {self.prefix}")
        if isinstance(found, Refusal):
            _json_error(self, found.status, found.error, found.message)
            return
        body = self.request.body if method == "POST" else None
        try:
            response = await self.backend.send(method, found, content=body,
                                                headers={"Content-Type": "application/json"} if body else {})
        except BackendUnavailable as exc:
            _json_error(self, 502, exc.error, exc.message)
            return
        content = response.content
        if found.route is not None and found.route.template == ("health",) and response.status_code == 200:
            content = json.dumps(_with_lab_dashboard(response.json(), self.base_url)).encode()
        self.set_status(response.status_code)
        for name in _FORWARDED_HEADERS:
            if name in response.headers:
                self.set_header(name, response.headers[name])
        self.finish(content)


class DaskHandler(WebSocketMixin, websocket.WebSocketHandler, JupyterHandler):
    """`/plait/api/dask/<path>` → the backend's `/api/v1/dask/<path>`: the Dask dashboard.

    Plain GETs are pages and their resources (a visitor without the Jupyter
    login is sent to the login page); a GET that asks for a WebSocket upgrade is
    relayed message by message to a WebSocket opened upstream with the token.
    Jupyter's rules hold: no XSRF check on GET or WebSocket, and a WebSocket from
    another origin is refused unless the request carries Jupyter's token.
    """

    def initialize(self, backend: Backend, prefix: str) -> None:
        self.backend, self.prefix = backend, prefix
        self._upstream: websocket.WebSocketClientConnection | None = None
        self._relay: asyncio.Task[None] | None = None

    def _upgrading(self) -> bool:
        return self.request.headers.get("Upgrade", "").lower() == "websocket"

    def set_default_headers(self) -> None:
        if not self._upgrading():  # a WebSocket handshake takes none of a page's headers
            super().set_default_headers()

    async def prepare(self) -> None:  # type: ignore[override]
        if self._upgrading():
            await super().prepare()  # 403 without the login: a WebSocket cannot follow a redirect
        else:
            await JupyterHandler.prepare(self)  # a page: the login page first

    async def get(self, _path: str) -> None:  # type: ignore[override]
        raw = _raw_rest(self, self.prefix)
        found = dask_target(raw, self.request.query) if raw is not None else \
            Refusal(404, "not_found", f"{self.request.path} is not under {self.prefix}")
        if isinstance(found, Refusal):
            _json_error(self, found.status, found.error, found.message)
        elif self._upgrading():
            await self._open(found)
        else:
            await self._page(found)

    @web.authenticated
    async def _page(self, forward: Forward) -> None:
        headers = {k: self.request.headers[k] for k in _DASK_REQUEST_HEADERS if k in self.request.headers}
        try:
            response = await self.backend.send("GET", forward, headers=headers)
        except BackendUnavailable as exc:
            _json_error(self, 502, exc.error, exc.message)
            return
        self.set_status(response.status_code)
        for name in _DASK_RESPONSE_HEADERS:
            if name in response.headers:
                self.set_header(name, response.headers[name])
        location = self._location(response.headers.get("location"))
        if location:
            self.set_header("Location", location)
        self.finish(response.content if response.status_code != 304 else None)

    def _location(self, location: str | None) -> str | None:
        """An upstream redirect inside the dashboard, as a path under the lab's forward (else None)."""
        if not location:
            return None
        parts = urlsplit(location)
        endpoint = urlsplit(self.backend.endpoint or "")
        if parts.scheme or parts.netloc:
            if (parts.scheme, parts.netloc) != (endpoint.scheme, endpoint.netloc):
                return None  # elsewhere: the lab forwards only the dashboard
        if not parts.path.startswith("/"):
            return location  # relative: the browser resolves it under the forward
        inside = parts.path.removeprefix(f"{API}/dask/").lstrip("/")
        query = f"?{parts.query}" if parts.query else ""
        return url_path_join(self.base_url, "plait", "api", "dask", inside) + query

    @ws_authenticated
    async def _open(self, forward: Forward) -> None:
        if not self.check_origin():  # before anything is opened upstream
            raise web.HTTPError(403, "cross-origin WebSocket to the Dask dashboard refused")
        try:
            conn = await self.backend.connection()
        except Exception as exc:  # noqa: BLE001 - starting the backend failed: say why
            _json_error(self, 502, "backend_unavailable", str(exc))
            return
        endpoint = str(conn.endpoint).rstrip("/")
        url = "ws" + endpoint.removeprefix("http") + forward.path
        if forward.query:
            url += "?" + urlencode(forward.query)
        offered = [p.strip() for p in self.request.headers.get("Sec-WebSocket-Protocol", "").split(",")
                   if p.strip()]
        headers = {"User-Agent": "plait-jupyterlab"}
        if conn.token:
            headers["Authorization"] = f"Bearer {conn.token}"
        request = httpclient.HTTPRequest(url, headers=headers, connect_timeout=5, request_timeout=30)
        try:
            self._upstream = await websocket.websocket_connect(
                request, subprotocols=offered or None,
                max_message_size=self.settings.get("websocket_max_message_size", 10 * 1024 * 1024))
        except httpclient.HTTPClientError as exc:
            status = exc.code if exc.code in (401, 403, 404) else 502
            _json_error(self, status, "dashboard_refused",
                        f"the backend refused the Dask dashboard's WebSocket (HTTP {exc.code})")
            return
        except OSError as exc:
            await self.backend.reset()
            _json_error(self, 502, "backend_unreachable",
                        f"the plait backend did not answer ({type(exc).__name__}: {exc}); "
                        "start it with `plait server` or set PLAIT_ENDPOINT")
            return
        await websocket.WebSocketHandler.get(self, forward.path)

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        chosen = self._upstream.selected_subprotocol if self._upstream else None
        return chosen if chosen in subprotocols else None

    def open(self, *args: Any, **kwargs: Any) -> None:
        super().open(*args, **kwargs)  # Jupyter's keep-alive pings
        self._relay = asyncio.ensure_future(self._from_upstream())

    async def _from_upstream(self) -> None:
        upstream = self._upstream
        assert upstream is not None
        while True:
            message = await upstream.read_message()
            if message is None:
                break
            try:
                await self.write_message(message, binary=isinstance(message, bytes))
            except websocket.WebSocketClosedError:
                break
        code = upstream.close_code if upstream.close_code in _SENDABLE_CLOSE else None
        self.close(code, upstream.close_reason if code else None)

    async def on_message(self, message: str | bytes) -> None:
        if self._upstream is None:
            return
        try:
            await self._upstream.write_message(message, binary=isinstance(message, bytes))
        except websocket.WebSocketClosedError:
            self.close()

    def on_close(self) -> None:
        if self._upstream is not None:
            self._upstream.close()
        if self._relay is not None and not self._relay.done():
            self._relay.cancel()


class InfoHandler(APIHandler):
    """Where the panels' backend is (never its token)."""

    def initialize(self, backend: Backend) -> None:
        self.backend = backend

    @web.authenticated
    async def get(self) -> None:
        info: dict[str, Any] = {"endpoint": None, "ok": False}
        try:
            client = await self.backend.client()
            response = await client.get(f"{API}/health")
            health = response.json() if response.status_code == 200 else None
            info = {"endpoint": self.backend.endpoint, "ok": response.status_code == 200,
                    "health": _with_lab_dashboard(health, self.base_url)}
        except Exception as exc:  # noqa: BLE001 - reported to the panel as text
            info["message"] = f"{type(exc).__name__}: {exc}"
        self.finish(json.dumps(info))


def setup_handlers(server_app: Any) -> None:
    web_app = server_app.web_app
    base = web_app.settings["base_url"]
    backend = Backend()
    web_app.settings["plait_backend"] = backend
    api = url_path_join(base, "plait", "api") + "/"
    dask = url_path_join(api, "dask") + "/"
    web_app.add_handlers(".*$", [
        (url_path_join(base, "plait", "info"), InfoHandler, {"backend": backend}),
        (dask + "(.*)", DaskHandler, {"backend": backend, "prefix": dask}),
        (api + "(.*)", ProxyHandler, {"backend": backend, "prefix": api}),
    ])
