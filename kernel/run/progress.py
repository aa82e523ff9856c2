"""Live per-node progress of one run: a thread-safe model that knows nothing of how it is shown.

`ProgressModel.observe` is the engine's observer: it only copies the record
under a lock, so it costs the run almost nothing. Any object with `path,
entity, kind, phase` (and optionally `attempts, started, ended, error`) can be
observed, so a remote execution's node records drive the same model. The
views read it: the notebook's ipywidgets table (`plait.notebook.progress`)
and the command line's live line (`plait.cli.progress`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..model.times import duration_text
from ..model.vocab import (
    ABORTED,
    CACHE_HIT,
    FAILED,
    QUEUED,
    REUSED,
    RUNNING,
    SKIPPED,
    SUCCEEDED,
    TIMED_OUT,
)

PHASE_ORDER = (QUEUED, RUNNING, SUCCEEDED, CACHE_HIT, REUSED, FAILED, TIMED_OUT, SKIPPED, ABORTED)
"""The order in which a summary counts phases."""
MAX_ROWS = 300


@dataclass
class Row:
    path: str
    label: str
    kind: str
    phase: str = QUEUED
    attempts: int = 0
    started: float | None = None
    ended: float | None = None
    error: str | None = None

    def seconds(self, now: float) -> float | None:
        if self.started is None:
            return None
        return (self.ended if self.ended is not None else now) - self.started


def planned_rows(entity: Any) -> list[Row]:
    """Rows for the nodes a run of `entity` will have, known before it starts."""
    target = getattr(entity, "workflow", entity) if entity.kind == "launch_plan" else entity
    if target.kind != "workflow":
        return [Row("", target.name.rsplit(".", 1)[-1], target.kind)]
    rows: list[Row] = []

    def visit(graph: Any, prefix: str, depth: int) -> None:
        for node in graph.nodes:
            e = node.entity
            label = node.entity_name.rsplit(".", 1)[-1]
            if e.kind == "map":
                label = f"map({e.target.name.rsplit('.', 1)[-1]})"
            rows.append(Row(f"{prefix}{node.id}", label, e.kind))
            if e.kind == "workflow" and depth < 4:
                visit(e.compile(), f"{prefix}{node.id}-", depth + 1)

    visit(target.compile(), "", 0)
    return rows


class ProgressModel:
    """Per-node state of one run, fed by the engine's observer from any thread."""

    def __init__(self, title: str, rows: list[Row] | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.title = title
        self.rows: dict[str, Row] = {r.path: r for r in rows or []}
        self.clock = clock  # the clock of the records' `started`/`ended` (time.time for remote ones)
        self.started = clock()
        self.ended: float | None = None
        self.outcome: str | None = None  # None while running, then SUCCEEDED / FAILED / ABORTED
        self.current = ""  # the entity of the node that started running last
        self.version = 0  # bumped on every change; views compare it
        self._lock = threading.Lock()

    def observe(self, rec: Any) -> None:
        """Take a node record: the engine's `NodeRecord`, or any object with its fields."""
        attempts = getattr(rec, "attempts", 0)
        error = getattr(rec, "error", None)
        with self._lock:
            row = self.rows.get(rec.path)
            if row is None:
                row = self.rows[rec.path] = Row(rec.path, rec.entity.rsplit(".", 1)[-1], rec.kind)
            row.phase = rec.phase
            row.attempts = attempts if isinstance(attempts, int) else len(attempts)
            row.started, row.ended = getattr(rec, "started", None), getattr(rec, "ended", None)
            row.error = None if error is None else str(error)
            if rec.phase == RUNNING:
                self.current = rec.entity
            self.version += 1

    def finish(self, outcome: str) -> None:
        with self._lock:
            now = self.clock()
            self.ended = now
            self.outcome = outcome
            if outcome != SUCCEEDED:  # nodes left running were stopped with the run
                for row in self.rows.values():
                    if row.phase == RUNNING:
                        row.phase, row.ended = ABORTED, now
            self.version += 1

    def running(self) -> bool:
        with self._lock:
            return any(r.phase == RUNNING for r in self.rows.values())

    def counts(self) -> dict[str, int]:
        """How many nodes are in each phase now."""
        with self._lock:
            return _count(self.rows.values())

    def snapshot(self) -> tuple[list[Row], float]:
        with self._lock:
            rows = [Row(**vars(r)) for r in self.rows.values()]
        return rows, self.clock()

    def elapsed(self, now: float | None = None) -> float:
        """Seconds since the run started, up to its end once it ended."""
        return (self.ended or (self.clock() if now is None else now)) - self.started

    def summary(self, rows: list[Row], now: float) -> str:
        counts = _count(rows)
        parts = [f"{counts[p]} {p.lower().replace('_', ' ')}" for p in PHASE_ORDER if counts.get(p)]
        state = self.outcome.lower() if self.outcome else "running"
        return (f"{self.title}: {state} in {format_seconds(self.elapsed(now))} · "
                f"{len(rows)} node(s): {', '.join(parts)}")

    def text(self) -> str:
        """The whole table as text (for frontends without widgets, and for logs)."""
        rows, now = self.snapshot()
        lines = [self.summary(rows, now)]
        for r in rows[:MAX_ROWS]:
            secs = r.seconds(now)
            lines.append(f"  {r.path or '-':<10} {r.label:<24} {r.phase:<10} "
                         f"{format_seconds(secs) if secs is not None else ''}")
        if len(rows) > MAX_ROWS:
            lines.append(f"  ... {len(rows) - MAX_ROWS} more node(s)")
        return "\n".join(lines)


def _count(rows: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.phase] = counts.get(r.phase, 0) + 1
    return counts


def format_seconds(s: float) -> str:
    """A node's or run's duration, written as everywhere else (`plait.model.times`)."""
    return duration_text(s)
