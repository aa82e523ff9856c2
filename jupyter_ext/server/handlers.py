"""Forward the panels' calls to the plait backend, adding its token."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlencode

import httpx
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from plait.remote import API, Connection, discover, start_server
from tornado import web

# The collections the panels read (GET); the few POSTs they send are listed in
# `_allowed`. Registration and uploads stay with the CLI and the client: the lab
# never writes code into the backend.
_READABLE = ("health", "projects", "tasks", "workflows", "launch_plans", "executions", "data")
_FORWARDED_HEADERS = ("content-type", "etag", "cache-control")


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

    @property
    def endpoint(self) -> str | None:
        return self._conn.endpoint if self._conn else None

    async def reset(self) -> None:
        """Forget the connection (the backend moved or restarted); the next call finds it again."""
        async with self._lock:
            if self._client is not None:
                await self._client.aclose()
            self._client, self._conn = None, None

    async def close(self) -> None:
        await self.reset()


def _allowed(method: str, path: str) -> bool:
    if method == "POST":
        if path == "executions" or (path.startswith("executions/")
                                    and path.rsplit("/", 1)[-1] in ("abort", "relaunch", "recover")):
            return True
        return path.split("/")[0] in ("tasks", "workflows", "launch_plans") and \
            path.rsplit("/", 1)[-1] in ("archive", "unarchive")
    return path.split("/")[0] in _READABLE


class ProxyHandler(APIHandler):
    """`/plait/api/<path>` → the backend's `/api/v1/<path>`, under Jupyter's authentication."""

    def initialize(self, backend: Backend) -> None:
        self.backend = backend

    @web.authenticated
    async def get(self, path: str) -> None:
        await self._forward("GET", path)

    @web.authenticated
    async def post(self, path: str) -> None:
        await self._forward("POST", path)

    async def _forward(self, method: str, path: str) -> None:
        if not _allowed(method, path):
            self._error(404, "not_found", f"{method} /plait/api/{path} is not a route the lab "
                        "panels use; the backend's full API is reached with `plait.Remote` or the CLI")
            return
        query = urlencode([(k, v.decode()) for k, vs in self.request.query_arguments.items()
                           for v in vs])
        target = f"{API}/{path}" + (f"?{query}" if query else "")
        body = self.request.body if method == "POST" else None
        headers = {"Content-Type": "application/json"} if body else {}
        for attempt in (1, 2):
            try:
                client = await self.backend.client()
                response = await client.request(method, target, content=body, headers=headers)
                break
            except httpx.TransportError as exc:
                await self.backend.reset()  # a restarted backend has a new port: look again
                if attempt == 2:
                    self._error(502, "backend_unreachable",
                                f"the plait backend did not answer ({type(exc).__name__}: {exc}); "
                                "start it with `plait server` or set PLAIT_ENDPOINT")
                    return
            except Exception as exc:  # noqa: BLE001 - starting the backend failed: say why
                self._error(502, "backend_unavailable", str(exc))
                return
        self.set_status(response.status_code)
        for name in _FORWARDED_HEADERS:
            if name in response.headers:
                self.set_header(name, response.headers[name])
        self.finish(response.content)

    def _error(self, status: int, error: str, message: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": error, "message": message}))


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
            info = {"endpoint": self.backend.endpoint, "ok": response.status_code == 200,
                    "health": response.json() if response.status_code == 200 else None}
        except Exception as exc:  # noqa: BLE001 - reported to the panel as text
            info["message"] = f"{type(exc).__name__}: {exc}"
        self.finish(json.dumps(info))


def setup_handlers(server_app: Any) -> None:
    web_app = server_app.web_app
    base = web_app.settings["base_url"]
    backend = Backend()
    web_app.settings["plait_backend"] = backend
    web_app.add_handlers(".*$", [
        (url_path_join(base, "plait", "info"), InfoHandler, {"backend": backend}),
        (url_path_join(base, "plait", "api", "(.*)"), ProxyHandler, {"backend": backend}),
    ])
