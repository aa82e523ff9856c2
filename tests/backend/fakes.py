"""Stand-ins for the parts an API test must not reach."""

from __future__ import annotations

import sys
from typing import Any

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


class RecordingExecutor:
    """An `ExecutorPort` (the executor as the routes use it), recording what the API asks of it;
    nothing runs."""

    def __init__(self) -> None:
        self.submitted: list[str] = []
        self.aborted: list[str] = []
        self.python = PYTHON

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def submit(self, execution_id: str) -> None:
        self.submitted.append(execution_id)

    def abort(self, execution_id: str) -> None:
        self.aborted.append(execution_id)

    def worker_python(self) -> str:
        return self.python

    def worker_resources(self) -> dict[str, float]:
        return {"cpu": 2.0, "mem": 4e9}

    def pool_states(self) -> list[dict[str, Any]]:
        return []

    @property
    def scheduler_address(self) -> str | None:
        return None

    @property
    def dashboard_link(self) -> str | None:
        return None

    @property
    def dashboard_upstream(self) -> str | None:
        return None

    def problem(self) -> str | None:
        return None
