"""The executor's journal: transitions noted during a turn of its loop, written at the end.

A turn's notes go to the database in one transaction: node moves and attempt
rows in a few multi-row statements, then the other writes in the order they
were queued. A node's several moves in one turn become one row. If the batch
fails, each write is tried on its own, so one bad row does not lose the others.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..store import queries as q

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..store import Database

log = logging.getLogger(__name__)


class Journal:
    """Notes and queued writes of the executor's loop thread, until `flush` commits them."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.flushed_at = 0.0
        self._ops: list[Callable[[Session], object]] = []
        self._nodes: dict[tuple[str, str], dict[str, Any]] = {}
        self._attempts: dict[tuple[str, str, int], dict[str, Any]] = {}

    def __bool__(self) -> bool:
        """Whether anything waits for the next flush."""
        return bool(self._ops or self._nodes or self._attempts)

    def write(self, op: Callable[[Session], object]) -> None:
        """Queue any database write (a function of a session), run after the notes."""
        self._ops.append(op)

    def note_node(self, execution_id: str, path: str, phase: str, **fields: Any) -> None:
        """A node moves to `phase`; fields given as None or UNSET keep their value."""
        key = (execution_id, path)
        row = self._nodes.get(key)
        if row is None:
            row = self._nodes[key] = {"execution_id": execution_id, "path": path}
        row["phase"] = phase
        for name, value in fields.items():
            if value is not q.UNSET and value is not None:
                row[name] = value

    def note_attempt(self, execution_id: str, path: str, number: int, phase: str = "RUNNING", **fields: Any) -> None:
        """An attempt starts (RUNNING, with what is known then: its pool) or ends (any other
        phase, with its fields); a field given as None at the end keeps its value."""
        key = (execution_id, path, number)
        row = self._attempts.setdefault(key, {"number": number, "begin": False})
        if phase == "RUNNING":
            row["begin"] = True
            row.update({k: v for k, v in fields.items() if v is not None})
        else:
            row["phase"] = phase
            row.update({k: v for k, v in fields.items() if v is not None or k not in row})

    def flush(self) -> None:
        """Commit what was noted and queued since the last flush."""
        self.flushed_at = time.monotonic()
        if not self:
            return
        ops, self._ops = self._ops, []
        nodes, self._nodes = self._nodes, {}
        attempts, self._attempts = self._attempts, {}
        try:
            with self.db.session() as s:
                self._write_notes(s, nodes, attempts)
                for op in ops:
                    op(s)
        except Exception:  # noqa: BLE001 - isolate the failing write, keep the others
            log.warning("a batched write failed; writing one by one", exc_info=True)
            single = [lambda s, k=k, v=v: self._write_notes(s, {k: v}, {}) for k, v in nodes.items()]
            single += [lambda s, k=k, v=v: self._write_notes(s, {}, {k: v}) for k, v in attempts.items()]
            for op in [*single, *ops]:
                try:
                    with self.db.session() as s:
                        op(s)
                except Exception:  # noqa: BLE001
                    log.exception("a write failed")

    @staticmethod
    def _write_notes(s: Session, nodes: dict[Any, Any], attempts: dict[Any, Any]) -> None:
        q.nodes_upsert(s, list(nodes.values()))
        fresh, ended = [], []
        for (eid, path, number), row in attempts.items():
            fields = {k: v for k, v in row.items() if k not in ("begin", "number")}
            if row["begin"]:
                fresh.append({"execution_id": eid, "path": path, "number": number,
                              **{"phase": "RUNNING", **fields}})
            else:
                ended.append({"execution_id": eid, "path": path, "number": number, **fields})
        q.attempts_insert(s, fresh)
        q.attempts_end(s, ended)
