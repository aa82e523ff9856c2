"""The artifact catalog: versions, partition queries, uses (lineage) and trigger runs.

A version is written by `record_versions` in the transaction that records its
node's success; the unique key on (execution, node, output) makes a second
write of the same success a no-op, so a version exists exactly once per
successful node. `latest` is the query every consumer asks ("the newest
version with these partitions"): it walks the partition index from the
newest id down, one index range per key, so its cost does not grow with the
number of versions.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.orm import Session, aliased

from ..errors import InvalidRequest, NotFound
from ..models import ArtifactPartition, ArtifactTriggerRun, ArtifactUse, ArtifactVersion, Execution
from ._common import check_page, dialect_insert, now_or

TIME_PARTITION = "time_partition"
MAX_PARTITION_KEYS = 10
MAX_PARTITION_VALUE = 255
USES = ("query", "trigger", "cache_hit")
TRIGGER_OUTCOMES = ("launched", "skipped", "failed")
LINEAGE_NODES = 200  # a lineage answer stops growing here


@dataclass(frozen=True, slots=True)
class ArtifactVersionRecord:
    id: int
    project: str
    domain: str
    name: str
    version: str
    partitions: dict[str, str]
    time_partition: str | None
    granularity: str | None
    type: dict[str, Any]
    value: dict[str, Any]
    cards: list[dict[str, Any]]
    execution_id: str | None
    node_path: str | None
    task_name: str | None
    task_version: str | None
    output: str | None
    created_at: dt.datetime

    @property
    def uri(self) -> str:
        return f"plait://{self.project}/{self.domain}/{self.name}@{self.version}"


@dataclass(frozen=True, slots=True)
class ArtifactUseRecord:
    artifact: ArtifactVersionRecord
    execution_id: str
    node_path: str
    port: str
    how: str  # emitted | query | trigger | cache_hit


@dataclass(frozen=True, slots=True)
class TriggerRunRecord:
    id: int
    project: str
    domain: str
    name: str
    version: str
    artifact: ArtifactVersionRecord
    outcome: str
    execution_id: str | None
    detail: str | None
    recorded_at: dt.datetime


@dataclass
class Lineage:
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: list[dict[str, Any]] = field(default_factory=list)


def _record(row: Any) -> ArtifactVersionRecord:
    """A version from its ORM row or a Core row of the `artifacts` table."""
    return ArtifactVersionRecord(
        id=row.id, project=row.project, domain=row.domain, name=row.name, version=row.version,
        partitions=dict(row.partitions or {}), time_partition=row.time_partition, granularity=row.granularity,
        type=dict(row.type or {}), value=dict(row.value or {}), cards=list(row.cards or []),
        execution_id=row.execution_id, node_path=row.node_path, task_name=row.task_name,
        task_version=row.task_version, output=row.output, created_at=row.created_at,
    )


# ------------------------------------------------------------------ checks


def check_partitions(name: str, partitions: Mapping[str, Any], time_partition: str | None = None) -> dict[str, str]:
    """Partition values as stored: strings, at most 10 keys, identifiers for keys."""
    owner = f"artifact `{name}`"
    if not isinstance(partitions, Mapping):
        raise InvalidRequest(f"{owner}: partitions expects an object of key: value, found {type(partitions).__name__}")
    if len(partitions) > MAX_PARTITION_KEYS:
        raise InvalidRequest(
            f"{owner}: at most {MAX_PARTITION_KEYS} partition keys, found {len(partitions)} "
            f"({', '.join(sorted(partitions))}); keep the ones queries use"
        )
    out: dict[str, str] = {}
    for key, value in partitions.items():
        if not isinstance(key, str) or not key.isidentifier() or key == TIME_PARTITION:
            raise InvalidRequest(
                f"{owner}: partition key {key!r} must be a Python identifier other than `{TIME_PARTITION}` "
                "(the time partition has its own field)"
            )
        if not isinstance(value, str):
            raise InvalidRequest(f"{owner}: partition `{key}` expects a string, found {type(value).__name__} {value!r}")
        if len(value) > MAX_PARTITION_VALUE:
            raise InvalidRequest(f"{owner}: partition `{key}` is longer than {MAX_PARTITION_VALUE} characters")
        out[key] = value
    if time_partition is not None:
        try:
            dt.datetime.fromisoformat(time_partition)
        except (TypeError, ValueError):
            raise InvalidRequest(
                f"{owner}: time_partition expects an ISO date-time such as 2026-12-06T00:00:00, "
                f"found {time_partition!r}"
            ) from None
    return out


def known_keys(s: Session, project: str, domain: str, name: str) -> set[str] | None:
    """The partition keys of the newest version (with `time_partition` when it has one); None
    when the artifact has no version yet."""
    row = s.execute(
        select(ArtifactVersion.partitions, ArtifactVersion.time_partition)
        .where(ArtifactVersion.project == project, ArtifactVersion.domain == domain, ArtifactVersion.name == name)
        .order_by(ArtifactVersion.id.desc()).limit(1)
    ).first()
    if row is None:
        return None
    keys = set(row[0] or {})
    if row[1] is not None:
        keys.add(TIME_PARTITION)
    return keys


def describe_query(name: str, partitions: Mapping[str, str], time_partition: str | None = None,
                   version: str | None = None) -> str:
    """A query in words, for messages: `model with region=eu, time_partition=2026-12-06T00:00:00`."""
    parts = [f"{k}={v}" for k, v in partitions.items()]
    if time_partition is not None:
        parts.append(f"{TIME_PARTITION}={time_partition}")
    if version:
        parts.append(f"version={version}")
    return f"`{name}`" + (f" with {', '.join(parts)}" if parts else " (any version)")


# ------------------------------------------------------------------ writes


def _insert(s: Session, *, project: str, domain: str, name: str, partitions: dict[str, str],
            time_partition: str | None, granularity: str | None, type: dict[str, Any], value: dict[str, Any],
            cards: list[dict[str, Any]], now: dt.datetime, **producer: Any) -> ArtifactVersionRecord:
    row = ArtifactVersion(project=project, domain=domain, name=name, version=uuid.uuid4().hex[:16],
                          partitions=partitions, time_partition=time_partition, granularity=granularity,
                          type=type, value=value, cards=cards, created_at=now, **producer)
    s.add(row)
    s.flush()
    keys = dict(partitions)
    if time_partition is not None:
        keys[TIME_PARTITION] = time_partition
    if keys:
        s.execute(dialect_insert(s, ArtifactPartition), [
            {"artifact_id": row.id, "key": k, "value": v, "project": project, "domain": domain, "name": name}
            for k, v in keys.items()
        ])
    return _record(row)


def record_versions(s: Session, *, project: str, domain: str, execution_id: str, node_path: str,
                    task_version: str | None, versions: Iterable[Mapping[str, Any]],
                    outputs: Mapping[str, dict[str, Any]], now: dt.datetime | None = None) -> list[ArtifactVersionRecord]:
    """The versions a successful node made (`pending_versions` as the worker answered them), each
    with the node's output ref as its value. A version already recorded for the same
    execution, node and output is not written again."""
    now = now_or(now)
    made = []
    for v in versions:
        output = str(v["output"])
        exists = s.execute(select(ArtifactVersion).where(
            ArtifactVersion.execution_id == execution_id, ArtifactVersion.node_path == node_path,
            ArtifactVersion.output == output)).scalar_one_or_none()
        if exists is not None:
            made.append(_record(exists))
            continue
        name = str(v["name"])
        made.append(_insert(
            s, project=v.get("project") or project, domain=v.get("domain") or domain, name=name,
            partitions=check_partitions(name, v.get("partitions") or {}, v.get("time_partition")),
            time_partition=v.get("time_partition"), granularity=v.get("granularity"),
            type=dict(v.get("type") or {}), value=dict(outputs[output]), cards=list(v.get("cards") or []),
            now=now, execution_id=execution_id, node_path=node_path, task_name=v.get("task"),
            task_version=task_version, output=output,
        ))
    return made


def create_version(s: Session, *, project: str, domain: str, name: str, partitions: Mapping[str, Any],
                   time_partition: str | None, granularity: str | None, type: dict[str, Any],
                   value: dict[str, Any], cards: list[dict[str, Any]],
                   now: dt.datetime | None = None) -> ArtifactVersionRecord:
    """A version made through the API (`create_artifact`): no producer."""
    return _insert(s, project=project, domain=domain, name=name,
                   partitions=check_partitions(name, partitions, time_partition), time_partition=time_partition,
                   granularity=granularity, type=type, value=value, cards=cards, now=now_or(now))


def record_use(s: Session, artifact_id: int, execution_id: str, how: str, *, node_path: str = "",
               port: str = "", now: dt.datetime | None = None) -> None:
    """Note that an execution (or one of its nodes) read a version; once per (node, port)."""
    if how not in USES:
        raise ValueError(f"unknown use {how!r}; expected one of {USES}")
    s.execute(
        dialect_insert(s, ArtifactUse)
        .values(artifact_id=artifact_id, execution_id=execution_id, node_path=node_path, port=port, how=how,
                created_at=now_or(now))
        .on_conflict_do_nothing(index_elements=["artifact_id", "execution_id", "node_path", "port"])
    )


def link_cached(s: Session, *, execution_id: str, node_path: str, from_execution: str | None,
                from_node: str | None, now: dt.datetime | None = None) -> int:
    """A node answered from the cache stands for the node that computed the outputs: the versions
    that node made are linked to this one (`cache_hit`), none is made. How many were linked."""
    if not from_execution or not from_node:
        return 0
    rows = s.execute(select(ArtifactVersion.id, ArtifactVersion.output).where(
        ArtifactVersion.execution_id == from_execution, ArtifactVersion.node_path == from_node)).all()
    for artifact_id, output in rows:
        record_use(s, artifact_id, execution_id, "cache_hit", node_path=node_path, port=output or "", now=now)
    return len(rows)


# ------------------------------------------------------------------ reads


def get_version(s: Session, project: str, domain: str, name: str, version: str) -> ArtifactVersionRecord:
    row = s.execute(select(ArtifactVersion).where(
        ArtifactVersion.project == project, ArtifactVersion.domain == domain, ArtifactVersion.name == name,
        ArtifactVersion.version == version)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"artifact `{name}` has no version `{version}` in {project}/{domain}")
    return _record(row)


def get_by_id(s: Session, artifact_id: int) -> ArtifactVersionRecord:
    row = s.get(ArtifactVersion, artifact_id)
    if row is None:
        raise NotFound(f"no artifact version with id {artifact_id}")
    return _record(row)


def latest(s: Session, project: str, domain: str, name: str, partitions: Mapping[str, str] | None = None,
           time_partition: str | None = None, version: str | None = None) -> ArtifactVersionRecord | None:
    """The newest version of `name` whose partitions include these values (and whose time
    partition is `time_partition`, already cut to its granularity), or None."""
    if version:
        try:
            found = get_version(s, project, domain, name, version)
        except NotFound:
            return None
        wanted = dict(partitions or {})
        if any(found.partitions.get(k) != v for k, v in wanted.items()):
            return None
        if time_partition is not None and found.time_partition != time_partition:
            return None
        return found
    keys = dict(partitions or {})
    if time_partition is not None:
        keys[TIME_PARTITION] = time_partition
    if len(keys) > MAX_PARTITION_KEYS + 1:
        return None  # no version has that many keys
    params: dict[str, Any] = {"project": project, "domain": domain, "name": name}
    for i, (k, v) in enumerate(sorted(keys.items())):
        params[f"k{i}"], params[f"v{i}"] = k, v
    row = s.execute(_latest_statement(len(keys)), params).first()
    return None if row is None else _record(row)


_LATEST: dict[int, Any] = {}


def _latest_statement(count: int) -> Any:
    """The newest version matching `count` partition values, as one statement: built once per
    count with named aliases and bound parameters, so it compiles once (building it per call
    cost more than the query)."""
    found = _LATEST.get(count)
    if found is not None:
        return found
    table = ArtifactVersion.__table__
    if count == 0:
        newest = (select(ArtifactVersion.id).where(
            ArtifactVersion.project == bindparam("project"), ArtifactVersion.domain == bindparam("domain"),
            ArtifactVersion.name == bindparam("name")).order_by(ArtifactVersion.id.desc()).limit(1))
    else:
        first = aliased(ArtifactPartition, name="p0")
        newest = select(first.artifact_id).where(
            first.project == bindparam("project"), first.domain == bindparam("domain"),
            first.name == bindparam("name"), first.key == bindparam("k0"), first.value == bindparam("v0"))
        for i in range(1, count):
            other = aliased(ArtifactPartition, name=f"p{i}")
            newest = newest.join(other, and_(other.artifact_id == first.artifact_id,
                                             other.key == bindparam(f"k{i}"), other.value == bindparam(f"v{i}")))
        newest = newest.order_by(first.artifact_id.desc()).limit(1)
    found = _LATEST[count] = select(table).where(table.c.id == newest.scalar_subquery())
    return found


@dataclass(frozen=True, slots=True)
class ArtifactSummary:
    project: str
    domain: str
    name: str
    versions: int
    partition_keys: list[str]
    time_partitioned: bool
    latest: ArtifactVersionRecord


def list_names(s: Session, project: str, domain: str, *, name_contains: str | None = None, limit: int = 100,
               offset: int = 0) -> list[ArtifactSummary]:
    """One summary per artifact name, the most recently made first."""
    check_page(limit, offset)
    newest = func.max(ArtifactVersion.id)
    query = (select(ArtifactVersion.name, newest, func.count(ArtifactVersion.id))
             .where(ArtifactVersion.project == project, ArtifactVersion.domain == domain)
             .group_by(ArtifactVersion.name))
    if name_contains:
        query = query.where(ArtifactVersion.name.contains(name_contains, autoescape=True))
    rows = s.execute(query.order_by(newest.desc()).limit(limit).offset(offset)).all()
    out = []
    for name, newest_id, count in rows:
        record = get_by_id(s, newest_id)
        keys = sorted(set(s.execute(select(ArtifactPartition.key).distinct().where(
            ArtifactPartition.project == project, ArtifactPartition.domain == domain,
            ArtifactPartition.name == name)).scalars()))
        out.append(ArtifactSummary(project, domain, name, count, [k for k in keys if k != TIME_PARTITION],
                                   TIME_PARTITION in keys, record))
    return out


def list_versions(s: Session, project: str, domain: str, name: str, *, partitions: Mapping[str, str] | None = None,
                  time_from: str | None = None, time_to: str | None = None, execution: str | None = None,
                  limit: int = 100, offset: int = 0) -> list[ArtifactVersionRecord]:
    """Versions of `name`, newest first, with these partitions, a time partition in
    [time_from, time_to] and made by `execution`, as given."""
    check_page(limit, offset)
    query = select(ArtifactVersion).where(
        ArtifactVersion.project == project, ArtifactVersion.domain == domain, ArtifactVersion.name == name)
    for k, v in (partitions or {}).items():
        p = aliased(ArtifactPartition)
        query = query.join(p, and_(p.artifact_id == ArtifactVersion.id, p.key == k, p.value == v))
    if time_from is not None or time_to is not None:
        t = aliased(ArtifactPartition)
        query = query.join(t, and_(t.artifact_id == ArtifactVersion.id, t.key == TIME_PARTITION))
        if time_from is not None:
            query = query.where(t.value >= time_from)
        if time_to is not None:
            query = query.where(t.value <= time_to)
    if execution:
        query = query.where(ArtifactVersion.execution_id == execution)
    rows = s.execute(query.order_by(ArtifactVersion.id.desc()).limit(limit).offset(offset)).scalars()
    return [_record(r) for r in rows]


def uses_of_execution(s: Session, execution_id: str) -> tuple[list[ArtifactUseRecord], list[ArtifactUseRecord]]:
    """(emitted, consumed) by an execution: the versions its nodes made, and those it read."""
    made = s.execute(select(ArtifactVersion).where(ArtifactVersion.execution_id == execution_id)
                     .order_by(ArtifactVersion.id)).scalars()
    emitted = [ArtifactUseRecord(_record(r), execution_id, r.node_path or "", r.output or "", "emitted")
               for r in made]
    rows = s.execute(select(ArtifactUse, ArtifactVersion).join(ArtifactVersion, ArtifactVersion.id == ArtifactUse.artifact_id)
                     .where(ArtifactUse.execution_id == execution_id).order_by(ArtifactUse.id)).all()
    consumed = [ArtifactUseRecord(_record(v), execution_id, u.node_path, u.port, u.how) for u, v in rows]
    return emitted, consumed


def versions_after(s: Session, project: str, domain: str, name: str, after_id: int, *,
                   limit: int = 100) -> list[ArtifactVersionRecord]:
    """Versions of `name` newer than `after_id`, oldest first (a trigger's new versions)."""
    rows = s.execute(select(ArtifactVersion).where(
        ArtifactVersion.project == project, ArtifactVersion.domain == domain, ArtifactVersion.name == name,
        ArtifactVersion.id > after_id).order_by(ArtifactVersion.id).limit(limit)).scalars()
    return [_record(r) for r in rows]


def newest_id(s: Session) -> int:
    return int(s.execute(select(func.max(ArtifactVersion.id))).scalar_one_or_none() or 0)


# ------------------------------------------------------------------ lineage


def lineage(s: Session, start: ArtifactVersionRecord, depth: int = 2) -> Lineage:
    """The graph around a version: upstream (the execution that made it, the versions that
    execution read, their producers, ...) and downstream (the executions that read it, the
    versions they made, ...), `depth` artifact-to-artifact steps each way."""
    graph = Lineage()
    edges: set[tuple[str, str, str, str]] = set()

    def artifact_node(a: ArtifactVersionRecord) -> str:
        nid = f"artifact:{a.name}@{a.version}"
        graph.nodes.setdefault(nid, {
            "id": nid, "kind": "artifact", "name": a.name, "version": a.version, "project": a.project,
            "domain": a.domain, "partitions": a.partitions, "time_partition": a.time_partition,
            "created_at": a.created_at.isoformat(), "type": a.type,
        })
        return nid

    executions: dict[str, tuple[str, str]] = {}

    def execution_node(execution_id: str) -> str:
        nid = f"execution:{execution_id}"
        if nid not in graph.nodes:
            if execution_id not in executions:
                row = s.execute(select(Execution.entity_name, Execution.phase)
                                .where(Execution.id == execution_id)).first()
                executions[execution_id] = (row[0], row[1]) if row else ("", "UNKNOWN")
            entity, phase = executions[execution_id]
            graph.nodes[nid] = {"id": nid, "kind": "execution", "execution_id": execution_id,
                                "entity_name": entity, "phase": phase}
        return nid

    def edge(source: str, target: str, kind: str, node_path: str, port: str) -> None:
        key = (source, target, node_path, port)
        if key not in edges:
            edges.add(key)
            graph.edges.append({"source": source, "target": target, "kind": kind, "node_path": node_path,
                                "port": port})

    artifact_node(start)
    up, down = [start], [start]
    for _ in range(max(1, min(depth, 5))):
        if len(graph.nodes) >= LINEAGE_NODES:
            break
        next_up: list[ArtifactVersionRecord] = []
        for a in up:
            if not a.execution_id:
                continue
            e = execution_node(a.execution_id)
            edge(e, artifact_node(a), "produced", a.node_path or "", a.output or "")
            _, consumed = uses_of_execution(s, a.execution_id)
            for use in consumed:
                if f"artifact:{use.artifact.name}@{use.artifact.version}" not in graph.nodes:
                    next_up.append(use.artifact)
                edge(artifact_node(use.artifact), e, "consumed", use.node_path, use.port)
        next_down: list[ArtifactVersionRecord] = []
        for a in down:
            rows = s.execute(select(ArtifactUse).where(ArtifactUse.artifact_id == a.id)
                             .order_by(ArtifactUse.id).limit(LINEAGE_NODES)).scalars()
            for use in rows:
                e = execution_node(use.execution_id)
                edge(artifact_node(a), e, "consumed", use.node_path, use.port)
                made, _ = uses_of_execution(s, use.execution_id)
                for m in made:
                    if f"artifact:{m.artifact.name}@{m.artifact.version}" not in graph.nodes:
                        next_down.append(m.artifact)
                    edge(e, artifact_node(m.artifact), "produced", m.node_path, m.port)
        up, down = next_up, next_down
        if not up and not down:
            break
    return graph


# ------------------------------------------------------------------ trigger runs


def record_trigger_run(s: Session, *, project: str, domain: str, name: str, version: str, artifact_id: int,
                       outcome: str, execution_id: str | None = None, detail: str | None = None,
                       now: dt.datetime | None = None) -> int | None:
    """Claim a version for a plan's trigger: the run's id, or None if it was handled already
    (by this scheduler before a restart, or by another)."""
    if outcome not in TRIGGER_OUTCOMES:
        raise ValueError(f"unknown trigger outcome {outcome!r}")
    result = s.execute(
        dialect_insert(s, ArtifactTriggerRun)
        .values(project=project, domain=domain, name=name, version=version, artifact_id=artifact_id,
                outcome=outcome, execution_id=execution_id, detail=detail, recorded_at=now_or(now))
        .on_conflict_do_nothing(index_elements=["project", "domain", "name", "artifact_id"])
        .returning(ArtifactTriggerRun.id)
    )
    return result.scalar_one_or_none()


def set_trigger_outcome(s: Session, run_id: int, outcome: str, *, execution_id: str | None = None,
                        detail: str | None = None) -> None:
    s.execute(update(ArtifactTriggerRun).where(ArtifactTriggerRun.id == run_id)
              .values(outcome=outcome, execution_id=execution_id, detail=detail))


def list_trigger_runs(s: Session, project: str, domain: str, name: str, *, outcome: str | None = None,
                      limit: int = 100, offset: int = 0) -> list[TriggerRunRecord]:
    check_page(limit, offset)
    query = (select(ArtifactTriggerRun, ArtifactVersion)
             .join(ArtifactVersion, ArtifactVersion.id == ArtifactTriggerRun.artifact_id)
             .where(ArtifactTriggerRun.project == project, ArtifactTriggerRun.domain == domain,
                    ArtifactTriggerRun.name == name))
    if outcome:
        query = query.where(ArtifactTriggerRun.outcome == outcome)
    rows = s.execute(query.order_by(ArtifactTriggerRun.id.desc()).limit(limit).offset(offset)).all()
    return [TriggerRunRecord(r.id, r.project, r.domain, r.name, r.version, _record(v), r.outcome, r.execution_id,
                             r.detail, r.recorded_at) for r, v in rows]
