"""Under a burst of launches the API pushes back, and health tells the executor's real state.

The HTTP layer with a real SQLite database and a recording executor (nothing
runs): a project may have `max_queued` executions waiting; past that a launch
is a 429 with `Retry-After`, and nothing is stored. The executor's state as an
API process sees it comes from `executor.json`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import plait
import pytest
from fakes import PYTHON, RecordingExecutor
from fastapi.testclient import TestClient
from plait.backend.api import create_app
from plait.backend.config import Settings
from plait.backend.execution.proxy import ExecutorProxy, write_info
from plait.backend.storage import ObjectStore
from plait.backend.store import Database, queries

TOKEN = "test-token-admission"
LIMIT = 3


@plait.task
def echo(x: int) -> int:
    return x


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, Database]]:
    settings = Settings.from_env(env={"PLAIT_MAX_QUEUED": str(LIMIT)}, home=str(tmp_path / "home"))
    db = Database(settings.database_url)
    db.migrate()
    app = create_app(settings, db, ObjectStore(settings.storage_url), RecordingExecutor(), token=TOKEN)
    with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        body = {"python_version": PYTHON, "specs": [echo.to_spec()], "version": "v1"}
        assert http.post("/api/v1/register", json=body).status_code == 201
        yield http, db
    db.dispose()


def launch(http: TestClient, x: int, project: str = "default") -> object:
    return http.post("/api/v1/executions", json={"project": project, "kind": "task", "name": echo.name,
                                                 "inputs": {"x": x}})


def test_a_launch_past_the_queue_limit_is_a_429_with_retry_after_and_stores_nothing(client) -> None:
    http, db = client
    ids = [launch(http, i).json()["id"] for i in range(LIMIT)]
    refused = launch(http, 99)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert refused.json()["error"] == "busy"
    assert refused.json()["message"] == (
        f"project `default` has {LIMIT} executions waiting to start, as many as the server admits "
        f"(PLAIT_MAX_QUEUED={LIMIT}); try again in 1 s, or raise the limit on the server")
    again = http.post(f"/api/v1/executions/{ids[0]}/relaunch")
    assert again.status_code == 429
    listed = http.get("/api/v1/executions", params={"limit": 100}).json()["items"]
    assert sorted(e["id"] for e in listed) == sorted(ids)


def test_the_limit_counts_waiting_executions_per_project(client) -> None:
    http, db = client
    assert http.post("/api/v1/projects", json={"name": "other"}).status_code == 201
    body = {"python_version": PYTHON, "specs": [echo.to_spec()], "version": "v1", "project": "other"}
    assert http.post("/api/v1/register", json=body).status_code == 201
    first = [launch(http, i).json()["id"] for i in range(LIMIT)]
    assert launch(http, 0, project="other").status_code == 201  # another project has its own queue
    with db.session() as s:  # one starts running: a place in the queue frees
        queries.set_execution_phase(s, first[0], "RUNNING")
    assert launch(http, 7).status_code == 201
    assert launch(http, 8).status_code == 429


def test_settings_refuse_a_limit_that_is_not_a_positive_number(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="PLAIT_MAX_QUEUED must be a positive whole number, found '0'"):
        Settings.from_env(env={"PLAIT_MAX_QUEUED": "0"}, home=str(tmp_path))


# ------------------------------------------------------------------ health


def _info(home: Path, **fields: object) -> ExecutorProxy:
    home.mkdir(parents=True, exist_ok=True)
    write_info(home, {"worker_python": PYTHON, "pid": os.getpid(), "heartbeat_at": time.time(), **fields})
    return ExecutorProxy(home)


def test_health_is_ok_while_the_executor_reports(tmp_path: Path) -> None:
    assert _info(tmp_path).problem() is None


def test_health_is_degraded_when_the_executor_stopped_reporting(tmp_path: Path) -> None:
    proxy = _info(tmp_path, heartbeat_at=time.time() - 120)
    assert proxy.problem() == (
        f"the executor (pid {os.getpid()}) has not reported for 120 s: executions wait until it does")


def test_health_is_degraded_when_the_executors_process_is_gone(tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(gone.stdout)
    proxy = _info(tmp_path, pid=pid)
    assert proxy.problem() == (f"the executor's process (pid {pid}) has exited: executions stay "
                               "QUEUED; restart `plait server`")


def test_the_health_route_says_degraded_and_why(tmp_path: Path) -> None:
    home = tmp_path / "home"
    proxy = _info(home, heartbeat_at=time.time() - 60)
    settings = Settings.from_env(env={}, home=str(home))
    db = Database(settings.database_url)
    db.migrate()
    app = create_app(settings, db, ObjectStore(settings.storage_url), proxy, token=TOKEN)
    with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        health = http.get("/api/v1/health").json()
    db.dispose()
    assert health["status"] == "degraded"
    assert health["problem"].startswith(f"the executor (pid {os.getpid()}) has not reported for 60 s")
    assert json.loads((home / "executor.json").read_text())["pid"] == os.getpid()
