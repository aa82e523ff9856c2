"""A stand-in plait backend that records what reaches it, for the lab proxy's tests.

    with standin_backend(token) as upstream:
        ... point a lab at upstream.url with PLAIT_ENDPOINT/PLAIT_TOKEN ...
        assert upstream.requests == [...]

It is a small tornado server on a loopback port, in a thread of the test
process. Every HTTP request is recorded (method, raw path, raw query, headers)
and answered with that record as JSON, 401 without `Bearer <token>`. Under
`/api/v1/dask/` it plays the Dask dashboard as the backend will serve it: an
HTML page, a redirect (`/api/v1/dask/` → `/api/v1/dask/status`), and at
`.../ws` a WebSocket that echoes messages, selects the `bokeh` subprotocol when
offered, and closes with code 4001 on the message `close`. Under `/workspaces/` it plays a
workspace's code-server: the same WebSocket at `.../ws`, redirects at `.../redirect-inside` and
`.../redirect-outside`, 8 MiB at `.../download`, and otherwise an answer naming the body it received. A path with `/hangup-` in it
is read and recorded, then the connection is closed without an answer. The real backend's
tests check the routes themselves; this one shows exactly what the lab sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tornado import httpserver, netutil, web, websocket

DASHBOARD_PAGE = "<html><body><h1>stand-in Dask dashboard</h1></body></html>"


def download_parts() -> list[bytes]:
    """What a workspace's `.../download` answers: 8 MiB in 64 KiB parts, the same each time."""
    return [hashlib.sha256(str(i).encode()).digest() * 2048 for i in range(128)]


@dataclass
class Recorded:
    method: str
    path: str
    query: str
    headers: dict[str, str]


@dataclass
class Standin:
    url: str
    token: str
    requests: list[Recorded] = field(default_factory=list)
    websockets: list[Recorded] = field(default_factory=list)

    def clear(self) -> None:
        self.requests.clear()
        self.websockets.clear()


def _record(handler: web.RequestHandler, into: list[Recorded]) -> Recorded:
    req = handler.request
    seen = Recorded(req.method or "", req.path, req.query, {k.lower(): v for k, v in req.headers.get_all()})
    into.append(seen)
    return seen


class _Recorder(web.RequestHandler):
    def initialize(self, standin: Standin) -> None:
        self.standin = standin

    def check_xsrf_cookie(self) -> None:
        pass

    def _answer(self) -> None:
        seen = _record(self, self.standin.requests)
        if seen.headers.get("authorization") != f"Bearer {self.standin.token}":
            self.set_status(401)
            self.finish({"error": "unauthorized", "message": "no token"})
            return
        path = seen.path
        if "/hangup-" in path:  # a backend that dies after reading the request: no answer
            self.request.connection.stream.close()
            return
        if path == "/api/v1/health":
            self.finish({"status": "ok", "dask_dashboard": "http://127.0.0.1:8787/status"})
        elif path == "/api/v1/dask/":
            self.redirect("/api/v1/dask/status", permanent=True)
        elif path.startswith("/workspaces/") and path.endswith("/redirect-inside"):
            self.redirect("/".join(path.split("/")[:5]) + "/?folder=%2Fhome", permanent=False)
        elif path.startswith("/workspaces/") and path.endswith("/redirect-outside"):
            self.redirect("/api/v1/secrets", permanent=False)
        elif path.startswith("/workspaces/") and path.endswith("/download"):  # a large file, in parts
            self.set_header("Content-Type", "application/octet-stream")
            for part in download_parts():
                self.write(part)
            self.finish()
        elif path.startswith(("/workspaces/", "/apps/")):  # a workspace or app: what arrived, body included
            self.set_header("Content-Type", "application/json")
            self.set_header("Set-Cookie", "upstream=1; Path=/")  # the lab does not pass it on
            self.finish(json.dumps({"method": seen.method, "path": path, "query": seen.query,
                                    "body_length": len(self.request.body),
                                    "body_sha256": hashlib.sha256(self.request.body).hexdigest()}))
        elif path.startswith("/api/v1/dask/"):
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.set_header("Cache-Control", "no-store")
            self.set_header("X-Upstream-Only", "1")  # a header the lab does not pass on
            self.finish(DASHBOARD_PAGE)
        else:
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps({"method": seen.method, "path": path, "query": seen.query}))

    def get(self, *_: Any) -> None:
        self._answer()

    def post(self, *_: Any) -> None:
        self._answer()

    def put(self, *_: Any) -> None:
        self._answer()

    def delete(self, *_: Any) -> None:
        self._answer()

    def patch(self, *_: Any) -> None:
        self._answer()

    def head(self, *_: Any) -> None:
        self._answer()

    def options(self, *_: Any) -> None:
        self._answer()


class _Echo(websocket.WebSocketHandler):
    def initialize(self, standin: Standin) -> None:
        self.standin = standin

    def check_origin(self, origin: str) -> bool:
        return True

    async def get(self, *args: Any, **kwargs: Any) -> None:
        seen = _record(self, self.standin.websockets)
        if seen.headers.get("authorization") != f"Bearer {self.standin.token}":
            self.set_status(401)
            self.finish("no token")
            return
        await super().get(*args, **kwargs)

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        return "bokeh" if "bokeh" in subprotocols else None

    def on_message(self, message: str | bytes) -> None:
        if message == "close":
            self.close(4001, "asked to close")
        else:
            self.write_message(message, binary=isinstance(message, bytes))


@contextlib.contextmanager
def standin_backend(token: str) -> Iterator[Standin]:
    """The stand-in on a free loopback port; stopped (port closed, thread joined) on the way out."""
    sockets = netutil.bind_sockets(0, "127.0.0.1")
    port = sockets[0].getsockname()[1]
    standin = Standin(f"http://127.0.0.1:{port}", token)
    app = web.Application([
        (r"/api/v1/dask/.*/ws", _Echo, {"standin": standin}),
        (r"/(?:workspaces|apps)/.*/ws", _Echo, {"standin": standin}),
        (r"/(.*)", _Recorder, {"standin": standin}),
    ])
    ready, stop = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    async def serve() -> None:
        server = httpserver.HTTPServer(app)
        server.add_sockets(sockets)
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.05)
        server.stop()
        await server.close_all_connections()

    def run() -> None:
        try:
            asyncio.run(serve())
        except BaseException as exc:  # noqa: BLE001 - reported by the test that started it
            failure.append(exc)
            ready.set()

    thread = threading.Thread(target=run, name="standin-backend", daemon=True)
    thread.start()
    ready.wait(10)
    try:
        if failure:
            raise RuntimeError(f"the stand-in backend did not start: {failure[0]!r}")
        yield standin
    finally:
        stop.set()
        thread.join(10)
        if thread.is_alive():
            raise RuntimeError("the stand-in backend did not stop")
