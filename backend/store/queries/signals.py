"""Gate signals: opened by the executor when a gate waits, set once through the API.

`set_signal` is one UPDATE whose WHERE clause says "not set yet", so of two
callers racing to set the same signal exactly one wins; the other is told it
was set already.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..errors import Conflict, NotFound
from ..models import Signal
from ._common import dialect_insert, now_or, rowcount


@dataclass(frozen=True, slots=True)
class SignalRecord:
    execution_id: str
    name: str
    node_path: str
    gate: str
    type: dict[str, Any]
    value: dict[str, Any] | None
    created_at: dt.datetime
    timeout_at: dt.datetime | None
    set_at: dt.datetime | None


def _record(row: Signal) -> SignalRecord:
    return SignalRecord(row.execution_id, row.name, row.node_path, row.gate, dict(row.type or {}),
                        None if row.value is None else dict(row.value), row.created_at, row.timeout_at, row.set_at)


def open_signal(s: Session, execution_id: str, name: str, *, node_path: str, gate: str, type: dict[str, Any],
                timeout_at: dt.datetime | None, now: dt.datetime | None = None) -> None:
    """The gate at `node_path` waits for `name`; a row already there (a restart) is kept."""
    s.execute(dialect_insert(s, Signal).values(
        execution_id=execution_id, name=name, node_path=node_path, gate=gate, type=type, value=None,
        created_at=now_or(now), timeout_at=timeout_at, set_at=None,
    ).on_conflict_do_nothing(index_elements=["execution_id", "name"]))


def list_signals(s: Session, execution_id: str) -> list[SignalRecord]:
    rows = s.execute(select(Signal).where(Signal.execution_id == execution_id).order_by(Signal.id)).scalars()
    return [_record(r) for r in rows]


def get_signal(s: Session, execution_id: str, name: str) -> SignalRecord | None:
    row = s.execute(select(Signal).where(Signal.execution_id == execution_id, Signal.name == name)).scalar_one_or_none()
    return None if row is None else _record(row)


def set_signal(s: Session, execution_id: str, name: str, literal: Any, now: dt.datetime | None = None) -> SignalRecord:
    """Give signal `name` its value; Conflict if it has one, NotFound if no gate waits for it."""
    found = get_signal(s, execution_id, name)
    if found is None:
        waiting = [r.name for r in list_signals(s, execution_id) if r.value is None]
        raise NotFound(
            f"execution `{execution_id}` has no gate waiting for signal `{name}`"
            + (f"; it waits for {', '.join(f'`{w}`' for w in waiting)}" if waiting else
               " (a signal can be set once its gate node is reached)")
        )
    done = rowcount(s.execute(update(Signal).where(
        Signal.execution_id == execution_id, Signal.name == name, Signal.value.is_(None),
    ).values(value={"literal": literal}, set_at=now_or(now))))
    if not done:
        raise Conflict(f"signal `{name}` of execution `{execution_id}` was already set", kind="signal", name=name)
    result = get_signal(s, execution_id, name)
    assert result is not None
    return result
