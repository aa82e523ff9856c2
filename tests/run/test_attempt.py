"""One attempt of a task outside the local engine, as the backend's worker runs it."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import plait
import pytest
from plait.errors import TaskTimeoutError, TypeMismatchError, UserError
from plait.run.attempt import Attempt, find_entity


@plait.task(environment={"REGION": "eu"})
def where_am_i() -> str:
    ctx = plait.current_context()
    return f"{os.environ['REGION']}/{os.environ.get('TIER', '-')}/{ctx.execution_id.name}/{ctx.attempt_number}"


@plait.task
def nap(seconds: float) -> float:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.01)
    return seconds


@plait.task
def count_words(text: str) -> int:
    return text  # type: ignore[return-value]  # the mistake under test


@plait.task
def two_numbers() -> tuple[int, int]:
    return 1  # type: ignore[return-value]  # the mistake under test


@plait.task
def write_report(title: str) -> plait.FlyteFile:
    path = os.path.join(plait.current_context().working_directory, "report.txt")
    Path(path).write_text(title)
    return plait.FlyteFile(path)


def test_the_environment_is_set_for_the_call_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REGION", raising=False)
    monkeypatch.delenv("TIER", raising=False)
    with Attempt(where_am_i, {}, execution="x1", path="n0", number=2) as attempt:
        raw = attempt.call(envs={"TIER": "gold"})
        assert attempt.outputs(raw) == {"o0": "eu/gold/x1/2"}
    assert "REGION" not in os.environ and "TIER" not in os.environ


def test_an_attempt_past_its_timeout_is_stopped() -> None:
    with Attempt(nap, {"seconds": 30.0}, execution="x1", path="n0") as attempt:
        started = time.monotonic()
        with pytest.raises(TaskTimeoutError, match=r"task `.*nap` ran past its timeout of 0.2s"):
            attempt.call(timeout=0.2)
    assert time.monotonic() - started < 5


def test_outputs_are_checked_against_the_declared_types() -> None:
    with Attempt(count_words, {"text": "three words here"}, execution="x1", path="n0") as attempt:
        raw = attempt.call()
        with pytest.raises(TypeMismatchError, match=r"output `o0` is declared `int` but the task returned "
                                                     r"'three words here' of type `str`"):
            attempt.outputs(raw)
    with Attempt(two_numbers, {}, execution="x1", path="n0") as attempt:
        with pytest.raises(UserError, match=r"declares 2 outputs \['o0', 'o1'\] but returned one int"):
            attempt.outputs(attempt.call())


def test_files_made_in_the_working_directory_move_to_the_files_folder(tmp_path: Path) -> None:
    kept = tmp_path / "files"
    kept.mkdir()
    with Attempt(write_report, {"title": "Q3"}, execution="x1", path="n0",
                 files_dir=lambda path: str(kept)) as attempt:
        report = attempt.outputs(attempt.call())["o0"]
    assert Path(report.path) == kept / "report.txt"
    assert Path(report.path).read_text() == "Q3"


def test_a_dynamic_body_answers_with_the_graph_it_built(resource: Any) -> None:
    prog = resource("workflows/merge_sort.py")
    written: list[Any] = []

    def literal(value: Any, tp: Any) -> dict[str, Any]:
        written.append(value)
        return {"value": {"stored": len(written)}}

    with Attempt(prog.split_and_merge, {"numbers": [4, 1, 3, 2], "threshold": 1},
                 execution="x1", path="n0") as attempt:
        spec = attempt.expand(literal=literal, code=lambda entity: {"name": entity.name})

    halves, left, right, merge = spec["nodes"]
    assert written == [[4, 1, 3, 2], 1, 1]
    assert halves["inputs"] == {"numbers": {"value": {"stored": 1}}}
    assert left["inputs"] == {"numbers": {"ref": {"node": "n0", "output": "o0"}},
                              "threshold": {"value": {"stored": 2}}}
    assert merge["inputs"]["right"] == {"ref": {"node": "n2", "output": "o0"}}
    assert spec["outputs"] == {"o0": {"ref": {"node": "n3", "output": "o0"}}}
    assert sorted(spec["entities"]) == sorted({halves["entity"], left["entity"], merge["entity"]})
    assert all(e["code"] == {"name": name} for name, e in spec["entities"].items())


def test_registered_code_is_searched_for_the_entity(resource: Any) -> None:
    prog = resource("workflows/merge_sort.py")
    name = prog.merge.name
    assert find_entity(prog, name, "merge") is prog.merge
    assert find_entity(prog, name) is prog.merge
    with pytest.raises(LookupError, match=r"`nowhere` is not defined in module"):
        find_entity(prog, "nowhere")
