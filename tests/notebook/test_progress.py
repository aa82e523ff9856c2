"""The progress model behind `%plait run`, fed by the engine (no kernel needed)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import plait
from plait.notebook.progress import ProgressModel, planned_rows
from plait.run.engine import execute


@plait.task
def wait(x: int) -> int:
    time.sleep(0.05)
    return x


@plait.workflow
def inner(x: int) -> int:
    return wait(x=x)


@plait.workflow
def outer(x: int) -> int:
    return inner(x=wait(x=x))


def test_rows_are_planned_from_the_graph_and_filled_by_the_engine() -> None:
    model = ProgressModel("outer", planned_rows(outer))
    assert [(r.path, r.label, r.phase) for r in model.rows.values()] == [
        ("n0", "wait", "QUEUED"), ("n1", "inner", "QUEUED"), ("n1-n0", "wait", "QUEUED"),
    ]
    execute(outer, {"x": 1}, observer=model.observe)
    model.finish("SUCCEEDED")
    rows, now = model.snapshot()
    assert {r.path: r.phase for r in rows} == {"n0": "SUCCEEDED", "n1": "SUCCEEDED", "n1-n0": "SUCCEEDED"}
    assert all(r.seconds(now) is not None and r.seconds(now) >= 0.04 for r in rows if r.label == "wait")
    assert model.text().startswith("outer: succeeded in ") and "3 succeeded" in model.text()


@dataclass
class RemoteLike:
    """What a backend client reports: attempts as a list, wall-clock times, an error dict."""

    path: str
    entity: str
    kind: str
    phase: str
    attempts: tuple[dict[str, object], ...]
    error: object = None


def test_any_node_record_drives_the_model_and_a_failed_run_stops_running_rows() -> None:
    model = ProgressModel("remote", clock=time.time)
    model.observe(RemoteLike("n0", "wf.train", "task", "RUNNING", ({"attempt": 1}, {"attempt": 2})))
    model.observe(RemoteLike("n1", "wf.score", "task", "FAILED", ({},), {"message": "boom"}))
    model.finish("FAILED")
    rows, _ = model.snapshot()
    assert [(r.label, r.phase, r.attempts) for r in rows] == [("train", "ABORTED", 2), ("score", "FAILED", 1)]
    assert rows[1].error == "{'message': 'boom'}"
