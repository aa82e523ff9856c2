"""Partial re-runs on a real backend: run an execution again from chosen nodes, reusing the rest.

Every task of tests/resources/rerun/rerun_programs.py notes its name in a log file
when it runs, so each test reads what ran again and what was reused.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from plait.remote import Remote, RemoteUserError
from server_fixture import running_server

PROGRAM = Path(__file__).parent.parent / "resources" / "rerun" / "rerun_programs.py"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with running_server(tmp_path_factory.mktemp("rerun-home")) as server:
        yield server


@pytest.fixture(scope="module")
def remote(server: Any) -> Iterator[Remote]:
    with server.remote() as client:
        client.register(str(PROGRAM), version="v1")
        yield client


def ran(log: Path) -> list[str]:
    """The tasks that ran, in order, as they noted it."""
    return log.read_text().split() if log.exists() else []


def nodes_of(run: Any) -> dict[str, Any]:
    return {n.path: n for n in run.nodes()}


def launch(remote: Remote, workflow: str, inputs: dict[str, Any], **options: Any) -> Any:
    run = remote.execute(remote.fetch_workflow(f"rerun_programs.{workflow}", "v1"), inputs, **options)
    return run.wait(timeout=90)


def test_from_a_middle_node_of_a_chain_reuses_what_is_upstream(remote: Remote, tmp_path: Path) -> None:
    log = tmp_path / "log"
    original = launch(remote, "chain", {"path": str(log), "x": 0})
    assert original.phase == "SUCCEEDED" and original.outputs == {"o0": 3}
    log.unlink()
    again = remote.rerun(original, ["n1"], wait=True)
    assert again.phase == "SUCCEEDED", again.error
    assert again.outputs == {"o0": 3}
    assert ran(log) == ["b", "c"]  # `first` did not run again
    before, after = nodes_of(original), nodes_of(again)
    assert list(after) == ["n0", "n1", "n2"]  # listed in the order they started
    assert after["n0"].phase == "REUSED"
    assert after["n0"].record["reused_from"] == {"execution_id": original.id, "path": "n0"}
    assert after["n0"].record["outputs"] == before["n0"].record["outputs"]  # the same stored refs
    assert after["n0"].attempts == ()
    assert (after["n1"].phase, after["n2"].phase) == ("SUCCEEDED", "SUCCEEDED")
    assert after["n1"].record["reused_from"] is None
    assert again.record["rerun_of"]["execution_id"] == original.id
    assert again.record["rerun_of"]["from_nodes"] == ["n1"]
    assert original.record["rerun_of"] is None

    # A re-run of a re-run points at the node that produced the outputs.
    log.unlink()
    third = remote.rerun(again, ["n2"], wait=True)
    assert third.phase == "SUCCEEDED" and ran(log) == ["c"]
    reused = nodes_of(third)
    assert reused["n0"].record["reused_from"] == {"execution_id": original.id, "path": "n0"}
    assert reused["n1"].record["reused_from"] == {"execution_id": again.id, "path": "n1"}


def test_from_two_nodes_of_a_diamond(remote: Remote, tmp_path: Path) -> None:
    log = tmp_path / "log"
    original = launch(remote, "diamond", {"path": str(log), "x": 0})
    assert original.outputs == {"o0": 4}
    log.unlink()
    again = remote.rerun(original.id, ["n1", "n2"], wait=True)
    assert again.phase == "SUCCEEDED" and again.outputs == {"o0": 4}
    assert sorted(ran(log)) == ["b", "c", "d"]
    assert {p: n.phase for p, n in nodes_of(again).items()} == {
        "n0": "REUSED", "n1": "SUCCEEDED", "n2": "SUCCEEDED", "n3": "SUCCEEDED"}


def test_an_overridden_input_reruns_only_its_consumers(remote: Remote, tmp_path: Path) -> None:
    log = tmp_path / "log"
    original = launch(remote, "two_inputs", {"path": str(log), "x": 1, "y": 10})
    assert original.outputs == {"o0": 13}
    log.unlink()
    again = remote.rerun(original, ["n2"], inputs={"y": 20}, wait=True)
    assert again.phase == "SUCCEEDED" and again.outputs == {"o0": 23}
    assert ran(log) == ["b", "c"]
    assert nodes_of(again)["n0"].phase == "REUSED"
    assert again.record["inputs"]["y"]["literal"] == 20


def test_node_inputs_override_a_chosen_node(remote: Remote, tmp_path: Path) -> None:
    log = tmp_path / "log"
    original = launch(remote, "chain", {"path": str(log), "x": 0})
    log.unlink()
    again = remote.rerun(original, ["n1"], node_inputs={"n1": {"x": 100}}, wait=True)
    assert again.phase == "SUCCEEDED" and again.outputs == {"o0": 102}
    assert ran(log) == ["b", "c"]
    with pytest.raises(RemoteUserError, match=r"node `n1` \(rerun_programs.step\) has no input `y`; its inputs: path, name, x"):
        remote.rerun(original, ["n1"], node_inputs={"n1": {"y": 1}})
    with pytest.raises(RemoteUserError, match=r"input `x` of node `n1` \(rerun_programs.step\) expects int"):
        remote.rerun(original, ["n1"], node_inputs={"n1": {"x": "many"}})
    with pytest.raises(RemoteUserError, match="`rerun_programs.chain` has no input `z`; its inputs: path, x"):
        remote.rerun(original, ["n1"], inputs={"z": 1})


def test_inside_a_subworkflow(remote: Remote, tmp_path: Path) -> None:
    log = tmp_path / "log"
    original = launch(remote, "outer", {"path": str(log), "x": 0})
    assert original.outputs == {"o0": 4} and ran(log) == ["s", "p", "q", "u"]
    log.unlink()
    again = remote.rerun(original, ["n1-n1"], wait=True)
    assert again.phase == "SUCCEEDED" and again.outputs == {"o0": 4}
    assert ran(log) == ["q", "u"]
    phases = {p: n.phase for p, n in nodes_of(again).items()}
    assert phases == {"n0": "REUSED", "n1": "SUCCEEDED", "n1-n0": "REUSED", "n1-n1": "SUCCEEDED",
                      "n2": "SUCCEEDED"}


def test_a_chosen_dynamic_node_runs_again_with_its_children(remote: Remote, tmp_path: Path) -> None:
    log = tmp_path / "log"
    original = launch(remote, "with_dynamic", {"path": str(log), "n": 1})
    assert original.phase == "SUCCEEDED" and ran(log) == ["a", "d0", "d1", "z"]
    log.unlink()
    again = remote.rerun(original, ["n1"], wait=True)
    assert again.phase == "SUCCEEDED" and again.outputs == original.outputs
    assert ran(log) == ["d0", "d1", "z"]
    after = nodes_of(again)
    assert after["n0"].phase == "REUSED"
    assert after["n1"].phase == "SUCCEEDED" and after["n1"].attempts
    assert after["n1-n0"].phase == after["n1-n1"].phase == "SUCCEEDED"


def test_reused_nodes_do_not_consult_the_cache(remote: Remote, tmp_path: Path) -> None:
    log = tmp_path / "log"
    original = launch(remote, "with_cache", {"path": str(log), "x": 7})
    assert original.outputs == {"o0": 71}
    log.unlink()
    again = remote.rerun(original, ["n1"], wait=True)
    assert again.phase == "SUCCEEDED" and ran(log) == ["b"]
    cached = nodes_of(again)["n0"]
    assert cached.phase == "REUSED"  # not CACHE_HIT, though the cache holds its outputs
    assert cached.record["reused_from"] == {"execution_id": original.id, "path": "n0"}
    # Chosen, the cached node runs through the cache as usual.
    assert nodes_of(remote.rerun(original, ["n0"], wait=True))["n0"].phase == "CACHE_HIT"


def test_a_skipped_node_gives_its_outputs_to_what_follows(remote: Remote, tmp_path: Path) -> None:
    log = tmp_path / "log"
    run = launch(remote, "chain", {"path": str(log), "x": 0}, skip={"n1": {"o0": 41}})
    assert run.phase == "SUCCEEDED" and run.outputs == {"o0": 42}
    assert ran(log) == ["first", "c"]
    skipped = nodes_of(run)["n1"]
    assert skipped.phase == "SKIPPED" and skipped.record["reused_from"] is None
    assert skipped.record["outputs"]["o0"]["literal"] == 41
    wf = remote.fetch_workflow("rerun_programs.chain", "v1")
    with pytest.raises(RemoteUserError, match=r"output `o0` of skipped node `n1` \(rerun_programs.step\) expects int"):
        remote.execute(wf, {"path": str(log)}, skip={"n1": {"o0": "forty"}})
    with pytest.raises(RemoteUserError, match=r"skipping node `n1` \(rerun_programs.step\) misses output `o0`"):
        remote.execute(wf, {"path": str(log)}, skip={"n1": {}})
    with pytest.raises(RemoteUserError, match="workflow `rerun_programs.chain` has no node `n7`; its nodes: n0, n1, n2"):
        remote.execute(wf, {"path": str(log)}, skip={"n7": {"o0": 1}})


def test_refusals_name_the_node(remote: Remote, tmp_path: Path) -> None:
    log = tmp_path / "log"
    original = launch(remote, "chain", {"path": str(log), "x": 0})
    with pytest.raises(RemoteUserError, match=f"execution `{original.id}` has no node `n9`; its nodes: n0, n1, n2") \
            as unknown:
        remote.rerun(original, ["n9"])
    assert unknown.value.status == 422
    with pytest.raises(RemoteUserError, match="choose at least one node"):
        remote.rerun(original, [])
    running = remote.execute(remote.fetch_task("rerun_programs.nap", "v1"), {"seconds": 30.0})
    with pytest.raises(RemoteUserError, match=f"execution `{running.id}` is (QUEUED|RUNNING); re-run it once it "
                                              "has ended") as busy:
        remote.rerun(running, ["n0"])
    assert busy.value.status == 409
    remote.abort(running.id)


def test_a_newer_version_whose_upstream_changed_is_refused(remote: Remote, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "log"
    original = launch(remote, "chain", {"path": str(log), "x": 0})
    changed = tmp_path / "v2" / "rerun_programs.py"
    changed.parent.mkdir()
    shutil.copy(PROGRAM, changed)
    changed.write_text(changed.read_text().replace("return x + 1\n\n\n@plait.task\ndef step",
                                                   "return x + 2\n\n\n@plait.task\ndef step", 1))
    monkeypatch.delitem(sys.modules, "rerun_programs")  # the changed copy imports under the same name
    remote.register(str(changed), version="v2")
    with pytest.raises(RemoteUserError, match=r"node `n0` \(rerun_programs.first\) would be reused, but its task "
                                              r"`rerun_programs.first` changed \(version `v1` -> `v2`\)"):
        remote.rerun(original, ["n2"], version="v2")
    log.unlink()
    # Chosen, the changed node runs again, at the new version.
    again = remote.rerun(original, ["n0"], version="v2", wait=True)
    assert again.phase == "SUCCEEDED" and again.outputs == {"o0": 4}
    assert ran(log) == ["first", "b", "c"]
    assert again.record["entity"]["version"] == "v2"

    # A version where only code the reused nodes do not run changed: they are reused.
    other = tmp_path / "v3" / "rerun_programs.py"
    other.parent.mkdir()
    other.write_text(PROGRAM.read_text().replace("return a + b\n", "return a + b + 0\n", 1))
    monkeypatch.delitem(sys.modules, "rerun_programs")
    remote.register(str(other), version="v3")
    log.unlink()
    newer = remote.rerun(original, ["n2"], version="v3", wait=True)
    assert newer.phase == "SUCCEEDED" and ran(log) == ["c"]
    assert {n.phase for p, n in nodes_of(newer).items() if p != "n2"} == {"REUSED"}


def test_a_launch_plan_node_reuses_its_child_execution(remote: Remote, tmp_path: Path) -> None:
    log = tmp_path / "log"
    original = launch(remote, "with_plan", {"path": str(log), "x": 0})
    assert original.phase == "SUCCEEDED" and ran(log) == ["planned", "after"]
    log.unlink()
    again = remote.rerun(original, ["n1"], wait=True)
    assert again.phase == "SUCCEEDED" and again.outputs == {"o0": 2}
    assert ran(log) == ["after"]
    assert nodes_of(again)["n0"].phase == "REUSED"
    children = [e.id for e in remote.list_executions(limit=100) if e.record.get("parent_execution_id")]
    assert f"{original.id}-n0" in children and f"{again.id}-n0" not in children  # no new child ran
    log.unlink()
    chosen = remote.rerun(original, ["n0"], wait=True)
    assert chosen.phase == "SUCCEEDED" and ran(log) == ["planned", "after"]


def test_a_launch_plans_fixed_input_stays_fixed_in_its_reruns(remote: Remote, tmp_path: Path) -> None:
    log = tmp_path / "log"
    plan = remote.fetch_launch_plan("rerun_programs.fixed_chain", "v1")
    original = remote.execute(plan, {"path": str(log)}).wait(timeout=90)
    assert original.phase == "SUCCEEDED" and original.outputs == {"o0": 8}
    with pytest.raises(RemoteUserError, match="input `x` is fixed to 5 by launch plan `rerun_programs.fixed_chain` "
                                              "and cannot be overridden in its re-runs"):
        remote.rerun(original, ["n1"], inputs={"x": 7})
    log.unlink()
    again = remote.rerun(original, ["n1"], wait=True)
    assert again.phase == "SUCCEEDED" and again.outputs == {"o0": 8} and ran(log) == ["b", "c"]


def test_only_the_failed_items_of_a_map_run_again(remote: Remote, tmp_path: Path) -> None:
    log, flag = tmp_path / "log", tmp_path / "fixed"
    inputs = {"path": str(log), "flag": str(flag), "values": [1, -2, 3, -4]}
    original = launch(remote, "mapped", inputs)
    assert original.phase == "SUCCEEDED" and original.outputs == {"o0": [2, None, 6, None]}
    flag.touch()  # the user fixes the data...
    log.unlink()
    again = remote.rerun(original, map_items={"n0": "failed"}, wait=True)  # ...and runs what failed
    assert again.phase == "SUCCEEDED", again.error
    assert again.outputs == {"o0": [2, 4, 6, 8]}
    assert sorted(ran(log)) == ["item-2", "item-4"]
    log.unlink()
    listed = remote.rerun(again, map_items={"n0": [0]}, wait=True)
    assert listed.outputs == {"o0": [2, 4, 6, 8]} and ran(log) == ["item1"]

    # A map that failed (too many items did) is recovered item by item too.
    flag.unlink()
    failed = launch(remote, "mapped", {**inputs, "values": [-1, -2, 3]})
    assert failed.phase == "FAILED"
    flag.touch()
    log.unlink()
    fixed = remote.rerun(failed, map_items={"n0": "failed"}, wait=True)
    assert fixed.phase == "SUCCEEDED" and fixed.outputs == {"o0": [2, 4, 6]}
    # The failed items ran again; an item the failed map had not answered yet runs too.
    assert {"item-1", "item-2"} <= set(ran(log)) <= {"item-1", "item-2", "item1", "item3"}
    with pytest.raises(RemoteUserError, match="`map_items` names node `n0`, which is a task, not a map"):
        remote.rerun(launch(remote, "chain", {"path": str(log)}), map_items={"n0": "failed"})


PARITY = [
    ("chain", {"x": 0}, {"from_nodes": ["n1"]}),
    ("diamond", {"x": 0}, {"from_nodes": ["n1", "n2"]}),
    ("two_inputs", {"x": 1, "y": 10}, {"from_nodes": ["n2"], "inputs": {"y": 20}}),
    ("chain", {"x": 0}, {"from_nodes": ["n1"], "node_inputs": {"n1": {"x": 100}}}),
    ("outer", {"x": 0}, {"from_nodes": ["n1-n1"]}),
    ("with_dynamic", {"n": 1}, {"from_nodes": ["n1"]}),
]


@pytest.mark.parametrize(("workflow", "inputs", "choice"), PARITY, ids=[f"{w}-{i}" for i, (w, _, _) in enumerate(PARITY)])
def test_a_rerun_on_the_backend_matches_the_local_engine(remote: Remote, tmp_path: Path, workflow: str,
                                                         inputs: dict[str, Any], choice: dict[str, Any]) -> None:
    """The same re-run locally (`plait.rerun`) and on the backend: the same outputs, the same
    tasks run again, the same nodes reused."""
    import plait
    from plait.run.engine import execute

    program = sys.modules["rerun_programs"]
    local_log, remote_log = tmp_path / "local", tmp_path / "remote"
    local = execute(getattr(program, workflow), {**inputs, "path": str(local_log)})
    local_log.unlink()
    local_again = plait.rerun(local, **choice)
    original = launch(remote, workflow, {**inputs, "path": str(remote_log)})
    remote_log.unlink()
    again = remote.rerun(original, **choice, wait=True)
    assert again.phase == local_again.phase == "SUCCEEDED"
    assert again.outputs == local_again.outputs
    assert ran(remote_log) == ran(local_log)
    reused_locally = sorted(p for p, n in local_again.nodes.items() if n.phase == "REUSED")
    assert sorted(p for p, n in nodes_of(again).items() if n.phase == "REUSED") == reused_locally


def test_the_cli_reruns_from_a_node_with_the_inputs_given_overriding(server: Any, remote: Remote,
                                                                      tmp_path: Path) -> None:
    from click.testing import CliRunner
    from plait.cli import main

    log = tmp_path / "log"
    original = launch(remote, "chain", {"path": str(log), "x": 0})
    assert original.phase == "SUCCEEDED"
    log.unlink()
    options = {"remote": {"endpoint": server.url, "token": server.token, "autostart": False}}
    said = CliRunner().invoke(main, ["run", "--remote", "--from-execution", original.id, "--from-node", "n1",
                                     str(PROGRAM), "chain"], obj=options, env={"COLUMNS": "200"})
    assert said.exit_code == 0, said.output
    assert said.stdout.strip() == "3"
    assert ran(log) == ["b", "c"]  # registered again unchanged: the first step is reused

    log.unlink()
    said = CliRunner().invoke(main, ["run", "--remote", "--from-execution", original.id, "--from-node", "n2",
                                     str(PROGRAM), "chain", "--x", "10"], obj=options, env={"COLUMNS": "200"})
    assert said.exit_code == 0, said.output
    assert said.stdout.strip() == "13" and ran(log) == ["first", "b", "c"]  # x feeds the first step

    wrong = CliRunner().invoke(main, ["run", "--from-node", "n1", str(PROGRAM), "chain"], obj=options)
    assert wrong.exit_code == 2 and "--from-execution and --from-node go together" in wrong.output
    local = CliRunner().invoke(main, ["run", "--from-execution", original.id, "--from-node", "n1",
                                      str(PROGRAM), "chain"], obj=options)
    assert local.exit_code == 2 and "add --remote" in local.output
