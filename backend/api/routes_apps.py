"""Apps over HTTP: deploys and wishes (`/api/v1/apps`), and the proxy that serves them.

    POST /api/v1/apps                       {"spec": App.to_spec(), "bundle": digest}: create or update
    GET  /api/v1/apps, /api/v1/apps/{name}  with replicas and status
    POST /api/v1/apps/{name}/start|stop
    GET  /api/v1/apps/{name}/logs?replica=0&tail=200, /api/v1/apps/{name}/events
    POST /api/v1/apps/{name}/session        a browser link for an app that requires auth
    ANY  /apps/{project}/{domain}/{name}/{path}  (and WebSocket) -> one of its READY replicas

A deploy whose spec, files and resolved inputs are what the app runs changes
nothing; any change makes a new revision, which the app manager starts and
switches to. The proxy reaches only the app's own replicas (loopback ports the
manager recorded); an app with `requires_auth` (the default) needs the bearer
token or the session cookie, one without it is public on its own prefix only.
The app gets the path below its prefix, and the prefix in `X-Forwarded-Prefix`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import re
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from ..apps import replicas as rp
from ..proxy import Passing, RefusedPath, forward_http, forward_socket, problem, sessions
from ..proxy.routing import allowed, locate, ticket_redirect
from ..store.queries import apps as aq
from . import schemas as S
from .deps import Services, Svc
from .errors import InvalidField

router = APIRouter(prefix="/api/v1", tags=["apps"], responses={401: S.ERROR_RESPONSES[401]})
_ERRORS: dict[int | str, dict[str, Any]] = {404: S.ERROR_RESPONSES[404], 409: S.ERROR_RESPONSES[409],
                                            422: S.ERROR_RESPONSES[422]}
AppName = Annotated[str, Path(min_length=1, max_length=63, description="The app's name.")]
ProjectQ = Annotated[str, Query(min_length=1, max_length=64)]
DomainQ = Annotated[str, Query(min_length=1, max_length=64)]
PROXY_PREFIX = "/apps/"
_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\Z")
COLD_START_TIMEOUT_S = 120.0
LOOKUP_TTL_S = 0.5
REPORT_EVERY_S = 1.0


class Replica(BaseModel):
    slot: int
    revision: int
    phase: Literal["STARTING", "READY", "BACKOFF", "STOPPED"]
    restarts: int
    last_exit: str | None = None
    started_at: dt.datetime | None = None
    ready_at: dt.datetime | None = None


class AppView(BaseModel):
    """An app: its spec and revision, its status and what users asked for, its replicas."""

    name: str
    project: str
    domain: str
    spec: dict[str, Any]
    revision: int
    status: Literal["Pending", "Started", "Stopped", "Failed", "Scaled to zero"]
    desired_state: Literal["Started", "Stopped"]
    reason: str | None = None
    url: str = Field(description="Its path on this server (`/apps/<project>/<domain>/<name>/`).")
    requires_auth: bool
    replicas: list[Replica]
    resources: S.Quantities
    inputs: dict[str, Any] = Field(default_factory=dict, description="Each input's variable and, for an "
                                                                     "artifact query, the version it serves.")
    created_at: dt.datetime
    updated_at: dt.datetime


class AppList(BaseModel):
    apps: list[AppView]


class AppDeploy(BaseModel):
    spec: dict[str, Any] = Field(description="`App.to_spec()` of the SDK's `plait.app.App`.")
    bundle: str | None = Field(None, description="The digest of the uploaded bundle of its files "
                                                 "(PUT /api/v1/bundles/{digest}), when it has files.")
    project: str = "default"
    domain: str = "development"


class AppDeployed(BaseModel):
    app: AppView
    action: Literal["created", "updated", "unchanged"]


class AppLog(BaseModel):
    lines: list[str]


class AppEvents(BaseModel):
    events: list[dict[str, Any]]


def view(r: aq.AppRecord, replicas: list[aq.ReplicaRecord]) -> AppView:
    spec = r.spec
    limits, requests = spec.get("limits") or {}, spec.get("requests") or {}
    resources = {k: limits.get(k) or requests.get(k) for k in ("cpu", "mem", "gpu")}
    inputs = {name: {"env_var": entry.get("env_var"), "download": entry.get("download"),
                     **({"artifact": entry["artifact"]} if entry.get("artifact") else {})}
              for name, entry in (r.inputs or {}).items()}
    return AppView(
        name=r.name, project=r.project, domain=r.domain, spec=spec, revision=r.revision,
        status=r.status, desired_state="Started" if r.desired == "ACTIVE" else "Stopped",  # type: ignore[arg-type]
        reason=r.reason, url=rp.prefix_of(r.project, r.domain, r.name) + "/",
        requires_auth=bool(spec.get("requires_auth", True)),
        replicas=[Replica(slot=x.slot, revision=x.revision, phase=x.phase, restarts=x.restarts,  # type: ignore[arg-type]
                          last_exit=x.last_exit, started_at=x.started_at, ready_at=x.ready_at) for x in replicas],
        resources=S.Quantities(**{k: None if v is None else str(v) for k, v in resources.items()}),
        inputs=inputs, created_at=r.created_at, updated_at=r.updated_at)


def _load(svc: Services, project: str, domain: str, name: str) -> AppView:
    with svc.db.session(readonly=True) as s:
        record = aq.get_app(s, project, domain, name)
        return view(record, aq.replicas(s, record.id))


def checked(svc: Services, body: AppDeploy) -> dict[str, Any]:
    """The spec if this server can run it, else InvalidField naming the part at fault."""
    spec = dict(body.spec)
    name = spec.get("name")
    if spec.get("kind") != "app":
        raise InvalidField("the spec is not an app's (kind: app); send plait.app.App(...).to_spec()", field="spec")
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidField(f"app name {name!r} is not valid: use 1-63 lower-case letters, digits or '-', starting "
                           "and ending with a letter or digit", field="name")
    port = spec.get("port")
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise InvalidField(f"app `{name}`: port must be a number from 1 to 65535, found {port!r}", field="port")
    if not (spec.get("framework_app") or spec.get("args") or spec.get("command")):
        raise InvalidField(f"app `{name}` has neither a framework_app nor args/command: give one", field="args")
    low, high = spec.get("min_replicas") or 0, spec.get("max_replicas") or 1
    if not isinstance(low, int) or not isinstance(high, int) or low < 0 or high < 1 or low > high:
        raise InvalidField(f"app `{name}`: replicas must satisfy 0 <= min_replicas <= max_replicas, max_replicas "
                           f">= 1; found min {low!r}, max {high!r}", field="min_replicas")
    image = spec.get("container_image")
    if isinstance(image, str):
        raise InvalidField(f"app `{name}`: container_image is the image name {image!r}, but this server runs apps "
                           "as processes on its machine in virtual environments: give an ImageSpec, or leave it "
                           "out for the server's own environment", field="container_image")
    limits, requests = spec.get("limits") or {}, spec.get("requests") or {}
    resources = {k: limits.get(k) or requests.get(k) for k in ("cpu", "mem", "gpu")}
    accelerator = spec.get("accelerator")
    device = accelerator.get("device") if isinstance(accelerator, dict) else accelerator
    from ..compute.workspaces import refusal

    found = refusal({"name": name, "resources": resources, "accelerator": device}, cluster=svc.settings.cluster,
                    db=svc.db, what="app")
    if found is not None:
        raise InvalidField(f"app `{name}`: {found.message}".replace("resources.", "limits."),
                           field="limits" if found.field.startswith("resources") else found.field)
    if spec.get("files") and not body.bundle:
        raise InvalidField(f"app `{name}` lists files but no bundle was sent; upload them first "
                           "(`plait deploy apps` does)", field="bundle")
    if body.bundle:
        from ..store import queries

        with svc.db.session(readonly=True) as s:
            queries.get_bundle(s, body.bundle)  # 404 when it was not uploaded
    wanted = [s for s in spec.get("secrets") or [] if isinstance(s, dict)]
    if wanted:
        from ..secrets import secret_name
        from ..store import queries

        with svc.db.session(readonly=True) as s:
            have = queries.secret_names(s, body.project, body.domain)
        for secret in wanted:
            key = secret_name(secret.get("group"), secret.get("key"))
            if key not in have:
                raise InvalidField(f"app `{name}` asks for secret `{key}`, which project `{body.project}`, domain "
                                   f"`{body.domain}` does not have; create it with `plait create secret {key}`",
                                   field="secrets")
    return spec


@router.post("/apps", name="deploy_app", responses=_ERRORS)
def deploy_app(svc: Svc, body: Annotated[AppDeploy, Body()]) -> AppDeployed:
    """Create the app or update it (a new revision when anything changed) and (re)start it."""
    from ..apps.inputs import InputProblem, resolve

    spec = checked(svc, body)
    with svc.db.session() as s:
        try:
            inputs = resolve(s, body.project, body.domain, spec)
        except InputProblem as exc:
            raise InvalidField(str(exc), field="inputs") from None
        record, action = aq.deploy_app(s, project=body.project, domain=body.domain, name=spec["name"], spec=spec,
                                       bundle=body.bundle, digest=str(spec.get("digest") or ""), inputs=inputs)
        return AppDeployed(app=view(record, aq.replicas(s, record.id)), action=action)  # type: ignore[arg-type]


@router.get("/apps", name="list_apps", responses=_ERRORS)
def list_apps(svc: Svc, project: ProjectQ = "default", domain: DomainQ = "development") -> AppList:
    with svc.db.session(readonly=True) as s:
        return AppList(apps=[view(r, aq.replicas(s, r.id)) for r in aq.list_apps(s, project=project, domain=domain)])


@router.get("/apps/{name}", name="get_app", responses=_ERRORS)
def get_app(name: AppName, svc: Svc, project: ProjectQ = "default", domain: DomainQ = "development") -> AppView:
    return _load(svc, project, domain, name)


@router.post("/apps/{name}/start", name="start_app", responses=_ERRORS)
def start_app(name: AppName, svc: Svc, project: ProjectQ = "default", domain: DomainQ = "development") -> AppView:
    with svc.db.session() as s:
        record = aq.set_desired(s, project, domain, name, "ACTIVE")
        return view(record, aq.replicas(s, record.id))


@router.post("/apps/{name}/stop", name="stop_app", responses=_ERRORS)
def stop_app(name: AppName, svc: Svc, project: ProjectQ = "default", domain: DomainQ = "development") -> AppView:
    with svc.db.session() as s:
        record = aq.set_desired(s, project, domain, name, "STOPPED")
        return view(record, aq.replicas(s, record.id))


@router.get("/apps/{name}/logs", name="app_logs", responses=_ERRORS)
def app_logs(name: AppName, svc: Svc, project: ProjectQ = "default", domain: DomainQ = "development",
             replica: Annotated[int, Query(ge=0, le=1000)] = 0,
             tail: Annotated[int, Query(ge=1, le=5000)] = 200) -> AppLog:
    """The last lines of one replica's output (its command line first, as it was started)."""
    from plait.workspaces.manager import log_tail

    with svc.db.session(readonly=True) as s:
        record = aq.get_app(s, project, domain, name)
    return AppLog(lines=log_tail(rp.app_root(svc.settings.home, record.id) / f"replica-{replica}.log", tail))


@router.get("/apps/{name}/events", name="app_events", responses=_ERRORS)
def app_events(name: AppName, svc: Svc, project: ProjectQ = "default", domain: DomainQ = "development",
               limit: Annotated[int, Query(ge=1, le=200)] = 50) -> AppEvents:
    with svc.db.session(readonly=True) as s:
        record = aq.get_app(s, project, domain, name)
        return AppEvents(events=[{"at": e.at.isoformat(), "message": e.message} for e in aq.events(s, record.id, limit)])


@router.post("/apps/{name}/session", name="app_session", responses=_ERRORS)
def app_session(name: AppName, request: Request, svc: Svc, project: ProjectQ = "default",
                domain: DomainQ = "development") -> S.SessionLink:
    """A link that opens the app in a browser tab (which cannot send the bearer header)."""
    with svc.db.session(readonly=True) as s:
        record = aq.get_app(s, project, domain, name)
    prefix = rp.prefix_of(record.project, record.domain, record.name) + "/"
    return S.SessionLink(**sessions.link_for(request.app.state.token, prefix))  # type: ignore[arg-type]


# ------------------------------------------------------------------ the proxy


class _Traffic:
    """Per API process: each app's ports (read at most twice a second), its requests in flight,
    and the reports of both to the table (at most once a second per app)."""

    def __init__(self) -> None:
        self.cache: dict[tuple[str, str, str], tuple[float, int | None, bool, list[int], bool]] = {}
        self.in_flight: dict[int, int] = {}
        self.peak: dict[int, int] = {}
        self.reported: dict[int, float] = {}
        self.turn = itertools.count()

    def find(self, svc: Services, project: str, domain: str, name: str, *,
             fresh: bool = False) -> tuple[int | None, bool, list[int], bool]:
        """(id, requires_auth, READY ports, whether it should run) of an app; id None: no such app."""
        key = (project, domain, name)
        hit = self.cache.get(key)
        if hit is not None and not fresh and time.monotonic() - hit[0] < LOOKUP_TTL_S:
            return hit[1], hit[2], hit[3], hit[4]
        with svc.db.session(readonly=True) as s:
            try:
                record = aq.get_app(s, project, domain, name)
            except LookupError:
                found: tuple[int | None, bool, list[int], bool] = (None, True, [], False)
            else:
                found = (record.id, bool(record.spec.get("requires_auth", True)), aq.ready_ports(s, record.id),
                         record.desired == "ACTIVE")
        self.cache[key] = (time.monotonic(), *found)
        return found

    def begin(self, svc: Services, app_id: int, *, wanted: bool = False) -> None:
        self.in_flight[app_id] = self.in_flight.get(app_id, 0) + 1
        self.peak[app_id] = max(self.peak.get(app_id, 0), self.in_flight[app_id])
        if wanted or time.monotonic() - self.reported.get(app_id, 0.0) >= REPORT_EVERY_S:
            self.reported[app_id] = time.monotonic()
            peak, self.peak[app_id] = self.peak[app_id], self.in_flight[app_id]
            with svc.db.session() as s:
                aq.note_traffic(s, app_id, last_request=dt.datetime.now(dt.timezone.utc), load=float(peak),
                                wanted=wanted)

    def end(self, app_id: int) -> None:
        self.in_flight[app_id] = max(self.in_flight.get(app_id, 1) - 1, 0)

    def pick(self, ports: list[int]) -> int:
        return ports[next(self.turn) % len(ports)]


def _traffic(app: Any) -> _Traffic:
    found = getattr(app.state, "app_traffic", None)
    if found is None:
        found = app.state.app_traffic = _Traffic()
    return found  # type: ignore[no-any-return]


def _passing(scope: dict[str, Any], requires_auth: bool, prefix: str) -> Passing:
    """A public app checks its own credentials (an API key in Authorization): they pass, unless
    they are the server's token, which never leaves the server."""
    own_key = not requires_auth and not scope.get("plait.bearer")
    return Passing(drop_cookies=(sessions.COOKIE,), authorization=own_key, origin=False,
                   extra=(("x-forwarded-prefix", prefix.rstrip("/")),))


async def _ports(svc: Services, traffic: _Traffic, app_id: int, key: tuple[str, str, str]) -> list[int]:
    """The READY replicas' ports; with none, ask for one (a cold start) and wait for it."""
    _, _, ports, running = traffic.find(svc, *key)
    if ports or not running:
        return ports
    deadline = time.monotonic() + COLD_START_TIMEOUT_S
    asked = 0.0
    while time.monotonic() < deadline:
        if time.monotonic() - asked > 5.0:  # the manager sees the wish within its next turn
            asked = time.monotonic()
            with svc.db.session() as s:
                aq.note_traffic(s, app_id, last_request=dt.datetime.now(dt.timezone.utc), load=1.0, wanted=True)
        await asyncio.sleep(0.1)
        _, _, ports, running = traffic.find(svc, *key, fresh=True)
        if ports or not running:
            return ports
    return []


async def proxy_http(request: Request) -> Response:
    svc: Services = request.app.state.services
    token: str = request.app.state.token
    try:
        project, domain, name, prefix, tail = locate(request.scope, PROXY_PREFIX)
    except RefusedPath as exc:
        return problem(400, "bad_request", str(exc))
    traffic = _traffic(request.app)
    app_id, requires_auth, _, running = traffic.find(svc, project, domain, name)
    redirect = ticket_redirect(request, token, prefix, tail) if app_id is not None and requires_auth else None
    if redirect is not None:
        return redirect
    if (app_id is None or requires_auth) and not allowed(request.scope, token, prefix):
        return problem(401, "unauthorized", f"{prefix} needs this server's bearer token or a session link "
                                            f"(POST /api/v1/apps/{name}/session)")
    if app_id is None:
        return problem(404, "not_found", f"no app `{name}` in project `{project}`, domain `{domain}`")
    if not running:
        return problem(503, "unavailable", f"app `{name}` is stopped; start it (`plait start apps --name {name}`)")
    traffic.begin(svc, app_id)
    try:
        ports = await _ports(svc, traffic, app_id, (project, domain, name))
        if not ports:
            return problem(503, "unavailable", f"app `{name}` has no replica ready after "
                                               f"{COLD_START_TIMEOUT_S:g} s; see `plait get apps` and its events")
        passing = _passing(request.scope, requires_auth, prefix)
        answer = await forward_http(request, f"http://127.0.0.1:{traffic.pick(ports)}", tail, passing=passing)
        if answer.status_code == 502:  # the replica went away (scaled down, stopped): look again
            _, _, ports, running = traffic.find(svc, project, domain, name, fresh=True)
            if not running:
                return problem(503, "unavailable", f"app `{name}` is stopped; start it "
                                                   f"(`plait start apps --name {name}`)")
            if ports and request.method in ("GET", "HEAD", "OPTIONS"):
                answer = await forward_http(request, f"http://127.0.0.1:{traffic.pick(ports)}", tail,
                                            passing=passing)
        return answer
    finally:
        traffic.end(app_id)


async def proxy_socket(websocket: WebSocket) -> None:
    svc: Services = websocket.app.state.services
    token: str = websocket.app.state.token
    try:
        project, domain, name, prefix, tail = locate(websocket.scope, PROXY_PREFIX)
    except RefusedPath:
        await websocket.close(code=1008)
        return
    traffic = _traffic(websocket.app)
    app_id, requires_auth, _, _ = traffic.find(svc, project, domain, name)
    if app_id is None or (requires_auth and not allowed(websocket.scope, token, prefix)):
        await websocket.close(code=1008)
        return
    traffic.begin(svc, app_id)
    try:
        ports = await _ports(svc, traffic, app_id, (project, domain, name))
        if not ports:
            await websocket.close(code=1013)
            return
        await forward_socket(websocket, f"ws://127.0.0.1:{traffic.pick(ports)}", tail,
                             passing=_passing(websocket.scope, requires_auth, prefix))
    finally:
        traffic.end(app_id)


METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
proxy_routes: list[BaseRoute] = [
    Route(PROXY_PREFIX + "{path:path}", proxy_http, methods=METHODS, name="app_proxy"),
    WebSocketRoute(PROXY_PREFIX + "{path:path}", proxy_socket, name="app_proxy_socket"),
]
