"""`plait.Remote`'s workspace calls: browser VS Code (code-server) run by the backend.

    remote = plait.Remote()
    ws = remote.create_workspace("workspace.yaml")   # creates, starts, waits for ACTIVE
    print(remote.workspace_url(ws.name))             # a browser link, valid 10 minutes

A spec is checked here with `plait.config.workspaces.parse_spec` before it is
sent, so a bad file fails with the field it names and nothing reaches the
server; what only the server can judge (an unknown secret, resources no pool
can give) comes back as its message. Waiting polls the workspace until the
phase asked for, and a FAILED workspace raises with its reason and the last
lines of its log.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..config.workspaces import WorkspaceSpec, WorkspaceSpecError, load_spec, parse_spec
from ..errors import PlaitError
from .discovery import API
from .errors import RemoteUserError, WaitTimeout
from .views import items_of

_sleep = time.sleep  # between polls; tests replace it here, not in the time module
LOG_LINES_ON_FAILURE = 20

Progress = Callable[["WorkspaceInfo"], None]


class WorkspaceFailed(PlaitError):
    """A workspace went to FAILED while it was waited for; `reason` and `log` say why."""

    def __init__(self, message: str, *, workspace: str, reason: str, log: list[str]) -> None:
        super().__init__(message)
        self.workspace = workspace
        self.reason = reason
        self.log = log


class RemoteWorkspaceSpecError(RemoteUserError, WorkspaceSpecError):
    """The server refused a workspace's spec (HTTP 422): an unknown secret, resources that no
    pool can give. A `WorkspaceSpecError`, as the same mistake checked locally raises."""

    def __init__(self, message: str, *, status: int, detail: Any = None, field: str = "") -> None:
        RemoteUserError.__init__(self, message, status=status, detail=detail)
        self.field = field


@dataclass(frozen=True)
class WorkspaceInfo:
    """A workspace as the server describes it: its spec, its phase and where to open it.

    `url` is the proxied path (`/workspaces/<project>/<domain>/<name>/`) while ACTIVE;
    `Remote.workspace_url(name)` gives a browser link that logs in. Times are ISO 8601
    UTC strings; `origin` names the failed node of a debug workspace.
    """

    name: str
    project: str = "default"
    domain: str = "development"
    description: str = ""
    spec: dict[str, Any] = field(default_factory=dict)
    phase: str = "STOPPED"
    desired: str = "STOPPED"
    reason: str | None = None
    archived: bool = False
    active: bool = False
    url: str | None = None
    pool: str | None = None
    origin: dict[str, Any] | None = None
    restart_needed: bool = False
    last_activity: str | None = None
    started_at: str | None = None
    stopped_at: str | None = None
    saved_at: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    resources: dict[str, Any] = field(default_factory=dict)
    accelerator: str | None = None
    ttl_seconds: int | None = None

    @classmethod
    def from_answer(cls, data: Mapping[str, Any]) -> WorkspaceInfo:
        """Build from the server's JSON; fields it does not send keep their defaults."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known and v is not None}
        for name in ("spec", "resources"):
            values[name] = dict(values.get(name) or {})
        return cls(**values)

    @property
    def debug_script(self) -> str | None:
        """The `debug_<task>.py` of a debug workspace (None for others): running it in the
        workspace (VS Code: Run and Debug) calls the task on the failed node's inputs."""
        task = (self.origin or {}).get("task")
        if not task:
            return None
        name = re.sub(r"\W+", "_", str(task).rsplit(".", 1)[-1]).strip("_") or "task"
        return f"debug_{name}.py"

    def to_spec(self) -> WorkspaceSpec:
        """The workspace's spec as a `WorkspaceSpec` (to change and pass to `update_workspace`)."""
        return parse_spec(self.spec, source=f"workspace {self.name!r}")


def spec_of(spec: WorkspaceSpec | Mapping[str, Any] | str | os.PathLike[str]) -> WorkspaceSpec:
    """A checked spec from a `WorkspaceSpec`, its fields, or the path of a `workspace.yaml`."""
    if isinstance(spec, WorkspaceSpec):
        return spec
    if isinstance(spec, Mapping):
        return parse_spec(spec, source="the workspace's fields")
    if isinstance(spec, (str, os.PathLike)):
        return load_spec(spec)
    raise WorkspaceSpecError(
        f"expected a WorkspaceSpec, a mapping of workspace fields or the path of a "
        f"workspace.yaml, found a {type(spec).__name__}; pass the path of the file"
    )


def _q(part: str) -> str:
    return quote(str(part), safe="")


def _refused(exc: RemoteUserError) -> RemoteUserError:
    """A 422 about a spec becomes a WorkspaceSpecError; other refusals stay as they are."""
    if exc.status == 422 and not isinstance(exc, WorkspaceSpecError):
        return RemoteWorkspaceSpecError(str(exc), status=exc.status, detail=exc.detail, field=exc.field)
    return exc


class WorkspaceMethods:
    """The workspace calls of `plait.Remote` (a mixin: it uses the client's `_json`)."""

    if TYPE_CHECKING:
        project: str
        domain: str

        @property
        def endpoint(self) -> str: ...

        def _json(self, method: str, path: str, **kwargs: Any) -> Any: ...

    # --- helpers -------------------------------------------------------------

    def _ws_scope(self, project: str | None, domain: str | None) -> dict[str, str]:
        return {"project": project or self.project, "domain": domain or self.domain}

    def _ws_call(self, method: str, path: str, **kwargs: Any) -> WorkspaceInfo:
        try:
            data = self._json(method, f"{API}{path}", **kwargs)
        except RemoteUserError as exc:
            raise _refused(exc) from None
        return WorkspaceInfo.from_answer(data)

    def _ws_wait(self, info: WorkspaceInfo, target: str, timeout: float,
                 on_progress: Progress | None) -> WorkspaceInfo:
        """Poll `info`'s workspace until its phase is `target`. FAILED raises with its log on the
        way to ACTIVE; on the way to STOPPED it is an end too (the answer has the reason)."""
        deadline = time.monotonic() + timeout
        delay = 0.1
        last_phase = None
        settled = {"ACTIVE": "STOPPED", "STOPPED": "ACTIVE"}.get(target)
        while True:
            # The phase it leaves (STOPPED on the way to ACTIVE) is not news.
            if info.phase not in (last_phase, settled) and on_progress is not None:
                on_progress(info)
            last_phase = info.phase
            if info.phase == target:
                return info
            if info.phase == "FAILED":
                if target == "STOPPED":
                    return info  # not running either; its reason says what went wrong
                raise self._failed(info)
            if info.phase == settled and info.desired == settled:
                raise RemoteUserError(
                    f"workspace {info.name!r} is {info.phase} and no longer wanted {target} "
                    f"(someone changed it meanwhile); start or stop it again",
                    status=409,
                )
            left = deadline - time.monotonic()
            if left <= 0:
                verb = "start" if target == "ACTIVE" else "stop"
                raise WaitTimeout(
                    f"workspace {info.name!r} is still {info.phase} after {timeout:g} s waiting "
                    f"for {target}; follow it with `plait get workspace --name {info.name}` and "
                    f"read its log (Remote.workspace_log), or {verb} it again"
                )
            _sleep(max(0.0, min(delay, left)))
            delay = min(delay * 1.5, 1.0)
            info = self.get_workspace(info.name, project=info.project, domain=info.domain)

    def _failed(self, info: WorkspaceInfo) -> WorkspaceFailed:
        try:
            log = self.workspace_log(info.name, tail=LOG_LINES_ON_FAILURE, project=info.project,
                                     domain=info.domain)
        except PlaitError:
            log = []
        reason = info.reason or "no reason recorded"
        shown = "\n".join(f"  {line}" for line in log)
        message = f"workspace {info.name!r} FAILED: {reason}"
        if shown:
            message += f"\nlast lines of its log:\n{shown}"
        message += (f"\nfix the cause (the spec: `plait update workspace FILE`), then "
                    f"`plait start workspace --name {info.name}`")
        return WorkspaceFailed(message, workspace=info.name, reason=reason, log=log)

    # --- the calls -----------------------------------------------------------

    def create_workspace(self, spec: WorkspaceSpec | Mapping[str, Any] | str | os.PathLike[str],
                         start: bool = True, wait: bool = True, timeout: float = 120.0,
                         on_progress: Progress | None = None) -> WorkspaceInfo:
        """Create a workspace from a spec, a mapping of its fields or a `workspace.yaml`, in the
        spec's project and domain, and start it (with `wait`, until it is ACTIVE)."""
        checked = spec_of(spec)
        params = {"project": checked.project, "domain": checked.domain}
        info = self._ws_call("POST", "/workspaces", params=params,
                             json_body={"spec": checked.to_dict(), "start": start})
        if start and wait:
            info = self._ws_wait(info, "ACTIVE", timeout, on_progress)
        return info

    def get_workspace(self, name: str, project: str | None = None,
                      domain: str | None = None) -> WorkspaceInfo:
        """One workspace by name (in this client's project and domain unless given)."""
        return self._ws_call("GET", f"/workspaces/{_q(name)}",
                             params=self._ws_scope(project, domain))

    def list_workspaces(self, active: bool | None = None, archived: bool = False,
                        project: str | None = None, domain: str | None = None,
                        sort: str = "updated") -> list[WorkspaceInfo]:
        """The workspaces of a project and domain: only ACTIVE ones with `active=True`, only
        inactive ones with False; archived ones instead of the others with `archived=True`.
        `sort` is "updated" (the most recently updated first) or "name"."""
        params: dict[str, Any] = {**self._ws_scope(project, domain), "sort": sort,
                                  "archived": "true" if archived else "false"}
        if active is not None:
            params["active"] = "true" if active else "false"
        try:
            data = self._json("GET", f"{API}/workspaces", params=params)
        except RemoteUserError as exc:
            raise _refused(exc) from None
        return [WorkspaceInfo.from_answer(w) for w in items_of(data, "workspaces")]

    def update_workspace(self, spec: WorkspaceSpec | Mapping[str, Any] | str | os.PathLike[str]
                         ) -> WorkspaceInfo:
        """Change everything but the name. A running workspace keeps its old spec until it is
        stopped and started again (`restart_needed` says so)."""
        checked = spec_of(spec)
        return self._ws_call("PUT", f"/workspaces/{_q(checked.name)}",
                             params={"project": checked.project, "domain": checked.domain},
                             json_body={"spec": checked.to_dict()})

    def start_workspace(self, name: str, wait: bool = True, timeout: float = 120.0,
                        project: str | None = None, domain: str | None = None,
                        on_progress: Progress | None = None) -> WorkspaceInfo:
        """Start a stopped workspace (its files are restored first); with `wait`, until ACTIVE."""
        info = self._ws_call("POST", f"/workspaces/{_q(name)}/start",
                             params=self._ws_scope(project, domain))
        return self._ws_wait(info, "ACTIVE", timeout, on_progress) if wait else info

    def stop_workspace(self, name: str, wait: bool = True, timeout: float = 120.0,
                       project: str | None = None, domain: str | None = None,
                       on_progress: Progress | None = None) -> WorkspaceInfo:
        """Stop a workspace (its files are saved first); with `wait`, until STOPPED (or FAILED,
        with the reason: a failed workspace does not run either)."""
        info = self._ws_call("POST", f"/workspaces/{_q(name)}/stop",
                             params=self._ws_scope(project, domain))
        return self._ws_wait(info, "STOPPED", timeout, on_progress) if wait else info

    def archive_workspace(self, name: str, project: str | None = None,
                          domain: str | None = None, wait: bool = True, timeout: float = 120.0,
                          on_progress: Progress | None = None) -> WorkspaceInfo:
        """Archive a workspace, hidden from lists unless asked for; a running one is stopped
        first (its files saved): with `wait`, until it is STOPPED."""
        info = self._ws_call("POST", f"/workspaces/{_q(name)}/archive",
                             params=self._ws_scope(project, domain))
        if wait and info.phase not in ("STOPPED", "FAILED"):
            info = self._ws_wait(info, "STOPPED", timeout, on_progress)
        return info

    def unarchive_workspace(self, name: str, project: str | None = None,
                            domain: str | None = None) -> WorkspaceInfo:
        """Bring an archived workspace back (stopped)."""
        return self._ws_call("POST", f"/workspaces/{_q(name)}/unarchive",
                             params=self._ws_scope(project, domain))

    def workspace_log(self, name: str, tail: int = 200, project: str | None = None,
                      domain: str | None = None) -> list[str]:
        """The last `tail` lines of the workspace's log: code-server's, `on_startup`'s and the
        server's own lines about it."""
        data = self._json("GET", f"{API}/workspaces/{_q(name)}/log",
                          params={**self._ws_scope(project, domain), "tail": tail})
        return [str(line) for line in items_of(data, "lines")]

    def workspace_url(self, name: str, project: str | None = None,
                      domain: str | None = None) -> str:
        """An absolute browser link to the ACTIVE workspace that logs in (valid 10 minutes)."""
        info = self.get_workspace(name, project=project, domain=domain)
        if info.phase != "ACTIVE":
            raise RemoteUserError(
                f"workspace {name!r} is {info.phase}: start it first (`plait start workspace "
                f"--name {name}`, or Remote.start_workspace), then ask for its link",
                status=409)
        try:
            data = self._json("POST", f"{API}/workspaces/{_q(name)}/session",
                              params=self._ws_scope(project, domain))
        except RemoteUserError as exc:
            raise _refused(exc) from None
        return self.endpoint.rstrip("/") + str(data["url"])

    def debug_node(self, execution_id: str, node_id: str, name: str | None = None,
                   wait: bool = True, timeout: float = 300.0,
                   on_progress: Progress | None = None) -> WorkspaceInfo:
        """A workspace to debug a failed node: the task's environment, its registered code,
        the node's inputs under `inputs/`, and `debug_<task>.py` with a VS Code launch
        configuration that calls the task on them. With `wait`, until it is ACTIVE."""
        execution = str(getattr(execution_id, "id", execution_id))
        info = self._ws_call("POST", f"/executions/{_q(execution)}/nodes/{_q(node_id)}/debug",
                             json_body={"name": name, "start": True})
        return self._ws_wait(info, "ACTIVE", timeout, on_progress) if wait else info
