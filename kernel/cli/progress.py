"""The command line's view of a run's progress: node counts on stderr, over `plait.run.progress`.

    with TerminalProgress() as progress:
        execute(entity, inputs, observer=progress.observe)

The line is shown only for runs longer than a moment. On a terminal it is one
live line (a rich spinner); elsewhere (CI logs, pipes) a plain line at most
once a second, so logs stay readable.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from ..model.times import duration_text
from ..model.vocab import COMPLETED, FAILURES, RUNNING
from ..run.progress import ProgressModel


class TerminalProgress:
    """Renders a `ProgressModel` as `3 done, 1 running, 2.4 s  pipeline.train` on stderr."""

    DELAY_S = 0.5
    LOG_EVERY_S = 1.0

    def __init__(self, model: ProgressModel | None = None) -> None:
        from rich.console import Console

        self.model = model if model is not None else ProgressModel("")
        self.console = Console(stderr=True, highlight=False)
        self._live: Any = None
        self._spinner: Any = None
        self._shown = False
        self._last_line = 0.0
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def __enter__(self) -> TerminalProgress:
        self._timer = threading.Timer(self.DELAY_S, self._start)
        self._timer.daemon = True
        self._timer.start()
        return self

    def line(self) -> str:
        counts = self.model.counts()
        done = sum(n for phase, n in counts.items() if phase in COMPLETED)
        failed = sum(n for phase, n in counts.items() if phase in FAILURES)
        text = f"{done} done, {counts.get(RUNNING, 0)} running"
        if failed:
            text += f", {failed} failed"
        return f"{text}, {duration_text(self.model.elapsed())}  {self.model.current}"

    def _start(self) -> None:
        with self._lock:
            self._shown = True
            if self.console.is_terminal:
                from rich.live import Live
                from rich.spinner import Spinner

                self._spinner = Spinner("dots", text=self.line())
                self._live = Live(self._spinner, console=self.console, transient=True, refresh_per_second=8)
                self._live.start()
            else:
                self._log()

    def _log(self) -> None:
        self._last_line = time.perf_counter()
        self.console.print(f"plait: {self.line()}")

    def observe(self, rec: Any) -> None:
        """The engine's observer (or a remote node's record): into the model, then onto the line."""
        self.model.observe(rec)
        if not self._shown:
            return
        with self._lock:
            if self._live is not None:
                self._spinner.update(text=self.line())
            elif time.perf_counter() - self._last_line >= self.LOG_EVERY_S:
                self._log()

    def __exit__(self, *exc: Any) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            if self._live is not None:
                self._live.stop()
