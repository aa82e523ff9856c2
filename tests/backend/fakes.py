"""Stand-ins for the parts an API test must not reach."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
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


@dataclass
class ServedApi:
    """The API app served in this process on a loopback port, over a migrated SQLite database."""

    url: str
    home: Path
    db: Any
    executor: RecordingExecutor


@contextlib.contextmanager
def served_api(home: Path, token: str) -> Iterator[ServedApi]:
    """Serve `create_app` (uvicorn on a thread) with a `RecordingExecutor`: the routes are real,
    nothing runs. Stopped, and its database closed, on the way out."""
    import uvicorn
    from plait.backend.api import create_app
    from plait.backend.config import Settings
    from plait.backend.storage import ObjectStore
    from plait.backend.store import Database

    settings = Settings.from_env(env={}, home=str(home))
    db = Database(settings.database_url)
    db.migrate()
    executor = RecordingExecutor()
    app = create_app(settings, db, ObjectStore(settings.storage_url), executor, token=token)  # type: ignore[arg-type]
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield ServedApi(f"http://127.0.0.1:{sock.getsockname()[1]}", home, db, executor)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
        db.dispose()
