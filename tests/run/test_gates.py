"""Gate nodes in the local engine: values from the run, from a prompt, or a clear error.

The programs are tests/resources/gates/gate_programs.py; the backend's side is
tests/backend/test_gates_on_backend.py.
"""

from __future__ import annotations

import datetime as dt
import io
import time

import plait
import pytest
from plait.errors import CompileError, InputError, UserError
from plait.run.engine import execute


@pytest.fixture
def prog(resource):
    return resource("gates/gate_programs.py")


def test_a_signal_given_with_the_run_is_the_gates_output(prog) -> None:
    run = execute(prog.titled, {"topic": "owls"}, signals={"title": "Owls"})
    assert run.outputs == {"o0": "Owls: a draft about owls"}
    gate = run.nodes["n1"]
    assert (gate.kind, gate.phase, gate.outputs) == ("gate", "SUCCEEDED", {"o0": "Owls"})


def test_an_approval_passes_its_upstream_value_or_fails_the_node(prog) -> None:
    assert execute(prog.reviewed, {"topic": "owls"}, signals={"review": True}).outputs == {
        "o0": "approved: a draft about owls"}
    with pytest.raises(UserError, match="approval `review` was rejected") as rejected:
        execute(prog.reviewed, {"topic": "owls"}, signals={"review": False})
    assert rejected.value.execution.nodes["n1"].phase == "FAILED"
    assert rejected.value.execution.nodes["n2"].phase == "SKIPPED"  # the publish node never ran


def test_sleep_holds_the_nodes_chained_after_it(prog) -> None:
    started = time.perf_counter()
    assert execute(prog.paused, {"n": 2}).outputs == {"o0": 8}
    assert time.perf_counter() - started >= 1.0


def test_a_signal_of_the_wrong_type_is_refused(prog) -> None:
    with pytest.raises(InputError, match=r"signal `count` expects int, got 'many'"):
        execute(prog.impatient, {"topic": "x"}, signals={"count": "many"})


def test_without_a_value_and_without_a_terminal_the_run_says_how_to_give_it(prog, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(InputError, match=r"waits for signal `title` \(str\).*signals=\{'title': \.\.\.\}"):
        execute(prog.titled, {"topic": "owls"})


def test_in_a_notebook_the_kernel_asks_for_the_value(prog, monkeypatch) -> None:
    asked = []
    monkeypatch.setattr("plait.run.gates._in_kernel", lambda: True)
    monkeypatch.setattr("builtins.input", lambda text: asked.append(text) or "yes")
    assert execute(prog.reviewed, {"topic": "owls"}).outputs == {"o0": "approved: a draft about owls"}
    assert asked == ["approve `review` ('a draft about owls')? [y/N] "]
    monkeypatch.setattr("builtins.input", lambda text: "2")
    assert execute(prog.impatient, {"topic": "x"}).outputs == {"o0": "a draft about x / a draft about x"}


def test_gates_are_nodes_of_the_workflow_spec_and_not_registered_alone(prog) -> None:
    from plait.remote.bundle import collect

    nodes = {n["id"]: n for n in prog.reviewed.to_spec()["nodes"]}
    assert nodes["n1"]["kind"] == "gate"
    assert nodes["n1"]["gate"] == {"kind": "approve", "name": "review", "timeout_s": 600.0,
                                   "type": {"kind": "boolean"}}
    assert nodes["n1"]["inputs"]["upstream"]["ref"]["node"] == "n0"
    assert {n["gate"]["kind"]: n["gate"].get("duration_s") for n in prog.paused.to_spec()["nodes"]
            if n["kind"] == "gate"} == {"sleep": 1.0}
    assert {kind for kind, _ in collect([prog.reviewed]).entities} == {"task", "workflow"}


def test_gates_outside_a_workflow_and_bad_arguments_are_refused() -> None:
    with pytest.raises(CompileError, match="plait.sleep is a gate node: call it in a workflow body"):
        plait.sleep(dt.timedelta(seconds=1))
    with pytest.raises(InputError, match="name must be an identifier"):
        plait.wait_for_input("my title", timeout=dt.timedelta(seconds=1), expected_type=str)
    with pytest.raises(InputError, match="timeout expects a datetime.timedelta"):
        plait.wait_for_input("title", timeout="soon", expected_type=str)
