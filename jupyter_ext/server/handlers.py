"""Forward the panels' calls to the plait backend, adding its token.

`routes.py` decides what may pass and builds the upstream URL; these handlers
put it on the wire under Jupyter's login: `ProxyHandler` for the panels' API,
`DaskHandler` for the Dask dashboard (pages and its WebSocket),
`ProxiedHandler` for a browser workspace (code-server) and for an app (any
method, bodies streamed both ways, and their WebSockets).
"""

from __future__ import annotations

import asyncio
import json
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import httpx
from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from jupyter_server.utils import url_path_join
from plait.remote import API, Connection, discover, start_server
from tornado import httpclient, iostream, web, websocket

from .dashboards import DashboardHandler
from .routes import (
    PROXIED,
    Forward,
    Refusal,
    dask_target,
    match,
    proxied_prefix,
    proxied_target,
)

_FORWARDED_HEADERS = ("content-type", "etag", "cache-control", "retry-after")
_DASK_REQUEST_HEADERS = ("accept", "if-none-match", "if-modified-since")
_DASK_RESPONSE_HEADERS = ("content-type", "etag", "cache-control", "last-modified", "retry-after")
# Never passed between the browser and a workspace or app: the connection's own (hop-by-hop), the lab's
# login (the backend gets its token instead) and what would tell the backend the lab's address.
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
                         "trailer", "trailers", "transfer-encoding", "upgrade"})
_PROXIED_DROPPED_REQUEST = _HOP_BY_HOP | {"host", "cookie", "authorization", "x-xsrftoken", "x-xsrf-token",
                                            "origin", "referer", "content-length", "x-forwarded-for",
                                            "x-forwarded-host", "x-forwarded-proto", "forwarded"}
_PROXIED_DROPPED_RESPONSE = _HOP_BY_HOP | {"set-cookie", "location", "content-length", "server", "date"}
_BODY_CHUNKS = 16  # chunks of a request body held between the browser and the backend
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
                # One client speaks for every lab user: it keeps no cookie a response sets (a
                # workspace's would otherwise go with everyone's later requests).
                jar = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
                self._client = httpx.AsyncClient(base_url=str(conn.endpoint), headers=headers, cookies=jar,
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

    @web.authenticated
    async def put(self, _path: str) -> None:
        await self._forward("PUT")

    async def _forward(self, method: str) -> None:
        raw = _raw_rest(self, self.prefix)
        found = match(method, raw, self.request.query) if raw is not None else \
            Refusal(404, "not_found", f"{self.request.path} is not under {self.prefix}")
        if isinstance(found, Refusal):
            _json_error(self, found.status, found.error, found.message)
            return
        body = self.request.body if method in ("POST", "PUT") else None
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

    # What the relayed WebSocket reaches, for messages and errors (a subclass relays another).
    what = "the Dask dashboard"
    refused_error = "dashboard_refused"

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
            raise web.HTTPError(403, f"cross-origin WebSocket to {self.what} refused")
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
            status = exc.code if exc.code in (401, 403, 404, 503) else 502
            _json_error(self, status, self.refused_error,
                        f"the backend refused {self.what}'s WebSocket (HTTP {exc.code})")
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


def _origin_of(url: str | None) -> str | None:
    """`scheme://host[:port]` of a URL (a Referer), or None."""
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


@web.stream_request_body
class ProxiedHandler(DaskHandler):
    """`/plait/<kind>/<p>/<d>/<name>/<path>` → the backend's `/<kind>/<p>/<d>/<name>/<path>`.

    `kind` is `workspaces` (a browser workspace's code-server) or `apps` (an
    app's web server: FastAPI, Panel, Streamlit...), reached through the
    backend's own proxy under Jupyter's login: any method, with request and
    response bodies streamed (a large upload or download is never held whole
    here), and WebSocket upgrades relayed frame by frame as the Dask
    dashboard's are. The browser's cookies and Authorization header never reach
    the backend (it gets its own token), nor does anything but the workspace's
    or app's path: the upstream URL is built by `routes.proxied_target`. A
    redirect is passed on only while it stays inside the workspace or app, as a
    path under the lab's forward. Their pages do not send Jupyter's XSRF token,
    so a cookie-authenticated request that may change something must come from
    the lab's own origin instead (its Origin, or Referer, header says so).
    """

    SUPPORTED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

    def initialize(self, backend: Backend, prefix: str, kind: str = "workspaces") -> None:
        super().initialize(backend, prefix)
        self.kind = kind
        self.what = f"the {PROXIED[kind]}"
        self.refused_error = f"{PROXIED[kind]}_refused"
        self._forward: Forward | None = None
        self._body: asyncio.Queue[bytes | None] | None = None
        self._sending: asyncio.Task[httpx.Response] | None = None
        self._refused: web.HTTPError | Refusal | None = None

    def _target(self) -> Forward | Refusal:
        raw = _raw_rest(self, self.prefix)
        if raw is None:
            return Refusal(404, "not_found", f"{self.request.path} is not under {self.prefix}")
        return proxied_target(self.kind, raw, self.request.query)

    def check_xsrf_cookie(self) -> None:
        if not hasattr(self, "_jupyter_current_user"):
            return  # too early: JupyterHandler.prepare asks again once the user is known
        if self.token_authenticated or self.settings.get("disable_check_xsrf", False):
            return
        origin = self.request.headers.get("Origin") or _origin_of(self.request.headers.get("Referer"))
        if not origin or origin == "null" or not self.check_origin(origin):
            raise web.HTTPError(403, f"{self.request.method} to {self.what} from "
                                     f"{origin or 'an unknown origin'} refused: only the lab's own pages may "
                                     "send it (or a client with Jupyter's token)")

    async def prepare(self) -> None:  # type: ignore[override]
        if self._upgrading():
            await super().prepare()  # 403 without the login: see `_open`
            return
        length = self.request.headers.get("Content-Length")
        has_body = "chunked" in self.request.headers.get("Transfer-Encoding", "").lower() or \
            length not in (None, "0")
        # A refusal waits for the body to be read (and dropped): answering a request whose body is
        # still arriving closes the connection under it, and the browser sees a reset, not the answer.
        try:
            await JupyterHandler.prepare(self)
            if not self._finished:
                self._require_login()
            if self._finished:
                return  # sent to the login page (GET, HEAD)
        except web.HTTPError as exc:
            if not has_body:
                raise
            self._refused = exc
            return
        raw = _raw_rest(self, self.prefix)
        if raw is not None and raw.count("/") == 2 and self.request.method in ("GET", "HEAD"):
            query = f"?{self.request.query}" if self.request.query else ""
            self.redirect(f"{self.request.path}/{query}")  # its pages live under its folder
            return
        found = self._target()
        if isinstance(found, Refusal):
            if not has_body:
                _json_error(self, found.status, found.error, found.message)
            self._refused = found
            return
        self._forward = found
        headers = {k: v for k, v in self.request.headers.get_all()
                   if k.lower() not in _PROXIED_DROPPED_REQUEST}
        if length is not None:
            headers["Content-Length"] = length
        if has_body:
            self._body = asyncio.Queue(maxsize=_BODY_CHUNKS)
        self._sending = asyncio.ensure_future(self._send(found, headers))

    async def _send(self, forward: Forward, headers: dict[str, str]) -> httpx.Response:
        """The upstream response, its body still to read; one more try when the backend moved."""
        method = self.request.method or "GET"
        for attempt in (1, 2):
            try:
                client = await self.backend.client()
                request = client.build_request(method, forward.path, params=list(forward.query), headers=headers,
                                               content=self._request_body() if self._body is not None else None)
                return await client.send(request, stream=True)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                await self.backend.reset()  # nothing was sent: a restarted backend has a new port
                if attempt == 2:
                    raise BackendUnavailable("backend_unreachable", f"the plait backend did not answer "
                                             f"({type(exc).__name__}: {exc}); start it with `plait server` "
                                             "or set PLAIT_ENDPOINT") from exc
            except httpx.TransportError as exc:
                raise BackendUnavailable("backend_unreachable", f"the plait backend did not answer "
                                         f"({type(exc).__name__}: {exc})") from exc
            except Exception as exc:  # noqa: BLE001 - starting the backend failed: say why
                raise BackendUnavailable("backend_unavailable", str(exc)) from exc
        raise AssertionError("unreachable")

    async def _request_body(self) -> Any:
        assert self._body is not None
        while (chunk := await self._body.get()) is not None:
            yield chunk

    async def _pass_body(self, chunk: bytes | None) -> None:
        """Hand `chunk` (None: the end) to the upstream request, unless it has already ended."""
        if self._body is None or self._sending is None or self._sending.done():
            return
        put = asyncio.ensure_future(self._body.put(chunk))
        await asyncio.wait({put, self._sending}, return_when=asyncio.FIRST_COMPLETED)
        if not put.done():
            put.cancel()

    async def data_received(self, chunk: bytes) -> None:
        await self._pass_body(chunk)

    def on_connection_close(self) -> None:
        if self._sending is not None and not self._sending.done():
            self._sending.cancel()  # the browser left mid-request: the upstream request goes too
        super().on_connection_close()

    async def get(self, _path: str) -> None:
        if not self._upgrading():
            await self._relay_http()
            return
        found = self._target()
        if isinstance(found, Refusal):
            _json_error(self, found.status, found.error, found.message)
        else:
            await self._open(found)

    async def head(self, _path: str) -> None:
        await self._relay_http()

    async def post(self, _path: str) -> None:
        await self._relay_http()

    async def put(self, _path: str) -> None:
        await self._relay_http()

    async def patch(self, _path: str) -> None:
        await self._relay_http()

    async def delete(self, _path: str) -> None:
        await self._relay_http()

    async def options(self, _path: str) -> None:
        await self._relay_http()

    @web.authenticated
    def _require_login(self) -> None:
        """Nothing with Jupyter's login; without it the login page (GET, HEAD) or 403, before anything
        is sent upstream (the body is streamed: this is asked in `prepare`, not in the method)."""

    async def _relay_http(self) -> None:
        if isinstance(self._refused, web.HTTPError):
            raise self._refused
        if isinstance(self._refused, Refusal):
            _json_error(self, self._refused.status, self._refused.error, self._refused.message)
            return
        if self._sending is None or self._forward is None:
            return  # answered in `prepare`
        await self._pass_body(None)
        try:
            response = await self._sending
        except BackendUnavailable as exc:
            _json_error(self, 502, exc.error, exc.message)
            return
        try:
            self.set_status(response.status_code, response.reason_phrase or "Unknown")
            seen: set[str] = set()
            for name, value in response.headers.multi_items():
                key = name.lower()
                if key in _PROXIED_DROPPED_RESPONSE:
                    continue
                (self.add_header if key in seen else self.set_header)(name, value)
                seen.add(key)
            location = self._inside_location(response.headers.get("location"), self._forward)
            if location:
                self.set_header("Location", location)
            if self.request.method == "HEAD" or response.status_code in (204, 304):
                self.finish()
                return
            async for chunk in response.aiter_raw():
                self.write(chunk)
                await self.flush()
            self.finish()
        except httpx.TransportError as exc:  # the backend stopped answering midway
            if not self._headers_written:
                self.clear()
                _json_error(self, 502, "backend_unreachable", f"{self.what}'s answer broke off ({exc})")
            else:
                raise  # headers are out: tornado closes the connection, the browser sees it cut
        except iostream.StreamClosedError:
            pass  # the browser went away
        finally:
            await response.aclose()

    def _inside_location(self, location: str | None, forward: Forward) -> str | None:
        """An upstream redirect inside this workspace or app, as a path under the lab's forward (else None)."""
        if not location:
            return None
        endpoint = (self.backend.endpoint or "http://backend").rstrip("/")
        target = urlsplit(urljoin(endpoint + forward.path, location))
        base = urlsplit(endpoint)
        inside = proxied_prefix(forward)
        if (target.scheme, target.netloc) != (base.scheme, base.netloc):
            return None  # elsewhere: the lab forwards only the workspace or app
        if not (target.path.startswith(inside) or target.path == inside.rstrip("/")):
            return None
        query = f"?{target.query}" if target.query else ""
        fragment = f"#{target.fragment}" if target.fragment else ""
        return f"{self.base_url.rstrip('/')}/plait{target.path}{query}{fragment}"


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
    proxied = []
    for kind in PROXIED:  # /plait/workspaces/..., /plait/apps/...
        prefix = url_path_join(base, "plait", kind) + "/"
        proxied.append((prefix + "(.*)", ProxiedHandler, {"backend": backend, "prefix": prefix, "kind": kind}))
    dashboards = url_path_join(base, "plait", "dashboards", "execution")
    web_app.add_handlers(".*$", [
        *proxied,
        (dashboards + "/([^/]*)", DashboardHandler, {"backend": backend}),
        (url_path_join(base, "plait", "info"), InfoHandler, {"backend": backend}),
        (dask + "(.*)", DaskHandler, {"backend": backend, "prefix": dask}),
        (api + "(.*)", ProxyHandler, {"backend": backend, "prefix": api}),
    ])
