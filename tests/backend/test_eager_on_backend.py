"""Eager workflows on a real backend: the body runs on a worker, each awaited entity is a node.

The programs are tests/resources/eager/ (run locally in tests/sdk/test_eager.py); the
node paths and values here are the ones the local engine gives the same runs.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from plait.remote import Remote
from server_fixture import running_server

RESOURCES = Path(__file__).parent.parent / "resources"


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Remote]:
    sys.path.insert(0, str(RESOURCES))
    try:
        with running_server(tmp_path_factory.mktemp("eager-home")) as server, server.remote() as client:
            for program in ("orders.py", "fanout.py", "recovery.py"):
                client.register(str(RESOURCES / "eager" / program), version="v1")
            yield client
    finally:
        sys.path.remove(str(RESOURCES))


def run(remote: Remote, name: str, inputs: dict[str, Any]) -> Any:
    return remote.execute(remote.fetch_task(f"eager.{name}", "v1"), inputs).wait(timeout=120)


def nodes_of(done: Any) -> dict[str, tuple[str, str, str]]:
    return {n.path: (n.entity.rsplit(".", 1)[-1], n.kind, n.phase) for n in done.nodes()}


def test_awaited_entities_are_nodes_of_the_execution(remote: Remote) -> None:
    done = run(remote, "orders.order_total", {"items": ["apple", "melon"]})
    assert done.phase == "SUCCEEDED", done.error
    assert done.outputs["o0"] == 6.3
    seen = nodes_of(done)
    assert seen["n0-n0"] == ("priced_line", "workflow", "SUCCEEDED")
    assert seen["n0-n0-n0"] == ("unit_price", "task", "SUCCEEDED")
    assert seen["n0-n1"] == ("priced_line", "workflow", "SUCCEEDED")
    assert seen["n0-n2"] == ("discount", "task", "SUCCEEDED")
    discount = next(n.record for n in done.nodes() if n.path == "n0-n2")
    assert discount["inputs"]["total"]["literal"] == 7.0
    assert discount["outputs"]["o0"]["literal"] == 6.3


def test_gathered_tasks_run_at_once_and_eager_workflows_nest(remote: Remote) -> None:
    started = time.monotonic()
    done = run(remote, "fanout.sum_of_squares", {"count": 3})
    assert done.phase == "SUCCEEDED", done.error
    assert done.outputs["o0"] == 0 + 1 + 4
    seen = nodes_of(done)
    assert [seen[f"n0-n{i}"][0] for i in range(3)] == ["slow_square"] * 3
    assert seen["n0-n3"] == ("sum_up", "task", "SUCCEEDED")
    assert seen["n0-n3-n0"] == ("add_all", "task", "SUCCEEDED")
    spans = [(n.record["started_at"], n.record["ended_at"]) for n in done.nodes() if n.entity.endswith("slow_square")]
    assert max(s for s, _ in spans) < min(e for _, e in spans), "the gathered tasks did not overlap"
    assert time.monotonic() - started < 60


def test_a_caught_failure_and_an_uncaught_one(remote: Remote) -> None:
    caught = run(remote, "recovery.safe_reading", {"value": -1.0})
    assert caught.phase == "SUCCEEDED", caught.error
    assert caught.outputs["o0"] == "invalid reading"
    assert nodes_of(caught)["n0-n0"] == ("check_reading", "task", "FAILED")

    failed = run(remote, "recovery.strict_reading", {"value": -3.0})
    assert failed.phase == "FAILED"
    assert "a reading cannot be negative: -3.0" in failed.error["message"]
    assert "EagerException" in failed.error["type"]
