"""Code uploads, registration, and the registered tasks, workflows and launch plans."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from plait.model.dag import MIME as DAG_MIME
from plait.model.dag import dag_from_spec
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ..config import UploadLimits
from ..execution.scheduler import ScheduleError, parse_schedule
from ..store import queries
from ..store.errors import NotFound
from ..store.queries import launch_plans as lpq
from ..store.records import EntityRecord, RecentRecord
from . import checks, registration, uploads
from . import schemas as S
from .answers import SafeJSONResponse, answer
from .deps import Services, Svc
from .errors import InvalidField
from .routes_executions import duration_s

router = APIRouter(prefix="/api/v1", responses={401: S.ERROR_RESPONSES[401]})

_BINARY_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}

Digest = Annotated[str, Path(pattern=S.DIGEST_PATTERN, description="sha256 of the body, hex.")]
ProjectQ = Annotated[str, Query(pattern=S.PROJECT_PATTERN)]
DomainQ = Annotated[S.Domain, Query()]
Limit = Annotated[int, Query(ge=1, le=S.MAX_LIMIT)]
Offset = Annotated[int, Query(ge=0, le=S.MAX_OFFSET)]
EntityName = Annotated[str, Path(min_length=1, max_length=255)]
VersionQ = Annotated[str | None, Query(min_length=1, max_length=128, description="Default: the newest.")]


# ------------------------------------------------------------------ uploads


def _limits(svc: Services) -> UploadLimits:
    return svc.settings.upload_limits if svc.settings is not None else UploadLimits()


async def _receive(request: Request, digest: str, svc: Services) -> uploads.Received:
    return await uploads.receive(request.stream(), digest, limit=_limits(svc).max_upload_bytes,
                                 declared=request.headers.get("content-length"))


def _store(svc: Services, path: str, received: uploads.Received) -> bool:
    """Put the checked upload under `path` unless it is there already; True if it was put."""
    if svc.storage.exists(path):
        return False
    svc.storage.put_file(path, received.path)
    return True


def _store_bundle(svc: Services, digest: str, received: uploads.Received, python_version: str | None) -> bool:
    uploads.check_bundle(received.path, received.size, _limits(svc))
    path = f"bundles/{digest}.tar.gz"
    created = _store(svc, path, received)
    try:
        with svc.db.session() as s:
            queries.put_bundle(s, digest, path, python_version)
    except BaseException:
        if created:  # nothing names it: leave nothing behind
            svc.storage.delete_prefix(path)
        raise
    return created


@router.put(
    "/bundles/{digest}",
    tags=["registration"],
    name="upload_bundle",
    openapi_extra=_BINARY_BODY,
    responses={413: S.ERROR_RESPONSES[413], 422: S.ERROR_RESPONSES[422]},
)
async def upload_bundle(
    digest: Digest,
    request: Request,
    svc: Svc,
    python_version: Annotated[str | None, Query(pattern=r"^\d+\.\d+(\.\d+)?$")] = None,
) -> S.BundleUploaded:
    """Upload a code bundle (a tar.gz of module sources) named by its sha256.

    The body must hash to the digest and be a gzip tar of regular files and
    folders with relative paths (no links, devices, absolute paths or `..`),
    within the server's size and expansion limits (413 past them).
    """
    with uploads.removed_after(await _receive(request, digest, svc)) as received:
        created = await run_in_threadpool(_store_bundle, svc, digest, received, python_version)
    return S.BundleUploaded(digest=digest, size=received.size, created=created)


@router.put(
    "/functions/{digest}",
    tags=["registration"],
    name="upload_function",
    openapi_extra=_BINARY_BODY,
    responses={413: S.ERROR_RESPONSES[413], 422: S.ERROR_RESPONSES[422]},
)
async def upload_function(digest: Digest, request: Request, svc: Svc) -> S.BundleUploaded:
    """Upload a by-value (cloudpickled) entity named by its sha256; only workers load it."""
    with uploads.removed_after(await _receive(request, digest, svc)) as received:
        created = await run_in_threadpool(_store, svc, f"functions/{digest}.pkl", received)
    return S.BundleUploaded(digest=digest, size=received.size, created=created)


# ------------------------------------------------------------------ registration


@router.post(
    "/register",
    tags=["registration"],
    name="register",
    responses={
        201: {"model": S.RegisterResponse, "description": "Something new was registered."},
        404: S.ERROR_RESPONSES[404],
        409: S.ERROR_RESPONSES[409],
        422: S.ERROR_RESPONSES[422],
    },
)
def register(body: S.RegisterRequest, response: Response, svc: Svc) -> S.RegisterResponse:
    """Register specs under one version (201); the same content again changes nothing (200).

    Every workflow without a launch plan of its name gets its default launch
    plan. A version already used with other content is a 409.
    """
    checks.check_request(body)
    registration.check_python(body.python_version, svc.executor.worker_python())
    bundles = registration.code_refs(body.specs, "bundle")  # digests, never paths: checked first
    pickles = registration.code_refs(body.specs, "pickle")
    planned = registration.plan_registration(body.specs, body.bundle_digest)
    for i, p in enumerate(planned):  # a schedule the scheduler could not follow is refused now
        if p.kind == "launch_plan":
            try:
                parse_schedule(p.spec.get("schedule"), owner=f"launch plan `{p.name}`")
            except ScheduleError as exc:
                raise InvalidField(str(exc), field=f"specs[{i}].schedule") from None
    version = body.version or registration.content_version(body.specs, body.bundle_digest)
    for i, digest in pickles:
        if not svc.storage.exists(f"functions/{digest}.pkl"):
            raise InvalidField(
                f"specs[{i}] refers to the function `{digest}`, which was not uploaded; "
                f"PUT /api/v1/functions/{digest} first",
                field=f"specs[{i}].code.pickle",
            )
    with svc.db.session() as s:
        queries.get_project(s, body.project)
        if body.bundle_digest is not None:
            try:
                queries.get_bundle(s, body.bundle_digest)
            except NotFound as exc:
                raise InvalidField(str(exc), field="bundle_digest") from None
        for i, digest in bundles:
            try:
                queries.get_bundle(s, digest)
            except NotFound:
                raise InvalidField(
                    f"specs[{i}].code.bundle names the bundle `{digest}`, which was not uploaded; "
                    f"PUT /api/v1/bundles/{digest} first", field=f"specs[{i}].code.bundle",
                ) from None
        for ref in registration.references(body.specs):
            try:
                queries.get_entity(s, ref.kind, ref.project, ref.domain, ref.name, ref.version)
            except NotFound as exc:
                raise InvalidField(f"specs[{ref.index}] is a reference, but {exc}",
                                   field=f"specs[{ref.index}].reference") from None
        entities = []
        for p in planned:
            record, created = queries.register_entity(
                s, kind=p.kind, project=body.project, domain=body.domain, name=p.name,
                version=version, digest=p.digest, spec=p.spec, description=p.description,
                bundle_digest=body.bundle_digest,
            )
            entities.append(S.RegisteredEntity(kind=p.kind, name=p.name, version=version, created=created))  # type: ignore[arg-type]
            if p.kind == "launch_plan" and created and p.spec.get("auto_activate"):
                lpq.activate_launch_plan(s, body.project, body.domain, p.name, version)  # else: inactive
    created_any = any(e.created for e in entities)
    response.status_code = 201 if created_any else 200
    return S.RegisterResponse(
        project=body.project, domain=body.domain, version=version, created=created_any, entities=entities
    )


# ------------------------------------------------------------------ entities


def _summary(record: EntityRecord) -> dict[str, Any]:
    return {
        "kind": record.kind, "project": record.project, "domain": record.domain, "name": record.name,
        "version": record.version, "description": record.description or "",
        "archived": record.archived, "created_at": record.created_at,
    }


def _entity(record: EntityRecord) -> S.Entity:
    return S.Entity(
        **_summary(record), digest=record.digest, bundle_digest=record.bundle_digest, spec=record.spec
    )


def _next(count: int, limit: int, offset: int) -> int | None:
    return offset + limit if count > limit else None


RECENT_EXECUTIONS = 10


def _recent(found: list[RecentRecord]) -> list[S.RecentExecution]:
    return [S.RecentExecution(id=e.id, phase=e.phase, created_at=e.created_at,  # type: ignore[arg-type]
                              duration_s=duration_s(e), node_path=e.node_path, workflow=e.workflow)
            for e in found]


def _newest_runs(*sources: dict[str, list[RecentRecord]]) -> dict[str, list[RecentRecord]]:
    """Each name's runs from every source, newest first, one per execution, at most RECENT_EXECUTIONS."""
    merged: dict[str, list[RecentRecord]] = {}
    for source in sources:
        for name, runs in source.items():
            merged.setdefault(name, []).extend(runs)
    out: dict[str, list[RecentRecord]] = {}
    for name, runs in merged.items():
        unique: dict[str, RecentRecord] = {}
        for run in runs:
            unique.setdefault(run.id, run)  # the first source wins
        newest = sorted(unique.values(), key=lambda run: (run.created_at, run.id), reverse=True)
        out[name] = newest[:RECENT_EXECUTIONS]
    return out


class DagResponse(SafeJSONResponse):
    """A DAG bundle of plait.notebook.dag, under its own media type."""

    media_type = DAG_MIME


# Errors stay application/json; with a `model`, FastAPI would list them under the route's media type.
_DAG_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The DAG bundle."},
    **{code: {"description": S.ERROR_RESPONSES[code]["description"],
              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
       for code in (401, 404, 422)},
}


def _dag(s: Session, record: EntityRecord) -> dict[str, Any]:
    """The DAG of a registered entity; what its nodes use is looked up as the executor does."""

    def resolve(kind: str, name: str, version: str | None) -> dict[str, Any] | None:
        for wanted in (version, None):  # the entity's own version, else the newest
            try:
                return queries.get_entity(s, kind, record.project, record.domain, name, wanted).spec
            except NotFound:
                continue
        return None

    return dag_from_spec(record.spec, resolve, version=record.version)


def _add_kind_routes(plural: str, kind: str) -> None:
    label = kind.replace("_", " ")
    tags: list[str | Any] = ["entities"]
    errors = {404: S.ERROR_RESPONSES[404], 422: S.ERROR_RESPONSES[422]}

    def list_kind(
        svc: Svc,
        project: ProjectQ = "default",
        domain: DomainQ = "development",
        name_contains: Annotated[str | None, Query(max_length=255)] = None,
        archived: bool = False,
        workflow: Annotated[str | None, Query(
            max_length=255, description="Launch plans only: those that launch this workflow.")] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> S.EntityList:
        if workflow is not None and kind != "launch_plan":
            raise InvalidField(f"`workflow` filters launch plans, not {label}s; leave it out",
                               field="workflow")
        with svc.db.session(readonly=True) as s:
            found = queries.list_entities(
                s, kind, project, domain, name_contains=name_contains, archived=archived,
                workflow=workflow, limit=limit + 1, offset=offset,
            )
            names = [f.latest.name for f in found[:limit]]
            recent = _newest_runs(
                queries.recent_executions(s, kind, project, domain, names, per_name=RECENT_EXECUTIONS),
                # A task's runs inside workflows count as its runs too (nothing for a launch plan).
                queries.recent_node_runs(s, kind, project, domain, names, per_name=RECENT_EXECUTIONS),
            )
        items = []
        for f in found[:limit]:
            runs = _recent(recent.get(f.latest.name, []))
            items.append(S.EntityListItem(**_summary(f.latest), version_count=f.version_count, recent=runs,
                                          last_execution_at=runs[0].created_at if runs else None))
        return S.EntityList(items=items, limit=limit, offset=offset, next_offset=_next(len(found), limit, offset))

    def get_kind(
        name: EntityName, svc: Svc, project: ProjectQ = "default", domain: DomainQ = "development",
        version: VersionQ = None,
    ) -> S.Entity:
        with svc.db.session(readonly=True) as s:
            record = queries.get_entity(s, kind, project, domain, name, version)
        return answer(_entity(record))  # type: ignore[no-any-return]  # its spec may hold what cannot be encoded

    def get_kind_dag(
        name: EntityName, svc: Svc, project: ProjectQ = "default", domain: DomainQ = "development",
        version: VersionQ = None,
    ) -> Response:
        with svc.db.session(readonly=True) as s:
            dag = _dag(s, queries.get_entity(s, kind, project, domain, name, version))
        return DagResponse(dag)

    def list_kind_versions(
        name: EntityName, svc: Svc, project: ProjectQ = "default", domain: DomainQ = "development",
        limit: Limit = 100, offset: Offset = 0,
    ) -> S.EntityVersionList:
        with svc.db.session(readonly=True) as s:
            found = queries.list_versions(s, kind, project, domain, name, limit=limit + 1, offset=offset)
        items = [S.EntitySummary(**_summary(f)) for f in found]
        return S.EntityVersionList(items=items[:limit], limit=limit, offset=offset,
                                   next_offset=_next(len(items), limit, offset))

    def archive_kind(name: EntityName, svc: Svc, project: ProjectQ = "default",
                     domain: DomainQ = "development") -> S.EntitySummary:
        with svc.db.session() as s:
            return S.EntitySummary(**_summary(queries.set_archived(s, kind, project, domain, name, True)))

    def unarchive_kind(name: EntityName, svc: Svc, project: ProjectQ = "default",
                       domain: DomainQ = "development") -> S.EntitySummary:
        with svc.db.session() as s:
            return S.EntitySummary(**_summary(queries.set_archived(s, kind, project, domain, name, False)))

    base = f"/{plural}"
    router.add_api_route(base, list_kind, methods=["GET"], name=f"list_{plural}", tags=tags,
                         responses=errors, summary=f"List {label}s",
                         description=f"The newest version of each {label}, by name.")
    router.add_api_route(base + "/{name}", get_kind, methods=["GET"], name=f"get_{kind}", tags=tags,
                         responses=errors, summary=f"Get a {label}",
                         description=f"One version of a {label} (the newest unless `version` is given), "
                                     "with its spec.")
    router.add_api_route(base + "/{name}/dag", get_kind_dag, methods=["GET"], name=f"get_{kind}_dag",
                         tags=tags, response_model=S.Dag, response_class=DagResponse,
                         responses=_DAG_RESPONSES,
                         summary=f"Get the DAG of a {label}",
                         description=f"The graph of one version of a {label} (the newest unless `version` "
                                     "is given), as `%plait dag` draws it (media type "
                                     f"`{DAG_MIME}`, version 1): subworkflows, launch plans and "
                                     "branch cases nested, the entities its nodes use looked up at "
                                     f"the {label}'s version (else their newest)."
                                     + (" A task's DAG is one node." if kind == "task" else ""))
    router.add_api_route(base + "/{name}/versions", list_kind_versions, methods=["GET"],
                         name=f"list_{kind}_versions", tags=tags, responses=errors,
                         summary=f"List versions of a {label}", description="Newest first.")
    router.add_api_route(base + "/{name}/archive", archive_kind, methods=["POST"],
                         name=f"archive_{kind}", tags=tags, responses=errors,
                         summary=f"Archive a {label}",
                         description=f"Hide every version of the {label} from listings.")
    router.add_api_route(base + "/{name}/unarchive", unarchive_kind, methods=["POST"],
                         name=f"unarchive_{kind}", tags=tags, responses=errors,
                         summary=f"Unarchive a {label}", description="Show it in listings again.")


for _plural, _kind in (("tasks", "task"), ("workflows", "workflow"), ("launch_plans", "launch_plan")):
    _add_kind_routes(_plural, _kind)
