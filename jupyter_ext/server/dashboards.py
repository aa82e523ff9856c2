"""`POST /plait/dashboards/execution/<id>`: the execution view's "Dashboard" button.

The lab server builds the Panel dashboard of a SUCCEEDED execution's outputs
(`plait.dashboards.from_execution`, as `plait dashboard --execution ID` does)
and deploys it as the app `run-<id>` in the execution's project and domain,
through a `plait.Remote` on the connection the panels' forward uses (the
backend's token stays on this server). Reading the outputs, packing the files
and waiting for the app to start are blocking calls: they run in a thread.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import TYPE_CHECKING, Any

from jupyter_server.base.handlers import APIHandler
from plait.dashboards import app_name, deploy, from_execution
from plait.errors import PlaitError, UserError
from plait.remote import (
    AuthenticationError,
    Connection,
    ExecutionFailed,
    Remote,
    RemoteUserError,
    ServerError,
)
from tornado import web

if TYPE_CHECKING:
    from .handlers import Backend

# An execution's id as the backend names it (`f3a9c2`, `abc12`): as the panels' routes take it.
EXECUTION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,511}")

# Whose fault, and the answer: the first class that matches (order matters: subclasses first).
_STATUS: tuple[tuple[type[Exception], int, str], ...] = (
    (ExecutionFailed, 409, "not_succeeded"),
    (AuthenticationError, 502, "backend_refused_token"),
    (ServerError, 502, "backend_unreachable"),
    (UserError, 422, "dashboard_failed"),
    (PlaitError, 500, "dashboard_failed"),
)


def answer_for(exc: Exception) -> tuple[int, str]:
    """The HTTP status and error code of what went wrong deploying a dashboard."""
    if isinstance(exc, RemoteUserError):
        return exc.status, "not_found" if exc.status == 404 else "refused"
    for kind, status, code in _STATUS:
        if isinstance(exc, kind):
            return status, code
    raise exc


def deploy_execution_dashboard(conn: Connection, execution_id: str) -> dict[str, Any]:
    """Build and deploy the dashboard of `execution_id`'s outputs; the app as the view needs it."""
    with Remote(str(conn.endpoint), token=conn.token, autostart=False) as remote:
        execution = remote.fetch_execution(execution_id)
        if execution.phase != "SUCCEEDED":
            raise ExecutionFailed(
                f"execution {execution_id} is {execution.phase}: only a SUCCEEDED execution has outputs to show "
                "in a dashboard", execution_id=execution_id, phase=execution.phase)
        # The app lives next to the execution (and its outputs' types are the execution's project's).
        remote.project = str(execution.record.get("project") or remote.project)
        remote.domain = str(execution.record.get("domain") or remote.domain)
        source = from_execution(execution.outputs, execution_id=execution.id)
        info = deploy(source, remote, app_name(f"run-{execution_id}"))
    return {"app": {"name": info.name, "project": info.project, "domain": info.domain, "url": info.url,
                    "status": info.status, "action": info.action}}


class DashboardHandler(APIHandler):
    """Deploy the dashboard of an execution, under Jupyter's login (and its XSRF check, as every POST)."""

    def initialize(self, backend: Backend) -> None:
        self.backend = backend

    def _error(self, status: int, error: str, message: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": error, "message": message}))

    @web.authenticated
    async def post(self, execution_id: str) -> None:
        if not EXECUTION_ID.fullmatch(execution_id):
            self._error(400, "bad_path", f"`{execution_id[:80]}` is not an execution id (letters, digits, `-`, "
                        "`_` and `.`); the lab deploys the dashboard of /plait/dashboards/execution/<id>")
            return
        try:
            conn = await self.backend.connection()
        except Exception as exc:  # noqa: BLE001 - starting the backend failed: say why
            self._error(502, "backend_unavailable", str(exc))
            return
        loop = asyncio.get_running_loop()
        try:
            answer = await loop.run_in_executor(None, deploy_execution_dashboard, conn, execution_id)
        except PlaitError as exc:
            status, error = answer_for(exc)
            self._error(status, error, str(exc))
            return
        self.finish(json.dumps(answer))
