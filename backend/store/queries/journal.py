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

_TERMINAL = tuple(r.TERMINAL_PHASES)


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
                logs_uri: str | None = None, cpu_peak: float | None = None, cpu_avg: float | None = None,
                mem_peak: float | None = None, mem_avg: float | None = None,
                now: dt.datetime | None = None) -> bool:
    """End a RUNNING attempt; False if it had already ended.

    A second SUCCEEDED attempt of one node is refused by the unique index
    `ix_attempts_one_success` (an IntegrityError the caller's transaction sees).
    """
    condition = [Attempt.id == attempt_id, Attempt.phase == r.RUNNING]
    result = session.execute(
        update(Attempt).where(*condition).values(
            phase=phase, error_kind=error_kind, error=error, outputs=outputs, worker=worker,
            logs_uri=logs_uri, cpu_peak=cpu_peak, cpu_avg=cpu_avg, mem_peak=mem_peak,
            mem_avg=mem_avg, ended_at=now_or(now),
        ).execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)
