"""Workspaces over HTTP: their specs and wishes (`/api/v1/workspaces`), and the proxy to them.

    POST /api/v1/workspaces                    {"spec": {...workspace.yaml...}, "start": true}
    GET  /api/v1/workspaces?active=true&sort=updated
    GET|PUT /api/v1/workspaces/{name}          PUT: everything but the name
    POST /api/v1/workspaces/{name}/start|stop|archive|unarchive
    GET  /api/v1/workspaces/{name}/log?tail=200
    POST /api/v1/workspaces/{name}/session     a browser link: sets a cookie for the workspace's path
    POST /api/v1/executions/{id}/nodes/{node}/debug   a workspace that reproduces a failed node
    ANY  /workspaces/{project}/{domain}/{name}/{path}  (and WebSocket) -> its code-server

The routes only write wishes; the workspace manager in the server's main
process starts and stops code-server and records phases. The proxy reaches a
workspace's own code-server on the loopback port the manager recorded, for an
ACTIVE workspace only, and only with the bearer token or the cookie that a
session link set for that workspace's path.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from ..proxy import Passing, RefusedPath, forward_http, forward_socket, problem, sessions
from ..proxy.routing import allowed, locate, ticket_redirect
from ..store.queries import workspaces as wq
from . import schemas as S
from .deps import Services, Svc
from .errors import InvalidField

router = APIRouter(prefix="/api/v1", tags=["workspaces"], responses={401: S.ERROR_RESPONSES[401]})
_ERRORS: dict[int | str, dict[str, Any]] = {404: S.ERROR_RESPONSES[404], 409: S.ERROR_RESPONSES[409],
                                            422: S.ERROR_RESPONSES[422]}
WorkspaceName = Annotated[str, Path(min_length=1, max_length=63, description="The workspace's name.")]
ProjectQ = Annotated[str, Query(min_length=1, max_length=64)]
DomainQ = Annotated[str, Query(min_length=1, max_length=64)]
PROXY_PREFIX = "/workspaces/"
LOOKUP_TTL_S = 1.0
PASSING = Passing(drop_cookies=(sessions.COOKIE,))  # code-server checks that Origin names its host
TOUCH_EVERY_S = 5.0


class Workspace(BaseModel):
    """A workspace: its spec, what was asked (`desired`) and what was reached (`phase`)."""

    name: str
    project: str
    domain: str
    description: str
    spec: dict[str, Any]
    phase: Literal["STOPPED", "STARTING", "ACTIVE", "STOPPING", "FAILED"]
    desired: Literal["ACTIVE", "STOPPED"]
    reason: str | None = Field(None, description="Why it FAILED or why it stopped.")
    archived: bool
    active: bool
    url: str | None = Field(None, description="Its path on this server while ACTIVE (open it through a "
                                              "session link: POST .../session).")
    pool: str | None = None
    origin: dict[str, Any] | None = Field(None, description="For a debug workspace: the execution, node and "
                                                            "task it reproduces.")
    restart_needed: bool = Field(False, description="Updated while running: the new spec applies at the "
                                                    "next start.")
    resources: S.Quantities
    accelerator: str | None = None
    ttl_seconds: int
    last_activity: dt.datetime | None = None
    started_at: dt.datetime | None = None
    stopped_at: dt.datetime | None = None
    saved_at: dt.datetime | None = None
    created_at: dt.datetime
    updated_at: dt.datetime


class WorkspaceList(BaseModel):
    workspaces: list[Workspace]


class WorkspaceCreate(BaseModel):
    spec: dict[str, Any] = Field(description="The fields of workspace.yaml.")
    start: bool = Field(True, description="Start it once created.")


class WorkspaceUpdate(BaseModel):
    spec: dict[str, Any] = Field(description="The fields of workspace.yaml; the name cannot change.")


class WorkspaceLog(BaseModel):
    lines: list[str]


class DebugRequest(BaseModel):
    name: str | None = Field(None, description="The workspace's name (default debug-<node>-<execution>).")
    start: bool = True


def view(r: wq.WorkspaceRecord) -> Workspace:
    from plait.workspaces.manager import url_path

    resources = r.spec.get("resources") or {}
    return Workspace(
        name=r.name, project=r.project, domain=r.domain, description=r.description, spec=r.spec,
        phase=r.phase, desired=r.desired, reason=r.reason, archived=r.archived,  # type: ignore[arg-type]
        active=r.phase == "ACTIVE", url=url_path(r.project, r.domain, r.name) if r.phase == "ACTIVE" else None,
        pool=r.pool, origin=r.origin, restart_needed=r.restart_needed,
        resources=S.Quantities(**{k: None if v is None else str(v) for k, v in resources.items()
                                        if k in ("cpu", "mem", "gpu")}),
        accelerator=r.spec.get("accelerator"), ttl_seconds=int(r.spec.get("ttl_seconds") or 1200),
        last_activity=r.last_activity, started_at=r.started_at, stopped_at=r.stopped_at, saved_at=r.saved_at,
        created_at=r.created_at, updated_at=r.updated_at)


def checked_spec(svc: Services, data: dict[str, Any]) -> dict[str, Any]:
    """The spec as the server stores it, or InvalidField naming the field (nothing is stored)."""
    from plait.config.workspaces import WorkspaceSpecError, parse_spec
    from plait.workspaces.manager import max_ttl_s

    from ..compute.workspaces import refusal

    try:
        spec = parse_spec(data, source="the workspace spec").to_dict()
    except WorkspaceSpecError as exc:
        raise InvalidField(str(exc), field=exc.field or "spec") from None
    cap = max_ttl_s()
    if spec["ttl_seconds"] > cap:
        raise InvalidField(f"ttl_seconds is {spec['ttl_seconds']}, above this server's cap of {cap} s "
                           "(PLAIT_WORKSPACE_MAX_TTL); choose at most that", field="ttl_seconds")
    found = refusal(spec, cluster=svc.settings.cluster, db=svc.db)
    if found is not None:
        raise InvalidField(found.message, field=found.field)
    return spec


@router.get("/workspaces", name="list_workspaces", responses=_ERRORS)
def list_workspaces(svc: Svc, project: ProjectQ = "default", domain: DomainQ = "development",
                    active: bool | None = None, archived: bool = False,
                    sort: Literal["name", "updated"] = "name") -> WorkspaceList:
    """The workspaces of a project and domain; `active` filters by phase ACTIVE, `sort=updated`
    puts the most recently updated first."""
    with svc.db.session(readonly=True) as s:
        found = wq.list_workspaces(s, project=project, domain=domain, active=active, archived=archived,
                                   sort=sort)
    return WorkspaceList(workspaces=[view(r) for r in found])


@router.post("/workspaces", name="create_workspace", status_code=201, responses=_ERRORS)
def create_workspace(svc: Svc, body: Annotated[WorkspaceCreate, Body()]) -> Workspace:
    """Create a workspace from its spec (and start it, unless `start` is false)."""
    spec = checked_spec(svc, body.spec)
    with svc.db.session() as s:
        record = wq.create_workspace(s, project=spec["project"], domain=spec["domain"], name=spec["name"],
                                     description=spec["description"], spec=spec, start=body.start)
    return view(record)


@router.get("/workspaces/{name}", name="get_workspace", responses=_ERRORS)
def get_workspace(name: WorkspaceName, svc: Svc, project: ProjectQ = "default",
                  domain: DomainQ = "development") -> Workspace:
    with svc.db.session(readonly=True) as s:
        return view(wq.get_workspace(s, project, domain, name))


@router.put("/workspaces/{name}", name="update_workspace", responses=_ERRORS)
def update_workspace(name: WorkspaceName, svc: Svc, body: Annotated[WorkspaceUpdate, Body()],
                     project: ProjectQ = "default", domain: DomainQ = "development") -> Workspace:
    """Change everything but the name; a running workspace gets the new spec at its next start."""
    data = dict(body.spec)
    data.setdefault("name", name)
    data.setdefault("project", project)
    data.setdefault("domain", domain)
    if data["name"] != name:
        raise InvalidField(f"the spec names workspace `{data['name']}`, but this is `{name}`; a workspace's "
                           "name cannot change: create a new workspace instead", field="name")
    if (data["project"], data["domain"]) != (project, domain):
        raise InvalidField(f"the spec is for project `{data['project']}`, domain `{data['domain']}`, but "
                           f"workspace `{name}` is in `{project}`/`{domain}`; it cannot move",
                           field="project")
    spec = checked_spec(svc, data)
    with svc.db.session() as s:
        return view(wq.update_spec(s, project, domain, name, spec=spec, description=spec["description"]))


def _wish(svc: Services, project: str, domain: str, name: str, desired: str) -> Workspace:
    with svc.db.session() as s:
        current = wq.get_workspace(s, project, domain, name)
        if desired == "ACTIVE" and not current.archived:
            from ..compute.workspaces import refusal

            found = refusal(current.spec, cluster=svc.settings.cluster, db=svc.db)
            if found is not None:  # a secret deleted, a pool removed since it was made
                raise InvalidField(found.message, field=found.field)
        reason = "stopped by request" if desired == "STOPPED" else None
        return view(wq.set_desired(s, project, domain, name, desired, reason=reason))


@router.post("/workspaces/{name}/start", name="start_workspace", responses=_ERRORS)
def start_workspace(name: WorkspaceName, svc: Svc, project: ProjectQ = "default",
                    domain: DomainQ = "development") -> Workspace:
    """Ask for it to run; the answer's phase moves STARTING, then ACTIVE (or FAILED with the reason)."""
    return _wish(svc, project, domain, name, "ACTIVE")


@router.post("/workspaces/{name}/stop", name="stop_workspace", responses=_ERRORS)
def stop_workspace(name: WorkspaceName, svc: Svc, project: ProjectQ = "default",
                   domain: DomainQ = "development") -> Workspace:
    """Ask for it to stop; its working directory is saved first."""
    return _wish(svc, project, domain, name, "STOPPED")


@router.post("/workspaces/{name}/archive", name="archive_workspace", responses=_ERRORS)
def archive_workspace(name: WorkspaceName, svc: Svc, project: ProjectQ = "default",
                      domain: DomainQ = "development") -> Workspace:
    """Hide it from the list (it stops first); unarchive brings it back."""
    with svc.db.session() as s:
        return view(wq.set_archived(s, project, domain, name, True))


@router.post("/workspaces/{name}/unarchive", name="unarchive_workspace", responses=_ERRORS)
def unarchive_workspace(name: WorkspaceName, svc: Svc, project: ProjectQ = "default",
                        domain: DomainQ = "development") -> Workspace:
    with svc.db.session() as s:
        return view(wq.set_archived(s, project, domain, name, False))


@router.get("/workspaces/{name}/log", name="workspace_log", responses=_ERRORS)
def workspace_log(name: WorkspaceName, svc: Svc, project: ProjectQ = "default", domain: DomainQ = "development",
                  tail: Annotated[int, Query(ge=1, le=5000)] = 200) -> WorkspaceLog:
    """The last lines of its log: the manager's steps, on_startup's and code-server's output."""
    from plait.workspaces.manager import log_tail
    from plait.workspaces.process import Layout

    with svc.db.session(readonly=True) as s:
        record = wq.get_workspace(s, project, domain, name)
    layout = Layout(FilePath(svc.settings.home) / "workspaces" / str(record.id))
    return WorkspaceLog(lines=log_tail(layout.log, tail))


@router.post("/workspaces/{name}/session", name="workspace_session", responses=_ERRORS)
def workspace_session(name: WorkspaceName, request: Request, svc: Svc, project: ProjectQ = "default",
                      domain: DomainQ = "development") -> S.SessionLink:
    """A link that opens the workspace in a browser tab (which cannot send the bearer header)."""
    from plait.workspaces.manager import url_path

    with svc.db.session(readonly=True) as s:
        record = wq.get_workspace(s, project, domain, name)
    prefix = url_path(record.project, record.domain, record.name)
    return S.SessionLink(**sessions.link_for(request.app.state.token, prefix))  # type: ignore[arg-type]


@router.post("/executions/{id}/nodes/{node_id}/debug", name="debug_node", status_code=201, responses=_ERRORS)
def debug_node(id: Annotated[str, Path(min_length=1, max_length=64)],
               node_id: Annotated[str, Path(min_length=1, max_length=512)], svc: Svc,
               body: Annotated[DebugRequest, Body()] = DebugRequest()) -> Workspace:  # noqa: B008
    """A workspace that reproduces a failed node: the task's registered code, the node's inputs in
    `inputs/`, `debug_<task>.py` calling the task with them, and a VS Code launch configuration."""
    from plait.workspaces.debug import DebugRefused, prepare_debug

    try:
        debug = prepare_debug(svc.db, svc.storage, id, node_id, name=body.name)
    except DebugRefused as exc:
        raise InvalidField(str(exc), field=exc.field) from None
    spec = checked_spec(svc, debug.spec)
    debug.seed(svc.storage)  # its working directory, which the first start restores
    with svc.db.session() as s:
        record = wq.create_workspace(s, project=spec["project"], domain=spec["domain"], name=spec["name"],
                                     description=spec["description"], spec=spec, start=body.start,
                                     origin=debug.origin)
    return view(record)


# ------------------------------------------------------------------ the proxy


class _Lookup:
    """Where each ACTIVE workspace listens, read from the table at most once a second per
    workspace (per API process), and the traffic seen, written back every few seconds."""

    def __init__(self) -> None:
        self.cache: dict[tuple[str, str, str], tuple[float, int | None, int | None]] = {}
        self.seen: dict[int, dt.datetime] = {}
        self.flushed = time.monotonic()

    def find(self, svc: Services, project: str, domain: str, name: str) -> tuple[int | None, int | None]:
        key = (project, domain, name)
        hit = self.cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < LOOKUP_TTL_S:
            return hit[1], hit[2]
        try:
            with svc.db.session(readonly=True) as s:
                record = wq.get_workspace(s, project, domain, name)
        except LookupError:
            found: tuple[int | None, int | None] = (None, None)
        else:
            found = (record.id, record.port if record.phase == "ACTIVE" else None)
        self.cache[key] = (time.monotonic(), *found)
        return found

    def touch(self, svc: Services, workspace_id: int) -> None:
        self.seen[workspace_id] = dt.datetime.now(dt.timezone.utc)
        if time.monotonic() - self.flushed >= TOUCH_EVERY_S:
            self.flush(svc)

    def flush(self, svc: Services) -> None:
        seen, self.seen, self.flushed = self.seen, {}, time.monotonic()
        if seen:
            with svc.db.session() as s:
                wq.touch_workspaces(s, seen)


def _lookup(app: Any) -> _Lookup:
    found = getattr(app.state, "workspace_lookup", None)
    if found is None:
        found = app.state.workspace_lookup = _Lookup()
    return found  # type: ignore[no-any-return]


async def proxy_http(request: Request) -> Response:
    svc: Services = request.app.state.services
    token: str = request.app.state.token
    try:
        project, domain, name, prefix, tail = locate(request.scope, PROXY_PREFIX)
    except RefusedPath as exc:
        return problem(400, "bad_request", str(exc))
    redirect = ticket_redirect(request, token, prefix, tail)
    if redirect is not None:
        return redirect
    if not allowed(request.scope, token, prefix):
        return problem(401, "unauthorized", f"{prefix} needs this server's bearer token or a session link "
                                            f"(`plait get workspace --name {name}` prints one)")
    lookup = _lookup(request.app)
    workspace_id, port = lookup.find(svc, project, domain, name)
    if workspace_id is None:
        return problem(404, "not_found", f"no workspace `{name}` in project `{project}`, domain `{domain}`")
    if port is None:
        return problem(503, "unavailable", f"workspace `{name}` is not ACTIVE; start it "
                                           f"(`plait start workspace --name {name}`)")
    return await forward_http(request, f"http://127.0.0.1:{port}", tail, passing=PASSING,
                              on_traffic=lambda: lookup.touch(svc, workspace_id))


async def proxy_socket(websocket: WebSocket) -> None:
    svc: Services = websocket.app.state.services
    token: str = websocket.app.state.token
    try:
        project, domain, name, prefix, tail = locate(websocket.scope, PROXY_PREFIX)
    except RefusedPath:
        await websocket.close(code=1008)
        return
    if not allowed(websocket.scope, token, prefix):
        await websocket.close(code=1008)
        return
    lookup = _lookup(websocket.app)
    workspace_id, port = lookup.find(svc, project, domain, name)
    if workspace_id is None or port is None:
        await websocket.close(code=1013)  # try again later
        return
    await forward_socket(websocket, f"ws://127.0.0.1:{port}", tail, passing=PASSING,
                         on_traffic=lambda: lookup.touch(svc, workspace_id))


METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
proxy_routes: list[BaseRoute] = [
    Route(PROXY_PREFIX + "{path:path}", proxy_http, methods=METHODS, name="workspace_proxy"),
    WebSocketRoute(PROXY_PREFIX + "{path:path}", proxy_socket, name="workspace_proxy_socket"),
]
