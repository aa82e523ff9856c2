"""Lean writes for the executor's hot path: one statement per transition.

`upsert_node`, `start_attempt` and `finish_attempt` check and return records for
API callers; the executor records thousands of transitions a minute and needs
neither, so these write the same rows with single statements and the same
guards (an ended node keeps its phase; one SUCCEEDED attempt per node).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from .. import records as r
from ..models import Attempt, NodeExecution
from ._common import UNSET, dialect_insert, now_or

_TERMINAL = tuple(r.NODE_ENDED)


def node_transition(
    session: Session,
    execution_id: str,
    path: str,
    phase: str,
    *,
    entity_name: str | None = None,
    kind: str | None = None,
    inputs: Any = UNSET,
    outputs: Any = UNSET,
    error: Any = UNSET,
    now: dt.datetime | None = None,
) -> None:
    """Create the node in `phase`, or move it there unless it already ended."""
    now = now_or(now)
    terminal = phase in _TERMINAL
    row: dict[str, Any] = {
        "execution_id": execution_id, "path": path, "phase": phase, "entity_name": entity_name,
        "kind": kind, "created_at": now,
        "started_at": now if phase in (r.RUNNING, *_TERMINAL) else None,
        "ended_at": now if terminal else None,
    }
    for name, value in (("inputs", inputs), ("outputs", outputs), ("error", error)):
        if value is not UNSET:
            row[name] = value
    stmt = dialect_insert(session, NodeExecution).values(**row)
    table = NodeExecution.__table__
    changes: dict[str, Any] = {
        "phase": stmt.excluded.phase,
        "started_at": func.coalesce(table.c.started_at, stmt.excluded.started_at),
        "ended_at": func.coalesce(table.c.ended_at, stmt.excluded.ended_at),
    }
    for name in ("inputs", "outputs", "error"):
        if name in row:
            changes[name] = getattr(stmt.excluded, name)
    if entity_name is not None:
        changes["entity_name"] = stmt.excluded.entity_name
    if kind is not None:
        changes["kind"] = stmt.excluded.kind
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["execution_id", "path"],
            set_=changes,
            where=or_(table.c.phase.not_in(_TERMINAL), table.c.phase == stmt.excluded.phase),
        )
    )


def attempt_begin(session: Session, execution_id: str, path: str, number: int,
                  now: dt.datetime | None = None) -> int:
    """Insert attempt `number` of the node (which must exist); returns its id."""
    node_id = select(NodeExecution.id).where(
        NodeExecution.execution_id == execution_id, NodeExecution.path == path
    ).scalar_subquery()
    stmt = dialect_insert(session, Attempt).values(
        node_execution_id=node_id, number=number, phase=r.RUNNING, started_at=now_or(now)
    ).on_conflict_do_nothing(index_elements=["node_execution_id", "number"])
    found = session.execute(stmt.returning(Attempt.id)).scalar_one_or_none()
    if found is None:  # already there (a resumed run): use it
        found = session.execute(
            select(Attempt.id).join(NodeExecution, Attempt.node_execution_id == NodeExecution.id)
            .where(NodeExecution.execution_id == execution_id, NodeExecution.path == path,
                   Attempt.number == number)
        ).scalar_one()
    return int(found)


def attempt_end(session: Session, attempt_id: int, phase: str, *, error_kind: str | None = None,
                error: Any = None, outputs: Any = None, worker: str | None = None,
                logs_uri: str | None = None, pool: str | None = None, cpu_peak: float | None = None,
                cpu_avg: float | None = None, mem_peak: float | None = None, mem_avg: float | None = None,
                now: dt.datetime | None = None, **gpu: float | None) -> bool:
    """End a RUNNING attempt; False if it had already ended.

    A second SUCCEEDED attempt of one node is refused by the unique index
    `ix_attempts_one_success` (an IntegrityError the caller's transaction sees).
    """
    condition = [Attempt.id == attempt_id, Attempt.phase == r.RUNNING]
    result = session.execute(
        update(Attempt).where(*condition).values(
            phase=phase, error_kind=error_kind, error=error, outputs=outputs, worker=worker,
            **({"pool": pool} if pool is not None else {}),
            logs_uri=logs_uri, cpu_peak=cpu_peak, cpu_avg=cpu_avg, mem_peak=mem_peak,
            mem_avg=mem_avg, ended_at=now_or(now), **{k: gpu.get(k) for k in GPU_FIELDS},
        ).execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


# --- batches: one executemany per kind of write for a whole turn of the executor ---------
# Plain SQL (the same on SQLite and PostgreSQL) with typed bind parameters: compiled
# once, so a turn costs a few round trips instead of an ORM compilation per row.

_T = "','".join(_TERMINAL)

_NODES_SQL = f"""
INSERT INTO node_executions (execution_id, path, phase, entity_name, kind, inputs, outputs, error,
                             created_at, started_at, ended_at)
VALUES (:execution_id, :path, :phase, :entity_name, :kind, :inputs, :outputs, :error,
        :created_at, :started_at, :ended_at)
ON CONFLICT (execution_id, path) DO UPDATE SET
    phase = excluded.phase,
    entity_name = COALESCE(excluded.entity_name, node_executions.entity_name),
    kind = COALESCE(excluded.kind, node_executions.kind),
    inputs = COALESCE(excluded.inputs, node_executions.inputs),
    outputs = COALESCE(excluded.outputs, node_executions.outputs),
    error = COALESCE(excluded.error, node_executions.error),
    started_at = COALESCE(node_executions.started_at, excluded.started_at),
    ended_at = COALESCE(node_executions.ended_at, excluded.ended_at)
WHERE node_executions.phase NOT IN ('{_T}') OR node_executions.phase = excluded.phase
"""

GPU_FIELDS = ("gpu_util_avg", "gpu_util_peak", "gpu_mem_avg", "gpu_mem_peak")
_ATTEMPT_FIELDS = ("error_kind", "error", "outputs", "worker", "logs_uri", "cpu_peak", "cpu_avg",
                   "mem_peak", "mem_avg", *GPU_FIELDS)

# Attempts name their node by (execution_id, path): the node's row id is looked up inside the
# statement, so a turn needs no query of its own for it.
_NODE_ID = "(SELECT id FROM node_executions WHERE execution_id = :execution_id AND path = :path)"

# The pool is known when the attempt is sent, and confirmed by the worker's answer: an end
# without one (a lost worker) keeps the pool the attempt was sent to.
_ATTEMPTS_INSERT_SQL = f"""
INSERT INTO attempts (node_execution_id, number, phase, started_at, ended_at, pool, {", ".join(_ATTEMPT_FIELDS)})
VALUES ({_NODE_ID}, :number, :phase, :started_at, :ended_at, :pool, {", ".join(":" + f for f in _ATTEMPT_FIELDS)})
ON CONFLICT (node_execution_id, number) DO NOTHING
"""

_ATTEMPTS_END_SQL = f"""
UPDATE attempts SET phase = :phase, ended_at = :ended_at, pool = COALESCE(:pool, pool),
    {", ".join(f"{f} = :{f}" for f in _ATTEMPT_FIELDS)}
WHERE node_execution_id = {_NODE_ID} AND number = :number AND phase = 'RUNNING'
"""

_statements: dict[str, Any] = {}


def _stmt(name: str) -> Any:
    from sqlalchemy import Float, Integer, String, bindparam, text

    from ..models import Json, UTCDateTime

    found = _statements.get(name)
    if found is None:
        when = [bindparam(n, type_=UTCDateTime()) for n in ("created_at", "started_at", "ended_at")]
        json = [bindparam(n, type_=Json) for n in ("inputs", "outputs", "error")]
        if name == "nodes":
            found = text(_NODES_SQL).bindparams(*when, *json)
        else:
            sql = _ATTEMPTS_INSERT_SQL if name == "attempts_insert" else _ATTEMPTS_END_SQL
            params = [bindparam("started_at", type_=UTCDateTime()), bindparam("ended_at", type_=UTCDateTime()),
                      bindparam("error", type_=Json), bindparam("outputs", type_=Json),
                      bindparam("execution_id", type_=String()), bindparam("path", type_=String()),
                      bindparam("number", type_=Integer()),
                      bindparam("phase", type_=String()), bindparam("pool", type_=String())]
            params += [bindparam(f, type_=Float()) for f in ("cpu_peak", "cpu_avg", "mem_peak", "mem_avg", *GPU_FIELDS)]
            if name == "attempts_end":
                params = [p for p in params if p.key != "started_at"]
            found = text(sql).bindparams(*params)
        _statements[name] = found
    return found


def nodes_upsert(session: Session, rows: list[dict[str, Any]], now: dt.datetime | None = None) -> None:
    """Move many nodes at once (each row: execution_id, path, phase, entity_name, kind,
    inputs, outputs, error; None leaves a field as it is). Ended nodes keep their phase."""
    if not rows:
        return
    now = now_or(now)
    params = []
    for row in rows:
        phase = row["phase"]
        params.append({
            "execution_id": row["execution_id"], "path": row["path"], "phase": phase,
            "entity_name": row.get("entity_name"), "kind": row.get("kind"),
            "inputs": row.get("inputs"), "outputs": row.get("outputs"), "error": row.get("error"),
            "created_at": now,
            "started_at": now if phase in (r.RUNNING, r.WAITING, *_TERMINAL) else None,
            "ended_at": now if phase in _TERMINAL else None,
        })
    session.connection().execute(_stmt("nodes"), params)


def attempts_insert(session: Session, rows: list[dict[str, Any]], now: dt.datetime | None = None) -> None:
    """Insert attempts (execution_id, path, number, phase and, when ended, its fields); the
    node must exist."""
    if not rows:
        return
    now = now_or(now)
    session.connection().execute(_stmt("attempts_insert"), [{
        "execution_id": row["execution_id"], "path": row["path"], "number": row["number"],
        "phase": row["phase"], "started_at": now, "ended_at": None if row["phase"] == r.RUNNING else now,
        "pool": row.get("pool"), **{f: row.get(f) for f in _ATTEMPT_FIELDS},
    } for row in rows])


def attempts_end(session: Session, rows: list[dict[str, Any]], now: dt.datetime | None = None) -> None:
    """End RUNNING attempts, each named by (execution_id, path, number)."""
    if not rows:
        return
    now = now_or(now)
    session.connection().execute(_stmt("attempts_end"), [{
        "execution_id": row["execution_id"], "path": row["path"], "number": row["number"],
        "phase": row["phase"], "ended_at": now, "pool": row.get("pool"),
        **{f: row.get(f) for f in _ATTEMPT_FIELDS},
    } for row in rows])
