"""One attempt on a worker, run in this process: answers queued behind upstream attempts,
abort of a running attempt, logs and resource use. The executor's side is covered by the
real-server tests (test_lifecycle.py, test_chaos.py)."""

from __future__ import annotations

import hashlib
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import cloudpickle
import plait
import pytest
from plait.backend.execution import worker
from plait.backend.storage import ObjectStore


@plait.task
def add_one(x: int) -> int:
    return x + 1


@plait.task
def spin(seconds: float) -> float:
    print("spinning", flush=True)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.01)
    return seconds


@plait.task
def chatty(lines: int) -> int:
    for i in range(lines):
        print(f"line {i}")
    return lines


@plait.dynamic
def add_each(values: list[int]) -> list[int]:
    return [add_one(x=v) for v in values]


@pytest.fixture(autouse=True)
def output_routed_in_this_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker wraps sys.stdout and sys.stderr once per process; pytest swaps them per test."""
    monkeypatch.setattr(sys, "stdout", sys.stdout)
    monkeypatch.setattr(sys, "stderr", sys.stderr)
    monkeypatch.setattr(worker, "_routers", None)


@pytest.fixture
def store(tmp_path: Path) -> ObjectStore:
    return ObjectStore(str(tmp_path / "data"))


def payload(store: ObjectStore, task: Any, inputs: dict[str, Any], execution_id: str | None = None) -> dict[str, Any]:
    """What the executor sends for the first attempt of node n0 running `task`."""
    blob = cloudpickle.dumps(task)
    digest = hashlib.sha256(blob).hexdigest()
    store.put_bytes(f"functions/{digest}.pkl", blob)
    execution_id = execution_id or uuid.uuid4().hex[:10]
    return {
        "execution_id": execution_id, "project": "default", "domain": "development", "node_path": "n0",
        "attempt": 1, "storage_url": store.url, "name": task.name, "code": {"pickle": digest},
        "inputs": inputs, "timeout": None, "envs": {}, "output_prefix": f"executions/{execution_id}/n0/1",
    }


def test_an_attempt_queued_behind_another_reads_its_answer(store: ObjectStore) -> None:
    first = worker.run_attempt(payload(store, add_one, {"x": {"literal": 1}}))
    assert first["status"] == "SUCCEEDED" and first["outputs"]["o0"]["literal"] == 2

    second = worker.run_attempt(payload(store, add_one, {"x": {"upstream": 0, "output": "o0"}}), first)
    assert second["status"] == "SUCCEEDED" and second["outputs"]["o0"]["literal"] == 3

    failed = {"status": "FAILED", "error": {"kind": "USER", "message": "boom"}}
    behind_a_failure = worker.run_attempt(payload(store, add_one, {"x": {"upstream": 0, "output": "o0"}}), failed)
    assert behind_a_failure["status"] == "UPSTREAM_FAILED"


def test_an_aborted_attempt_gives_the_slot_back_and_the_next_attempts_run(store: ObjectStore) -> None:
    running = payload(store, spin, {"seconds": {"literal": 30.0}})
    answers: list[dict[str, Any]] = []
    slot = threading.Thread(target=lambda: answers.append(worker.run_attempt(running)))
    slot.start()
    time.sleep(0.3)
    started = time.monotonic()
    store.put_bytes(worker.abort_marker(running["execution_id"]), b"aborted")
    slot.join(timeout=10)
    assert answers and answers[0]["status"] == "ABORTED"
    assert time.monotonic() - started < 3 * worker.ABORT_POLL_S

    # The interrupted attempt thread is not reused: the stop meant for it hits no later attempt.
    for x in range(20):
        answer = worker.run_attempt(payload(store, spin, {"seconds": {"literal": 0.02}}))
        assert answer["status"] == "SUCCEEDED", (x, answer.get("error"))


def test_logs_are_written_only_when_the_attempt_prints(store: ObjectStore) -> None:
    silent = worker.run_attempt(payload(store, add_one, {"x": {"literal": 1}}))
    assert store.read_text(silent["logs_uri"]) == ("", 0)
    assert not store.exists(silent["logs_uri"])

    talking = worker.run_attempt(payload(store, chatty, {"lines": {"literal": 3}}))
    text, _ = store.read_text(talking["logs_uri"])
    assert text.splitlines() == ["line 0", "line 1", "line 2"]


def test_usage_is_sampled_while_an_attempt_runs_and_once_at_its_end(store: ObjectStore) -> None:
    quick = worker.run_attempt(payload(store, add_one, {"x": {"literal": 1}}))["usage"]
    assert quick["samples"] == 1 and quick["mem_peak"] == quick["mem_avg"] >= 0

    slow = worker.run_attempt(payload(store, spin, {"seconds": {"literal": 3 * worker._Ticker.INTERVAL_S}}))["usage"]
    assert slow["samples"] >= 3
    assert slow["mem_peak"] >= slow["mem_avg"] >= 0  # growth: spinning allocates next to nothing
    assert slow["cpu_peak"] >= slow["cpu_avg"] >= 0


def test_a_dynamic_attempt_answers_with_the_graph_its_body_built(store: ObjectStore) -> None:
    answer = worker.run_attempt(payload(store, add_each, {"values": {"literal": [5, 7]}}))
    assert answer["status"] == "SUCCEEDED", answer.get("error")
    graph = answer["dynamic"]
    # literal inputs of the children are value refs, written beside the attempt's outputs
    assert [n["inputs"]["x"]["value"]["literal"] for n in graph["nodes"]] == [5, 7]
    assert graph["outputs"] == {"o0": {"list": [{"ref": {"node": "n0", "output": "o0"}},
                                                {"ref": {"node": "n1", "output": "o0"}}]}}
    # the children's code is a pickle in the store, which a worker loads like any other
    (spec,) = graph["entities"].values()
    assert spec["name"] == add_one.name
    loaded = worker.load_entity(store, spec["code"], spec["name"])
    assert loaded.name == add_one.name and loaded.function(x=1) == 2
