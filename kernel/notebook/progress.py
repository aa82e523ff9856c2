"""Live per-node progress of a run: a thread-safe model and an ipywidgets view.

`ProgressModel.observe` is the engine's observer: it only copies the record
under a lock, so it costs the run almost nothing. `ProgressWidget` renders the
model from one ticker thread at most every `interval` seconds (and once more
at the end), so a thousand phase changes per second become ten widget
updates. Any object with `path, entity, kind, phase, attempts, started,
ended, error` can be observed, so a remote execution's node records can
drive the same view.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Any

PHASE_COLOURS = {
    "QUEUED": "#9e9e9e", "RUNNING": "#1e88e5", "SUCCEEDED": "#43a047", "CACHE_HIT": "#00897b",
    "FAILED": "#e53935", "TIMED_OUT": "#fb8c00", "SKIPPED": "#bdbdbd", "ABORTED": "#6d4c41",
}
MAX_ROWS = 300


@dataclass
class Row:
    path: str
    label: str
    kind: str
    phase: str = "QUEUED"
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
            self.version += 1

    def finish(self, outcome: str) -> None:
        with self._lock:
            now = self.clock()
            self.ended = now
            self.outcome = outcome
            if outcome != "SUCCEEDED":  # nodes left running were stopped with the run
                for row in self.rows.values():
                    if row.phase == "RUNNING":
                        row.phase, row.ended = "ABORTED", now
            self.version += 1

    def running(self) -> bool:
        with self._lock:
            return any(r.phase == "RUNNING" for r in self.rows.values())

    def snapshot(self) -> tuple[list[Row], float]:
        with self._lock:
            rows = [Row(**vars(r)) for r in self.rows.values()]
        return rows, self.clock()

    def summary(self, rows: list[Row], now: float) -> str:
        counts: dict[str, int] = {}
        for r in rows:
            counts[r.phase] = counts.get(r.phase, 0) + 1
        elapsed = (self.ended or now) - self.started
        parts = [f"{counts[p]} {p.lower().replace('_', ' ')}" for p in PHASE_COLOURS if counts.get(p)]
        state = self.outcome.lower() if self.outcome else "running"
        return f"{self.title}: {state} in {format_seconds(elapsed)} · {len(rows)} node(s): {', '.join(parts)}"

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


def format_seconds(s: float) -> str:
    if s < 1:
        return f"{s * 1000:.0f} ms"
    if s < 60:
        return f"{s:.2f} s"
    m, sec = divmod(int(s), 60)
    return f"{m}m {sec:02d}s"


def row_html(row: Row, now: float) -> str:
    """One node: a coloured dot, its path and name, phase and duration."""
    colour = PHASE_COLOURS.get(row.phase, "#9e9e9e")
    secs = row.seconds(now)
    duration = format_seconds(secs) if secs is not None else ""
    depth = row.path.count("-")
    retry = f" · attempt {row.attempts}" if row.attempts > 1 else ""
    title = f' title="{escape(row.error)}"' if row.error else ""
    return (
        f'<div class="plait-node" data-path="{escape(row.path)}" data-phase="{row.phase}"{title} '
        f'style="display:flex;gap:10px;font-family:monospace;font-size:12px;line-height:18px;'
        f'padding-left:{depth * 16}px">'
        f'<span style="color:{colour}">●</span>'
        f'<span style="min-width:64px;color:#777">{escape(row.path or "-")}</span>'
        f'<span style="min-width:180px">{escape(row.label)} <span style="color:#999">{row.kind}</span></span>'
        f'<span style="min-width:90px;color:{colour};font-weight:600">{row.phase}</span>'
        f'<span style="color:#555">{duration}{retry}</span></div>'
    )


class ProgressWidget:
    """An ipywidgets view of a `ProgressModel`, refreshed by one throttled ticker."""

    def __init__(self, model: ProgressModel, interval: float = 0.1) -> None:
        import ipywidgets as w

        self.model = model
        self.interval = interval
        self._w = w
        self.header = w.HTML()
        self.header.add_class("plait-progress-header")
        self.body = w.VBox(layout=w.Layout(max_height="360px", overflow_y="auto"))
        self.box = w.VBox([self.header, self.body])
        self.box.add_class("plait-progress")
        self._rows: dict[str, Any] = {}
        self._more = w.HTML()
        self._seen = -1
        self._stop = threading.Event()
        self._render_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._handle: Any = None

    def show(self) -> None:
        from IPython.display import display

        self.render()
        self._handle = display(self._bundle(), raw=True, display_id=True)
        ctx = contextvars.copy_context()  # keep this cell's parent header for comm messages
        self._thread = threading.Thread(target=ctx.run, args=(self._tick,), name="plait-progress", daemon=True)
        self._thread.start()

    def _bundle(self) -> dict[str, Any]:
        bundle = dict(self.box._repr_mimebundle_() or {})
        bundle["text/plain"] = self.model.text()
        return bundle

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            if self.model.version != self._seen or self.model.running():
                self.render()

    def render(self) -> None:
        with self._render_lock:
            self._seen = self.model.version
            rows, now = self.model.snapshot()
            self.header.value = (
                f'<div style="font-family:sans-serif;font-size:13px;margin-bottom:4px">'
                f"<b>{escape(self.model.summary(rows, now))}</b></div>"
            )
            added = False
            for row in rows[:MAX_ROWS]:
                widget = self._rows.get(row.path)
                if widget is None:
                    widget = self._rows[row.path] = self._w.HTML(layout=self._w.Layout(margin="0"))
                    added = True
                widget.value = row_html(row, now)
            extra = len(rows) - MAX_ROWS
            if extra > 0:
                self._more.value = f"<i>… {extra} more node(s)</i>"
            if added:
                children = [self._rows[r.path] for r in rows[:MAX_ROWS]]
                self.body.children = [*children, self._more] if extra > 0 else children

    def close(self) -> None:
        """Stop the ticker and render the final state (call from the cell's thread)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.render()
        if self._handle is not None:
            self._handle.update(self._bundle(), raw=True)
