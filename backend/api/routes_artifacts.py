"""The artifact catalog over HTTP: search, versions, the latest match, lineage, creation.

Versions are made by the nodes that emit them (recorded with the node's success)
or through `POST /artifacts`; every read here is one of the indexed queries of
`plait.backend.store.queries.artifacts`. docs/artifacts.md shows the answers.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from plait.model.keys import literal_hash
from plait.model.literals import describe_type, validate_literal
from plait.model.times import truncate_time

from ..store.errors import NotFound
from ..store.queries import artifacts as aq
from ..store.queries import launch_plans as lpq
from . import schemas as S
from .answers import json_bytes
from .deps import Svc
from .errors import InvalidField

router = APIRouter(prefix="/api/v1", tags=["artifacts"], responses={401: S.ERROR_RESPONSES[401]})

ArtifactName = Annotated[str, Path(min_length=1, max_length=255, description="The artifact's name.")]
VersionPath = Annotated[str, Path(min_length=1, max_length=64)]
ProjectQ = Annotated[str, Query(pattern=S.PROJECT_PATTERN)]
DomainQ = Annotated[S.Domain, Query()]
PartitionQ = Annotated[list[str], Query(description="`key=value`; repeat for several keys.")]
_ERRORS: dict[int | str, dict[str, Any]] = {404: S.ERROR_RESPONSES[404], 422: S.ERROR_RESPONSES[422]}
PREVIEW = 200


def _preview(value: dict[str, Any]) -> str:
    if "literal" in value:
        text = json.dumps(value["literal"], default=str)
        return text if len(text) <= PREVIEW else text[:PREVIEW - 1] + "…"
    return str(value.get("preview") or value.get("uri") or "")


def _type_name(spec: dict[str, Any]) -> str:
    try:
        return describe_type(spec) if spec else "unknown"
    except Exception:  # noqa: BLE001 - a type spec from a newer SDK still shows its kind
        return str(spec.get("kind", "unknown"))


def version_view(r: aq.ArtifactVersionRecord) -> S.ArtifactVersion:
    producer = None
    if r.execution_id:
        producer = S.ArtifactProducer(execution_id=r.execution_id, node_path=r.node_path or "", task=r.task_name,
                                      task_version=r.task_version, output=r.output or "")
    return S.ArtifactVersion(
        id=r.id, project=r.project, domain=r.domain, name=r.name, version=r.version, uri=r.uri,
        partitions=r.partitions, time_partition=r.time_partition, granularity=r.granularity,  # type: ignore[arg-type]
        type=r.type, type_name=_type_name(r.type), value=r.value, preview=_preview(r.value),
        cards=[S.ArtifactCard(**c) for c in r.cards], producer=producer, created_at=r.created_at,
    )


def _partitions(given: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in given:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidField(f"partition expects `key=value`, found {item!r}", field="partition")
        out[key] = value
    return out


def _check_keys(s: Any, project: str, domain: str, name: str, wanted: dict[str, str], time_given: bool) -> None:
    keys = aq.known_keys(s, project, domain, name)
    if keys is None:
        return
    unknown = [k for k in wanted if k not in keys]
    if time_given and aq.TIME_PARTITION not in keys:
        unknown.append(aq.TIME_PARTITION)
    if unknown:
        shown = sorted(k for k in keys if k != aq.TIME_PARTITION)
        raise InvalidField(
            f"artifact `{name}` has no partition key {', '.join(f'`{k}`' for k in unknown)}; its keys are "
            f"{', '.join(shown) if shown else 'none'}"
            + (" and time_partition" if aq.TIME_PARTITION in keys else ""),
            field="partition",
        )


def _page(items: list[Any], limit: int, offset: int) -> dict[str, Any]:
    return {"items": items[:limit], "limit": limit, "offset": offset,
            "next_offset": offset + limit if len(items) > limit else None}


@router.get("/artifacts", name="list_artifacts", responses=_ERRORS)
def list_artifacts(
    svc: Svc, project: ProjectQ = "default", domain: DomainQ = "development",
    name_contains: Annotated[str | None, Query(max_length=255)] = None,
    limit: Annotated[int, Query(ge=1, le=S.MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0, le=S.MAX_OFFSET)] = 0,
) -> S.ArtifactList:
    """One row per artifact name (versions, partition keys, newest version), the most recently made first."""
    with svc.db.session(readonly=True) as s:
        found = aq.list_names(s, project, domain, name_contains=name_contains, limit=limit + 1, offset=offset)
    items = [S.ArtifactSummary(project=a.project, domain=a.domain, name=a.name, versions=a.versions,
                               partition_keys=a.partition_keys, time_partitioned=a.time_partitioned,
                               latest=version_view(a.latest)) for a in found]
    return S.ArtifactList(**_page(items, limit, offset))


@router.get("/artifacts/{name}/versions", name="list_artifact_versions", responses=_ERRORS)
def list_artifact_versions(
    name: ArtifactName, svc: Svc, project: ProjectQ = "default", domain: DomainQ = "development",
    partition: PartitionQ = [],  # noqa: B006 - FastAPI copies query defaults
    time_from: dt.datetime | None = None, time_to: dt.datetime | None = None,
    execution: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=S.MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0, le=S.MAX_OFFSET)] = 0,
) -> S.ArtifactVersionList:
    """Versions newest first, with these partitions, a time partition in [time_from, time_to],
    made by `execution`."""
    wanted = _partitions(partition)

    def iso(t: dt.datetime | None) -> str | None:
        if t is None:
            return None
        return (t.astimezone(dt.timezone.utc).replace(tzinfo=None) if t.tzinfo else t).isoformat()

    with svc.db.session(readonly=True) as s:
        found = aq.list_versions(s, project, domain, name, partitions=wanted, time_from=iso(time_from),
                                 time_to=iso(time_to), execution=execution, limit=limit + 1, offset=offset)
        if not found:  # a key the artifact lacks matches nothing: told apart only on a miss
            _check_keys(s, project, domain, name, wanted, time_from is not None or time_to is not None)
    return S.ArtifactVersionList(**_page([version_view(r) for r in found], limit, offset))


@router.get("/artifacts/{name}/latest", name="get_latest_artifact", responses=_ERRORS)
def get_latest_artifact(
    name: ArtifactName, svc: Svc, project: ProjectQ = "default", domain: DomainQ = "development",
    partition: PartitionQ = [],  # noqa: B006 - FastAPI copies query defaults
    time_partition: dt.datetime | None = None,
    version: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The newest version with these partitions (and time partition, cut to the artifact's
    granularity); 404 says the query in words when none matches."""
    wanted = _partitions(partition)
    with svc.db.session(readonly=True) as s:
        when = None
        if time_partition is not None:
            newest = aq.latest(s, project, domain, name)
            when = truncate_time(time_partition, (newest.granularity if newest else None) or "DAY").isoformat()
        found = aq.latest(s, project, domain, name, wanted, when, version)
        if found is None:  # a key the artifact lacks matches nothing: told apart only on a miss
            _check_keys(s, project, domain, name, wanted, time_partition is not None)
            raise NotFound(f"no version of artifact {aq.describe_query(name, wanted, when, version)} "
                           f"in {project}/{domain}")
        body = json_bytes(version_view(found))
    return Response(content=body, media_type="application/json")


@router.get("/artifacts/{name}/versions/{version}", name="get_artifact_version", responses=_ERRORS)
def get_artifact_version(
    name: ArtifactName, version: VersionPath, svc: Svc, project: ProjectQ = "default",
    domain: DomainQ = "development",
) -> S.ArtifactVersion:
    """One version, with the inputs of the node that made it."""
    from ..store import queries

    with svc.db.session(readonly=True) as s:
        found = version_view(aq.get_version(s, project, domain, name, version))
        if found.producer is None:
            return found
        try:  # what the producing node was given: the inputs of its record
            node = queries.get_node(s, found.producer.execution_id, found.producer.node_path)
        except NotFound:
            return found
    producer = found.producer.model_copy(update={"inputs": node.inputs})
    return found.model_copy(update={"producer": producer})


@router.get("/artifacts/{name}/versions/{version}/lineage", name="get_artifact_lineage", responses=_ERRORS)
def get_artifact_lineage(
    name: ArtifactName, version: VersionPath, svc: Svc, project: ProjectQ = "default",
    domain: DomainQ = "development", depth: Annotated[int, Query(ge=1, le=5)] = 2,
) -> S.Lineage:
    """The executions and versions upstream and downstream of a version, `depth` steps each way."""
    with svc.db.session(readonly=True) as s:
        graph = aq.lineage(s, aq.get_version(s, project, domain, name, version), depth)
    return S.Lineage(nodes=[S.LineageNode(**n) for n in graph.nodes.values()],
                     edges=[S.LineageEdge(**e) for e in graph.edges])


@router.post("/artifacts", name="create_artifact", status_code=201, responses=_ERRORS)
def create_artifact(body: S.ArtifactCreate, svc: Svc) -> S.ArtifactVersion:
    """Make a version from a client: a literal checked against its type, or a pickle stored
    as given (never loaded here)."""
    if (body.literal is None) == (body.pickle_b64 is None):
        raise InvalidField(f"artifact `{body.name}`: give the value as `literal` or as `pickle_b64` (one of them)",
                           field="literal")
    if body.time_partition is not None and body.granularity is None:
        granularity = "DAY"
    else:
        granularity = body.granularity
    when = truncate_time(body.time_partition, granularity).isoformat() if body.time_partition and granularity else None
    aq.check_partitions(body.name, body.partitions, when)
    with svc.db.session() as s:
        newest = aq.latest(s, body.project, body.domain, body.name)
        if newest is not None and newest.type and _type_name(newest.type) != _type_name(body.type):
            raise InvalidField(
                f"artifact `{body.name}` holds `{_type_name(newest.type)}` values (its newest version "
                f"{newest.version}); this value is `{_type_name(body.type)}`: convert it, or use another name",
                field="type")
        _check_keys(s, body.project, body.domain, body.name, body.partitions, when is not None)
        if body.literal is not None:
            problem = validate_literal(body.type, body.literal)
            if problem is not None:
                shown = repr(body.literal)
                raise InvalidField(
                    f"artifact `{body.name}`: the value {shown[:80]} does not fit its type "
                    f"`{_type_name(body.type)}` ({problem}); send a value of that type, or the type of the value",
                    field="literal")
            value: dict[str, Any] = {"literal": body.literal, "hash": literal_hash(body.literal)}
        else:
            try:
                data = base64.b64decode(body.pickle_b64 or "", validate=True)
            except (binascii.Error, ValueError):
                raise InvalidField(f"artifact `{body.name}`: pickle_b64 is not base64", field="pickle_b64") from None
            path = f"artifacts/{body.project}/{body.domain}/{uuid.uuid4().hex}.pkl"
            svc.storage.put_bytes(path, data)
            value = {"uri": path, "format": "pickle", "hash": hashlib.sha256(data).hexdigest(),
                     "preview": f"{_type_name(body.type)} ({len(data)} bytes pickled)"}
        try:
            record = aq.create_version(
                s, project=body.project, domain=body.domain, name=body.name, partitions=body.partitions,
                time_partition=when, granularity=granularity if when else None, type=body.type, value=value,
                cards=[c.model_dump() for c in body.cards])
        except Exception:
            if "uri" in value:
                svc.storage.delete_prefix(value["uri"])  # nothing half-written stays
            raise
        return version_view(record)


@router.get("/executions/{execution_id}/artifacts", name="get_execution_artifacts", responses=_ERRORS)
def get_execution_artifacts(
    execution_id: Annotated[str, Path(min_length=1, max_length=64)], svc: Svc,
) -> S.ExecutionArtifacts:
    """The versions an execution's nodes made, and those it read (query defaults, its trigger,
    cache hits standing for the nodes that made them)."""
    from ..store import queries

    with svc.db.session(readonly=True) as s:
        queries.get_execution(s, execution_id)  # 404 for an unknown execution
        emitted, consumed = aq.uses_of_execution(s, execution_id)

    def view(u: aq.ArtifactUseRecord) -> S.ArtifactUse:
        return S.ArtifactUse(artifact=version_view(u.artifact), node_path=u.node_path, port=u.port,
                             how=u.how)  # type: ignore[arg-type]

    return S.ExecutionArtifacts(emitted=[view(u) for u in emitted], consumed=[view(u) for u in consumed])


@router.get("/launch_plans/{name}/trigger_runs", name="list_trigger_runs", responses=_ERRORS)
def list_trigger_runs(
    name: Annotated[str, Path(min_length=1, max_length=255)], svc: Svc, project: ProjectQ = "default",
    domain: DomainQ = "development",
    outcome: Annotated[str | None, Query(pattern="^(launched|skipped|failed)$")] = None,
    limit: Annotated[int, Query(ge=1, le=S.MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0, le=S.MAX_OFFSET)] = 0,
) -> S.TriggerRunList:
    """The versions the plan's artifact trigger handled, newest first: launched (the execution),
    skipped by the concurrency policy, or failed to launch (why)."""
    with svc.db.session(readonly=True) as s:
        lpq.get_launch_plan_state(s, project, domain, name)
        found = aq.list_trigger_runs(s, project, domain, name, outcome=outcome, limit=limit + 1, offset=offset)
    items = [S.TriggerRun(name=r.name, version=r.version, outcome=r.outcome,  # type: ignore[arg-type]
                          artifact=S.ArtifactRef(name=r.artifact.name, version=r.artifact.version, uri=r.artifact.uri),
                          execution_id=r.execution_id, detail=r.detail, recorded_at=r.recorded_at) for r in found]
    return S.TriggerRunList(**_page(items, limit, offset))
