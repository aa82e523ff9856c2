"""Node executions and their attempts (with the one-SUCCEEDED-attempt guard)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from plait.model.vocab import stored_kind
from sqlalchemy import ColumnElement, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from .. import records as r
from ..errors import Conflict, InvalidRequest, NotFound
from ..models import Attempt, Entity, Execution, NodeExecution
from ._common import UNSET, dialect_insert, nonempty, now_or, one_of, rowcount, validate_domain
from .executions import execution_row

NODE_KINDS_OF: dict[str, tuple[str, ...]] = {"task": ("task", "dynamic"), "workflow": ("workflow",)}
"""The node kinds that run a registered entity of each kind inline, within another execution.
A launch plan node starts an execution of its own, which names the plan."""


def _node(row: NodeExecution) -> r.NodeRecord:
    return r.NodeRecord(
        id=row.id,
        execution_id=row.execution_id,
        path=row.path,
        parent_path=row.parent_path,
        entity_name=row.entity_name,
        kind=row.kind,
        phase=row.phase,
        inputs=row.inputs,
        outputs=row.outputs,
        error=row.error,
        created_at=row.created_at,
        started_at=row.started_at,
        ended_at=row.ended_at,
        reused_from=row.reused_from,
    )


def _node_row(
    session: Session, execution_id: str, path: str, *, lock: bool = False
) -> NodeExecution:
    query = select(NodeExecution).where(
        NodeExecution.execution_id == execution_id, NodeExecution.path == path
    )
    if lock:
        query = query.with_for_update()
    row = session.scalars(query.execution_options(populate_existing=True)).one_or_none()
    if row is None:
        raise NotFound(f"execution `{execution_id}` has no node `{path}`", kind="node", name=path)
    return row


def upsert_node(
    session: Session,
    execution_id: str,
    path: str,
    *,
    phase: str = UNSET,
    parent_path: str | None = UNSET,
    entity_name: str | None = UNSET,
    kind: str | None = UNSET,
    inputs: Any = UNSET,
    outputs: Any = UNSET,
    error: Any = UNSET,
    reused_from: Any = UNSET,
    now: dt.datetime | None = None,
) -> r.NodeRecord:
    """Create the node (QUEUED unless `phase` says otherwise) or update the fields given.

    started_at is stamped on RUNNING, ended_at on a terminal phase; an ended
    node keeps its phase (repeating it is a no-op, changing it a Conflict).
    """
    if phase is not UNSET:
        one_of("node phase", phase, r.NODE_PHASES)
    nonempty("node path", path, 512)
    now = now_or(now)
    execution_row(session, execution_id)
    stmt = dialect_insert(session, NodeExecution).values(
        execution_id=execution_id, path=path, phase=r.QUEUED, created_at=now
    )
    session.execute(stmt.on_conflict_do_nothing(index_elements=["execution_id", "path"]))
    row = _node_row(session, execution_id, path, lock=True)
    if phase is not UNSET and phase != row.phase:
        if row.phase in r.NODE_ENDED:
            raise Conflict(
                f"node `{path}` of execution `{execution_id}` already ended as {row.phase}; "
                f"it cannot become {phase}",
                kind="node",
                name=path,
            )
        row.phase = phase
        if phase == r.RUNNING and row.started_at is None:
            row.started_at = now
        if phase in r.NODE_ENDED:
            row.ended_at = now
    for field, value in (
        ("parent_path", parent_path),
        ("entity_name", entity_name),
        ("kind", kind),
        ("inputs", inputs),
        ("outputs", outputs),
        ("error", error),
        ("reused_from", reused_from),
    ):
        if value is not UNSET:
            setattr(row, field, value)
    session.flush()
    return _node(row)


def _registered_as(kind: str | None) -> str | None:
    """The kind a node's entity is registered as; None for maps and branches, which are not."""
    return None if not kind or kind in ("map", "branch", "gate") else stored_kind(kind)


def node_entity_versions(
    session: Session, execution: r.ExecutionRecord, nodes: Sequence[r.NodeRecord]
) -> dict[str, str | None]:
    """Node path -> the registered version of the entity the node ran, or None.

    The executor looks an entity up at the execution's version and, when it
    has none, takes its newest version; nodes do not store what it found, so
    this chooses the same: the execution's version if the entity has it, else
    the newest registered by the time the node was created.
    """
    wanted = {(kind, n.entity_name) for n in nodes
              if (kind := _registered_as(n.kind)) is not None and n.entity_name}
    if not wanted:
        return {n.path: None for n in nodes}
    latest = max(n.created_at for n in nodes)
    rows = session.execute(
        select(Entity.kind, Entity.name, Entity.version, Entity.created_at)
        .where(
            Entity.project == execution.project,
            Entity.domain == execution.domain,
            Entity.kind.in_(sorted({kind for kind, _ in wanted})),
            Entity.name.in_(sorted({name for _, name in wanted})),
            or_(Entity.version == execution.entity_version, Entity.created_at <= latest),
        )
        .order_by(Entity.id)
    )
    versions: dict[tuple[str, str], list[tuple[str, dt.datetime]]] = {}
    for kind, name, version, created_at in rows:
        versions.setdefault((kind, name), []).append((version, created_at))
    out: dict[str, str | None] = {}
    for n in nodes:
        known = versions.get((_registered_as(n.kind) or "", n.entity_name or ""), [])
        if any(v == execution.entity_version for v, _ in known):
            out[n.path] = execution.entity_version
        else:
            before = [v for v, at in known if at <= n.created_at]
            out[n.path] = before[-1] if before else None
    return out


def recent_node_runs(
    session: Session, kind: str, project: str, domain: str, names: Iterable[str], *, per_name: int = 10
) -> dict[str, list[r.RecentRecord]]:
    """The `per_name` newest executions that ran each named task (or workflow) as one of their
    nodes, newest first, in one query: what `recent_executions` misses of an entity that
    mostly runs inside workflows.

    An execution counts once per entity, with its newest node running it (a task used twice
    in a workflow is one run); an execution of the entity itself is left out (it is the
    entity's own), and so are skipped nodes, which did not run. Each record has the node's
    phase and times, its path and the name of the workflow the execution ran.
    """
    one_of("entity kind", kind, r.STORED_KINDS)
    validate_domain(domain)
    wanted = sorted(set(names))
    node_kinds = NODE_KINDS_OF.get(kind, ())
    if not wanted or not node_kinds:
        return {}
    newest_in_execution = func.row_number().over(
        partition_by=(NodeExecution.entity_name, NodeExecution.execution_id),
        order_by=(NodeExecution.created_at.desc(), NodeExecution.id.desc()),
    )
    nodes = (
        select(NodeExecution.entity_name.label("name"), NodeExecution.execution_id, NodeExecution.path,
               NodeExecution.phase, NodeExecution.created_at, NodeExecution.started_at,
               NodeExecution.ended_at, NodeExecution.id, Execution.entity_name.label("workflow"),
               newest_in_execution.label("nth"))
        .join(Execution, Execution.id == NodeExecution.execution_id)
        .where(
            Execution.project == project, Execution.domain == domain,
            NodeExecution.entity_name.in_(wanted), NodeExecution.kind.in_(node_kinds),
            NodeExecution.phase != r.SKIPPED,
            or_(Execution.entity_kind != kind, Execution.entity_name != NodeExecution.entity_name),
        )
        .subquery()
    )
    rank = func.row_number().over(
        partition_by=nodes.c.name, order_by=(nodes.c.created_at.desc(), nodes.c.id.desc())
    )
    ranked = select(nodes, rank.label("rank")).where(nodes.c.nth == 1).subquery()
    query = select(ranked).where(ranked.c.rank <= per_name).order_by(ranked.c.name, ranked.c.rank)
    found: dict[str, list[r.RecentRecord]] = {}
    for row in session.execute(query):
        found.setdefault(row.name, []).append(r.RecentRecord(
            id=row.execution_id, phase=row.phase, created_at=row.created_at, started_at=row.started_at,
            ended_at=row.ended_at, node_path=row.path, workflow=row.workflow,
        ))
    return found


def get_node(session: Session, execution_id: str, path: str) -> r.NodeRecord:
    return _node(_node_row(session, execution_id, path))


def list_nodes(session: Session, execution_id: str) -> list[r.NodeRecord]:
    """Every node of an execution in the order they were created."""
    execution_row(session, execution_id)
    query = (
        select(NodeExecution)
        .where(NodeExecution.execution_id == execution_id)
        .order_by(NodeExecution.id)
        .execution_options(populate_existing=True)
    )
    return [_node(row) for row in session.scalars(query)]


# --- attempts ------------------------------------------------------------------------


def _attempt(row: Attempt, execution_id: str, node_path: str) -> r.AttemptRecord:
    return r.AttemptRecord(
        id=row.id,
        execution_id=execution_id,
        node_path=node_path,
        number=row.number,
        phase=row.phase,
        error_kind=row.error_kind,
        error=row.error,
        worker=row.worker,
        logs_uri=row.logs_uri,
        outputs=row.outputs,
        usage=r.Usage(
            cpu_peak=row.cpu_peak, cpu_avg=row.cpu_avg, mem_peak=row.mem_peak, mem_avg=row.mem_avg,
            gpu_util_avg=row.gpu_util_avg, gpu_util_peak=row.gpu_util_peak, gpu_mem_avg=row.gpu_mem_avg,
            gpu_mem_peak=row.gpu_mem_peak,
        ),
        started_at=row.started_at,
        ended_at=row.ended_at,
        pool=row.pool,
    )


def _attempts_query() -> Any:  # Select[Attempt, str, str]
    return select(Attempt, NodeExecution.execution_id, NodeExecution.path).join(
        NodeExecution, Attempt.node_execution_id == NodeExecution.id
    )


def get_attempt(session: Session, attempt_id: int) -> r.AttemptRecord:
    query = _attempts_query().where(Attempt.id == attempt_id)
    found = session.execute(query.execution_options(populate_existing=True)).one_or_none()
    if found is None:
        raise NotFound(f"attempt {attempt_id} does not exist", kind="attempt", name=str(attempt_id))
    return _attempt(*found)


def start_attempt(
    session: Session,
    execution_id: str,
    path: str,
    number: int | None = None,
    *,
    worker: str | None = None,
    logs_uri: str | None = None,
    pool: str | None = None,
    now: dt.datetime | None = None,
) -> r.AttemptRecord:
    """A RUNNING attempt of the node, numbered `number` or one past the node's last.

    Conflict if the node already succeeded or the number is taken.
    """
    node = _node_row(session, execution_id, path)
    succeeded = session.scalar(
        select(Attempt.number).where(
            Attempt.node_execution_id == node.id, Attempt.phase == r.SUCCEEDED
        )
    )
    if succeeded is not None:
        raise Conflict(
            f"node `{path}` of execution `{execution_id}` already succeeded (attempt "
            f"{succeeded}); it is not run again",
            kind="node",
            name=path,
        )
    if number is None:
        last = session.scalar(
            select(func.max(Attempt.number)).where(Attempt.node_execution_id == node.id)
        )
        number = (last or 0) + 1
    elif number < 1:
        raise InvalidRequest(
            f"attempt numbers start at 1, found {number}", kind="attempt", name=path
        )
    stmt = dialect_insert(session, Attempt).values(
        node_execution_id=node.id,
        number=number,
        phase=r.RUNNING,
        worker=worker,
        logs_uri=logs_uri,
        pool=pool,
        started_at=now_or(now),
    )
    stmt = stmt.on_conflict_do_nothing(index_elements=["node_execution_id", "number"])
    attempt_id = session.execute(stmt.returning(Attempt.id)).scalar_one_or_none()
    if attempt_id is None:
        raise Conflict(
            f"attempt {number} of node `{path}` in execution `{execution_id}` already exists",
            kind="attempt",
            name=path,
        )
    return get_attempt(session, attempt_id)


def finish_attempt(
    session: Session,
    attempt_id: int,
    phase: str,
    *,
    error_kind: str | None = None,
    error: Any = None,
    outputs: Any = None,
    worker: str | None = UNSET,
    logs_uri: str | None = UNSET,
    pool: str | None = UNSET,
    cpu_peak: float | None = None,
    cpu_avg: float | None = None,
    mem_peak: float | None = None,
    mem_avg: float | None = None,
    now: dt.datetime | None = None,
) -> r.AttemptRecord:
    """End a RUNNING attempt as SUCCEEDED, FAILED, ABORTED or TIMED_OUT.

    Records its resource use (CPU in cores, memory in bytes) and, when given,
    the worker and logs that are only known at the end. Conflict if the
    attempt already ended, or if it would be its node's second SUCCEEDED
    attempt (the UPDATE checks it, and a unique index backs it).
    """
    one_of("attempt phase", phase, [p for p in r.ATTEMPT_PHASES if p != r.RUNNING])
    if error_kind is not None:
        one_of("error kind", error_kind, r.ERROR_KINDS)
    condition: list[ColumnElement[bool]] = [Attempt.id == attempt_id, Attempt.phase == r.RUNNING]
    if phase == r.SUCCEEDED:
        other = aliased(Attempt)
        condition.append(
            ~exists().where(
                other.node_execution_id == Attempt.node_execution_id,
                other.phase == r.SUCCEEDED,
                other.id != Attempt.id,
            )
        )
    values: dict[str, Any] = dict(
        phase=phase,
        error_kind=error_kind,
        error=error,
        outputs=outputs,
        cpu_peak=cpu_peak,
        cpu_avg=cpu_avg,
        mem_peak=mem_peak,
        mem_avg=mem_avg,
        ended_at=now_or(now),
    )
    if worker is not UNSET:
        values["worker"] = worker
    if logs_uri is not UNSET:
        values["logs_uri"] = logs_uri
    if pool is not UNSET:
        values["pool"] = pool
    statement = (
        update(Attempt)
        .where(*condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    try:
        with session.begin_nested():
            updated = rowcount(session.execute(statement))
    except IntegrityError:
        updated = 0  # another SUCCEEDED attempt committed while we waited for it
    record = get_attempt(session, attempt_id)
    if updated == 1:
        return record
    if record.phase != r.RUNNING:
        raise Conflict(
            f"attempt {record.number} of node `{record.node_path}` in execution "
            f"`{record.execution_id}` already ended as {record.phase}",
            kind="attempt",
            name=record.node_path,
        )
    raise Conflict(
        f"node `{record.node_path}` of execution `{record.execution_id}` already has a "
        f"SUCCEEDED attempt; attempt {record.number} cannot succeed too (end it as ABORTED)",
        kind="attempt",
        name=record.node_path,
    )


def list_attempts(
    session: Session, execution_id: str, path: str | None = None
) -> list[r.AttemptRecord]:
    """Attempts of one node, or of every node of the execution, by node then number."""
    query = _attempts_query().where(NodeExecution.execution_id == execution_id)
    if path is not None:
        query = query.where(NodeExecution.path == path)
    query = query.order_by(NodeExecution.id, Attempt.number)
    query = query.execution_options(populate_existing=True)
    return [_attempt(*found) for found in session.execute(query)]
