"""Whatever plays the executor's part implements the interface written for it (execution/ports.py).

The routes get the `Executor` in the executor's process, an `ExecutorProxy` in
an API worker process and a `RecordingExecutor` in API tests; each must be an
`ExecutorPort`. The `Executor` is also every run's `RunHost`. mypy checks the
Protocols themselves; these checks catch a member renamed on one side only.
"""

from __future__ import annotations

from pathlib import Path

from fakes import RecordingExecutor
from plait.backend.execution.executor import Executor
from plait.backend.execution.ports import ExecutorPort, RunHost
from plait.backend.execution.proxy import ExecutorProxy
from plait.backend.storage import ObjectStore
from plait.backend.store import Database


def test_the_executor_its_proxy_and_the_fake_are_what_the_routes_expect(tmp_path: Path) -> None:
    proxy = ExecutorProxy(tmp_path)
    try:
        executor = Executor(Database(f"sqlite:///{tmp_path / 'plait.db'}"), ObjectStore(f"file://{tmp_path}"))
        for candidate in (executor, proxy, RecordingExecutor()):
            assert isinstance(candidate, ExecutorPort), type(candidate).__name__
    finally:
        proxy._sock.close()


def test_the_executor_is_what_its_runs_expect(tmp_path: Path) -> None:
    executor = Executor(Database(f"sqlite:///{tmp_path / 'plait.db'}"), ObjectStore(f"file://{tmp_path}"))
    assert isinstance(executor, RunHost)
