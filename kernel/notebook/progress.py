"""The ipywidgets view of a run's progress: one row per node, refreshed by one throttled ticker.

The model (`plait.run.progress.ProgressModel`) is fed by the engine's observer,
or by a remote execution's node records; `ProgressWidget` renders it from one
ticker thread at most every `interval` seconds (and once more at the end), so
a thousand phase changes per second become ten widget updates. The model's
names are importable from here too.
"""

from __future__ import annotations

import contextvars
import threading
from html import escape
from typing import Any

from ..run.progress import MAX_ROWS, ProgressModel, Row, format_seconds, planned_rows

__all__ = ["MAX_ROWS", "PHASE_COLOURS", "ProgressModel", "ProgressWidget", "Row", "format_seconds",
           "planned_rows", "row_html", "show_progress"]

PHASE_COLOURS = {
    "QUEUED": "#9e9e9e", "RUNNING": "#1e88e5", "SUCCEEDED": "#43a047", "CACHE_HIT": "#00897b",
    "REUSED": "#26a69a", "FAILED": "#e53935", "TIMED_OUT": "#fb8c00", "SKIPPED": "#bdbdbd", "ABORTED": "#6d4c41",
}


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


def show_progress(model: ProgressModel) -> ProgressWidget | None:
    """The widget of `model`, displayed in the cell; None without ipywidgets (the caller prints text)."""
    try:
        view = ProgressWidget(model)
    except ImportError:
        return None
    view.show()
    return view
