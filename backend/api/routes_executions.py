"""Executions: launch, list, inspect, follow logs, abort, relaunch, recover, re-run."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Response
from plait.model import InterfaceSpec, LaunchPlanSpec, parse_spec
from plait.model.vocab import UNSUCCESSFUL
from sqlalchemy.orm import Session

from ..artifacts.catalog import LaunchArtifacts, carried_inputs, note_carried
from ..store import queries
from ..store.errors import Conflict, NotFound
from ..store.queries import concurrency, execution_labels
from ..store.records import AttemptRecord, ExecutionHeader, ExecutionRecord, NodeRecord
from . import checks, launching, reruns
from . import schemas as S
from .answers import answer, json_bytes
from .deps import Services, Svc
from .errors import Busy, ConcurrencyLimited, InvalidField

router = APIRouter(prefix="/api/v1", tags=["executions"], responses={401: S.ERROR_RESPONSES[401]})

ExecutionId = Annotated[str, Path(min_length=1, max_length=64, description="The execution's name.")]
NodePath = Annotated[str, Path(min_length=1, max_length=512, description="Node path, e.g. `n0` or `n2-n1`.")]
MAX_LOG_CHUNK = 1024 * 1024
_ERRORS = {404: S.ERROR_RESPONSES[404], 409: S.ERROR_RESPONSES[409], 422: S.ERROR_RESPONSES[422]}
_LAUNCH_ERRORS = {**_ERRORS, 429: S.ERROR_RESPONSES[429]}
RETRY_AFTER_S = 1  # what a refused launch is told to wait; clients back off further on repeats


# ------------------------------------------------------------------ views


def duration_s(record: Any) -> float | None:
    """Seconds from start to end (or to now while running); None before it starts."""
    if record.started_at is None:
        return None
    end = record.ended_at or dt.datetime.now(dt.timezone.utc)
    return max((end - record.started_at).total_seconds(), 0.0)


def _header(record: ExecutionRecord | ExecutionHeader) -> dict[str, Any]:
    launch_plan = None
    if record.launch_plan_name:
        launch_plan = S.EntityRef(
            kind="launch_plan", name=record.launch_plan_name, version=record.launch_plan_version or ""
        )
    return dict(
        id=record.id, project=record.project, domain=record.domain,
        entity=S.EntityRef(kind=record.entity_kind, name=record.entity_name,  # type: ignore[arg-type]
                           version=record.entity_version),
        launch_plan=launch_plan, phase=record.phase, error=record.error,
        parent_execution_id=record.parent_execution_id, parent_node_path=record.parent_node_path,
        abort_requested=record.abort_requested, created_at=record.created_at,
        started_at=record.started_at, ended_at=record.ended_at, duration_s=duration_s(record),
    )


def execution_view(record: ExecutionRecord) -> S.Execution:
    return S.Execution(**_header(record), inputs=record.inputs, outputs=record.outputs,
                       settings=record.settings, rerun_of=record.settings.get("rerun_of"),
                       artifact_inputs=record.settings.get("artifact_inputs") or {})


def summary_view(record: ExecutionHeader) -> S.ExecutionSummary:
    return S.ExecutionSummary(**_header(record))


def _attempt_view(a: AttemptRecord) -> S.Attempt:
    return S.Attempt(
        number=a.number, phase=a.phase, error_kind=a.error_kind, error=a.error,  # type: ignore[arg-type]
        worker=a.worker, pool=a.pool, outputs=a.outputs, cpu_peak=a.usage.cpu_peak, cpu_avg=a.usage.cpu_avg,
        mem_peak=a.usage.mem_peak, mem_avg=a.usage.mem_avg, started_at=a.started_at, ended_at=a.ended_at,
        gpu_util_avg=a.usage.gpu_util_avg, gpu_util_peak=a.usage.gpu_util_peak, gpu_mem_avg=a.usage.gpu_mem_avg,
        gpu_mem_peak=a.usage.gpu_mem_peak,
    )


def _node_view(n: NodeRecord, attempts: list[AttemptRecord], version: str | None) -> S.NodeExecution:
    return S.NodeExecution(
        path=n.path, parent_path=n.parent_path, entity_name=n.entity_name, entity_version=version, kind=n.kind,
        phase=n.phase, inputs=n.inputs, outputs=n.outputs, error=n.error,  # type: ignore[arg-type]
        created_at=n.created_at, started_at=n.started_at, ended_at=n.ended_at,
        attempts=[_attempt_view(a) for a in attempts], reused_from=n.reused_from,  # type: ignore[arg-type]
    )


# ------------------------------------------------------------------ launching


def _resolve(s: Any, body: S.ExecutionCreate) -> tuple[Any, LaunchPlanSpec | None, Any]:
    """(entity record that runs, launch plan spec or None, launch plan record or None)."""
    if body.kind != "launch_plan":
        return queries.get_entity(s, body.kind, body.project, body.domain, body.name, body.version), None, None
    lp_record = queries.get_entity(s, "launch_plan", body.project, body.domain, body.name, body.version)
    lp = LaunchPlanSpec.from_dict(lp_record.spec)
    try:  # the workflow registered with the plan, else its newest version
        workflow = queries.get_entity(s, "workflow", body.project, body.domain, lp.workflow, lp_record.version)
    except NotFound:
        workflow = queries.get_entity(s, "workflow", body.project, body.domain, lp.workflow)
    return workflow, lp, lp_record


def _admit(s: Session, svc: Services, project: str) -> None:
    """Refuse a launch (429 with Retry-After) while `max_queued` executions of the project wait.

    Admission keeps the queue short enough that what is admitted starts within
    seconds; without it a burst of launches grows the queue without bound and
    nothing finishes until all of it has started. The count and the insert are
    not one transaction, so concurrent launches may pass the limit by a few.
    """
    limit = svc.settings.max_queued
    queued = queries.count_queued(s, project)
    if queued >= limit:
        raise Busy(
            f"project `{project}` has {queued} executions waiting to start, as many as the server "
            f"admits (PLAIT_MAX_QUEUED={limit}); try again in {RETRY_AFTER_S} s, or raise the "
            "limit on the server", retry_after_s=RETRY_AFTER_S,
        )


def _admit_plan(s: Session, project: str, domain: str, plan: str | None, version: str | None) -> None:
    """Refuse a launch (429 with Retry-After) of a launch plan whose `ConcurrencyPolicy` has
    as many executions active as it allows.

    The executions of the plan's name across all its versions are counted; the
    policy of `version` (the one launched) decides. The plan's launch lock is
    held until this session's transaction commits the new execution, so
    concurrent launches cannot both pass the last free place.
    """
    if plan is None or version is None:
        return
    try:
        spec = LaunchPlanSpec.from_dict(queries.get_entity(s, "launch_plan", project, domain, plan, version).spec)
    except NotFound:
        return  # the execution records a plan version that is gone: nothing to enforce
    policy = concurrency.policy_of(spec.settings)
    ok, active = concurrency.admit_launch_plan(s, project, domain, plan, policy)
    if not ok:
        assert policy is not None
        raise ConcurrencyLimited(concurrency.limit_message(plan, project, domain, policy, active),
                                 retry_after_s=RETRY_AFTER_S)


def _submit(svc: Services, execution_id: str) -> None:
    """Hand a committed QUEUED execution to the executor."""
    svc.executor.submit(execution_id)


@router.post("/executions", name="create_execution", status_code=201, responses=_LAUNCH_ERRORS)
def create_execution(body: S.ExecutionCreate, svc: Svc) -> S.Execution:
    """Run a task, workflow or launch plan (the newest version unless `version` is given).

    Inputs are JSON literals checked against the interface; a 422 names the
    input, the declared type and what was given. Everything is checked before
    anything is stored: text must be Unicode, numbers finite, settings within
    their rules and sizes (a 422 names the field).
    """
    checks.check_request(body)
    checks.check_settings(body.settings)
    with svc.db.session() as s:
        _admit(s, svc, body.project)
        target, lp, lp_record = _resolve(s, body)
        interface: InterfaceSpec = parse_spec(target.spec).interface
        found = LaunchArtifacts(s, body.project, body.domain)
        inputs = launching.merge_inputs(target.name, interface, body.inputs, launch_plan=lp, artifacts=found)
        settings = launching.merge_settings(body.settings, lp)
        settings.update({"artifact_inputs": found.summary()} if found.resolved else {})
        settings["raw_output_prefix"] = launching.raw_output_prefix(settings.get("raw_output_prefix"),
                                                                    svc.storage.uri("x")[:-1])
        settings.update({} if body.notifications is None else {"notifications": [n.to_spec() for n in body.notifications]})
        skip = reruns.skip_outputs(s, target, body.settings.skip)
        settings.update({"skip": skip} if skip else {})
        checks.check_stored_settings(settings)
        launching.check_references(s, body.project, body.domain, target.kind, target.name, target.version)
        launching.check_secrets(s, body.project, body.domain, target.kind, target.name, target.version)
        launching.check_pools(s, launching.launch_pools(svc.settings), body.project, body.domain, target.kind,
                              target.name, target.version, settings)
        if lp_record is not None:
            _admit_plan(s, body.project, body.domain, lp_record.name, lp_record.version)
        record = queries.create_execution(
            s, project=body.project, domain=body.domain, entity_kind=target.kind,
            entity_name=target.name, entity_version=target.version, inputs=inputs,
            settings=settings, id=body.settings.name,
            launch_plan_name=lp_record.name if lp_record else None,
            launch_plan_version=lp_record.version if lp_record else None,
        )
        found.note(record.id)
        body_out = json_bytes(execution_view(record))  # the answer exists before the commit
    _submit(svc, record.id)
    return Response(content=body_out, status_code=201, media_type="application/json")  # type: ignore[return-value]


def _again(svc: Services, old_id: str, name: str | None, *, recover: bool,
           rerun: S.RerunRequest | None = None) -> S.Execution:
    with svc.db.session() as s:
        old = queries.get_execution(s, old_id)
        _admit(s, svc, old.project)
        settings = {k: v for k, v in old.settings.items() if k not in ("recover_from", "rerun_of")}
        version, inputs = old.entity_version, old.inputs
        if rerun is not None:
            plan = reruns.rerun_plan(s, old, rerun)
            version, inputs = plan.version, plan.inputs
            settings["rerun_of"] = plan.rerun_of
            skip = {p: v for p, v in (settings.get("skip") or {}).items() if not plan.forces(p)}
            settings.pop("skip", None)
            settings.update({"skip": skip} if skip else {})
        elif recover:
            if old.phase == "SUCCEEDED":
                raise Conflict(
                    f"execution `{old_id}` succeeded; there is nothing to recover (relaunch it to "
                    "run it again)", kind="execution", name=old_id,
                )
            if old.phase not in UNSUCCESSFUL:
                raise Conflict(
                    f"execution `{old_id}` is {old.phase}; only failed, aborted or timed-out "
                    "executions can be recovered", kind="execution", name=old_id,
                )
            settings["recover_from"] = old_id
        carried = carried_inputs(old.inputs, inputs, settings.pop("artifact_inputs", None))
        settings.update({"artifact_inputs": carried} if carried else {})
        checks.check_json(inputs, "inputs")
        checks.check_stored_settings(settings)
        launching.check_references(s, old.project, old.domain, old.entity_kind, old.entity_name, version)
        launching.check_secrets(s, old.project, old.domain, old.entity_kind, old.entity_name, version)
        launching.check_pools(s, launching.launch_pools(svc.settings), old.project, old.domain, old.entity_kind,
                              old.entity_name, version, settings)
        _admit_plan(s, old.project, old.domain, old.launch_plan_name, old.launch_plan_version)
        record = queries.create_execution(
            s, project=old.project, domain=old.domain, entity_kind=old.entity_kind,
            entity_name=old.entity_name, entity_version=version, inputs=inputs,
            settings=settings, id=name, launch_plan_name=old.launch_plan_name,
            launch_plan_version=old.launch_plan_version,
        )
        note_carried(s, old.project, old.domain, record.id, carried)
        body_out = json_bytes(execution_view(record))
    _submit(svc, record.id)
    return Response(content=body_out, status_code=201, media_type="application/json")  # type: ignore[return-value]


Again = Annotated[S.RelaunchRequest | None, Body()]


@router.post("/executions/{id}/relaunch", name="relaunch_execution", status_code=201, responses=_LAUNCH_ERRORS)
def relaunch_execution(id: ExecutionId, svc: Svc, body: Again = None) -> S.Execution:
    """A new execution of the same entity with the same inputs and settings."""
    return _again(svc, id, body.name if body else None, recover=False)


@router.post("/executions/{id}/recover", name="recover_execution", status_code=201, responses=_LAUNCH_ERRORS)
def recover_execution(id: ExecutionId, svc: Svc, body: Again = None) -> S.Execution:
    """A new execution that reuses the nodes the failed one completed and runs the rest."""
    return _again(svc, id, body.name if body else None, recover=True)


@router.post("/executions/{id}/rerun", name="rerun_execution", status_code=201, responses=_LAUNCH_ERRORS)
def rerun_execution(id: ExecutionId, body: S.RerunRequest, svc: Svc) -> S.Execution:
    """A new execution that runs the chosen nodes, and what depends on them, again, and takes
    every other node's outputs from this one (REUSED, the same stored values); 409 while this
    one runs, 422 for an unknown node, a bad input, or a `version` whose specs changed."""
    checks.check_request(body)
    return _again(svc, id, body.name, recover=False, rerun=body)


@router.post("/executions/{id}/abort", name="abort_execution", status_code=202, responses=_ERRORS)
def abort_execution(id: ExecutionId, svc: Svc,
                    body: Annotated[S.AbortRequest | None, Body()] = None) -> S.Execution:
    """Ask the executor to stop a running execution, with an optional reason; 409 if it already ended."""
    with svc.db.session() as s:
        record = queries.request_abort(s, id, reason=body.reason if body else None)
    try:
        svc.executor.abort(id)
    except Conflict:
        pass  # it ended between our commit and the executor's look: nothing left to stop
    return answer(execution_view(record), status_code=202)  # type: ignore[no-any-return]


# ------------------------------------------------------------------ reading


def _json(model: S.Response) -> Response:
    """The model as JSON, serialised once (FastAPI would validate it again first)."""
    return answer(model)  # type: ignore[no-any-return]


# The most polled reads run on the event loop: a quick database read costs less
# there than the hop to the thread pool.
@router.get("/executions", name="list_executions", responses=_ERRORS, response_model=S.ExecutionList)
async def list_executions(
    svc: Svc,
    project: Annotated[str | None, Query(pattern=S.PROJECT_PATTERN)] = None,
    domain: S.Domain | None = None,
    name: Annotated[str | None, Query(max_length=255, description="Name of the task or workflow run.")] = None,
    search: Annotated[str | None, Query(max_length=255, description=(
        "Part of an execution's id, or of the name of its task, workflow or launch plan (any case)."))] = None,
    kind: S.EntityKind | None = None,
    launch_plan: Annotated[str | None, Query(max_length=255)] = None,
    phase: Annotated[list[S.ExecutionPhase] | None, Query(description="One or more phases.")] = None,
    parent_execution_id: Annotated[str | None, Query(max_length=64)] = None,
    label: Annotated[list[Annotated[str, Query(max_length=512)]] | None, Query(
        max_length=20, description="`key=value`: only executions launched with this label (all must match).",
    )] = None,
    annotation: Annotated[list[Annotated[str, Query(max_length=512)]] | None, Query(
        max_length=20, description="`key=value`: only executions launched with this annotation.",
    )] = None,
    limit: Annotated[int, Query(ge=1, le=S.MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0, le=S.MAX_OFFSET)] = 0,
) -> S.ExecutionList:
    """Executions, newest first, filtered by any of the parameters; their values are in
    `GET /executions/{id}`, so a list stays small however large they are."""
    filters = dict(project=project, domain=domain, name=name, kind=kind, launch_plan=launch_plan,
                   phase=phase or None, parent_execution_id=parent_execution_id)
    with svc.db.session(readonly=True) as s:
        found = queries.list_executions(
            s, labels=execution_labels.parse_pairs("label", label),
            annotations=execution_labels.parse_pairs("annotation", annotation), search=search or None,
            limit=limit + 1, offset=offset, **filters,
        )
    items = [summary_view(e) for e in found]
    return _json(S.ExecutionList(items=items[:limit], limit=limit, offset=offset,  # type: ignore[return-value]
                                 next_offset=offset + limit if len(items) > limit else None))


class _FinishedAnswers:
    """Serialised answers of finished executions, which never change again: panels poll the
    same finished run over and over, and one with large inline values costs far more to read
    and serialise than to send. Least recently used first out, bounded by bytes."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._bytes, self._max = 0, max_bytes

    def get(self, key: str) -> bytes | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: str, body: bytes) -> None:
        if len(body) > self._max // 8 or key in self._items:
            return
        self._items[key] = body
        self._bytes += len(body)
        while self._bytes > self._max:
            _, dropped = self._items.popitem(last=False)
            self._bytes -= len(dropped)


_finished = _FinishedAnswers()


@router.get("/executions/{id}", name="get_execution", responses=_ERRORS, response_model=S.Execution)
async def get_execution(id: ExecutionId, svc: Svc) -> S.Execution:
    """An execution's phase, timings, inputs, outputs and error."""
    key = f"{svc.db.url}#{id}"
    body = _finished.get(key)
    if body is None:
        with svc.db.session(readonly=True) as s:
            record = queries.get_execution(s, id)
        body = json_bytes(execution_view(record))
        if record.done:
            _finished.put(key, body)
    return Response(content=body, media_type="application/json")  # type: ignore[return-value]


@router.get("/executions/{id}/nodes", name="list_execution_nodes", responses=_ERRORS)
def list_nodes(id: ExecutionId, svc: Svc) -> S.NodeExecutionList:
    """Every node execution with its attempts, in the order they started."""
    with svc.db.session(readonly=True) as s:
        nodes = queries.list_nodes(s, id)
        attempts = queries.list_attempts(s, id)
        versions = queries.node_entity_versions(s, queries.get_execution(s, id), nodes)
    by_path: dict[str, list[AttemptRecord]] = {}
    for a in attempts:
        by_path.setdefault(a.node_path, []).append(a)
    return answer(S.NodeExecutionList(  # type: ignore[no-any-return]
        execution_id=id, nodes=[_node_view(n, by_path.get(n.path, []), versions[n.path]) for n in nodes]))


def _store_path(storage: Any, uri: str) -> str:
    """An attempt's logs location as a path inside the object store."""
    if "://" not in uri:
        return uri
    root = storage.uri("x")[:-1]
    return uri[len(root):] if uri.startswith(root) else uri


@router.get("/executions/{id}/nodes/{path}/logs", name="read_node_logs", responses=_ERRORS)
def read_logs(
    id: ExecutionId,
    path: NodePath,
    svc: Svc,
    attempt: Annotated[int | None, Query(ge=1, le=10_000, description="Default: the latest.")] = None,
    offset: Annotated[int, Query(ge=0, le=2**53, description="Byte offset to read from.")] = 0,
    max_bytes: Annotated[int, Query(ge=1, le=MAX_LOG_CHUNK)] = MAX_LOG_CHUNK,
) -> S.LogChunk:
    """Text of a node attempt's log from `offset`; poll again from `next_offset` to follow it."""
    with svc.db.session(readonly=True) as s:
        node = queries.get_node(s, id, path)
        attempts = queries.list_attempts(s, id, path)
    if attempt is not None:
        chosen = next((a for a in attempts if a.number == attempt), None)
        if chosen is None:
            have = ", ".join(str(a.number) for a in attempts) or "none yet"
            raise NotFound(f"node `{path}` of execution `{id}` has no attempt {attempt}; attempts: {have}",
                           kind="attempt", name=path)
    elif attempts:
        chosen = attempts[-1]
    else:  # not started yet (or cached, skipped): nothing to read
        ended = node.ended_at is not None
        return S.LogChunk(execution_id=id, path=path, attempt=0, offset=offset, next_offset=offset,
                          text="", complete=ended)
    logs = _store_path(svc.storage, chosen.logs_uri or f"executions/{id}/{path}/{chosen.number}/logs.txt")
    text, next_offset = svc.storage.read_text(logs, offset, max_bytes)
    at_end = next_offset == offset or next_offset - offset < max_bytes - 3  # 3: a cut UTF-8 character
    return S.LogChunk(execution_id=id, path=path, attempt=chosen.number, offset=offset,
                      next_offset=next_offset, text=text, complete=chosen.ended_at is not None and at_end)


def _under_raw_prefix(svc: Services, path: str) -> bool:
    """Whether `path` is `<prefix>/executions/<id>/...` of an execution launched with that
    raw output prefix (its outputs live there instead of under `executions/`)."""
    prefix, sep, rest = path.partition("/executions/")
    execution_id = rest.split("/", 1)[0]
    if not sep or not prefix or not execution_id:
        return False
    try:
        with svc.db.session(readonly=True) as s:
            record = queries.get_execution(s, execution_id)
    except NotFound:
        return False
    return bool(record.settings.get("raw_output_prefix") == prefix)


@router.get(
    "/data",
    name="read_value",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
              "description": "The stored bytes (a pickle or a file), for the client to load."},
        **_ERRORS,
    },
)
def read_value(
    uri: Annotated[str, Query(min_length=1, max_length=2048, description="The `uri` of a value ref.")],
    svc: Svc,
) -> Response:
    """The bytes of an offloaded value (an output the worker stored); the server never loads them.

    Values are under `executions/`, or under the raw output prefix of the execution that
    stored them (`<prefix>/executions/<id>/...`)."""
    path = _store_path(svc.storage, uri)
    if "://" in path or not (path.startswith(("executions/", "artifacts/")) or _under_raw_prefix(svc, path)):
        raise InvalidField(
            f"`{uri}` is not an execution value of this server's object store; only paths under "
            "`executions/` can be read here", field="uri",
        )
    try:  # only a regular file reached through real folders: never a folder or a link
        data = svc.storage.get_bytes(path, follow_links=False)
    except FileNotFoundError:
        raise NotFound(f"no stored value at `{uri}`", kind="value", name=uri) from None
    return Response(data, media_type="application/octet-stream")
