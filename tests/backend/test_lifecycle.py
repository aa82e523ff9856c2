"""An execution's life on a real backend: abort, relaunch, recover, live logs, resources."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from plait.remote import Remote, RemoteUserError
from server_fixture import running_server

PROGRAM = Path(__file__).parent.parent / "resources" / "lifecycle" / "steps.py"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with running_server(tmp_path_factory.mktemp("lifecycle-home")) as server:
        yield server


@pytest.fixture(scope="module")
def remote(server: Any) -> Iterator[Remote]:
    with server.remote() as client:
        client.register(str(PROGRAM))
        yield client


def wait_for(predicate, timeout: float = 30.0, every: float = 0.2):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("condition not reached in time")


def test_abort_stops_a_running_execution(remote: Remote) -> None:
    task = remote.fetch_task("steps.slow")
    run = remote.execute(task, {"seconds": 60.0})
    wait_for(lambda: any(n.phase == "RUNNING" for n in run.nodes()))
    started = time.monotonic()
    remote.abort(run.id)
    run.wait(timeout=20)
    assert run.phase == "ABORTED"
    assert time.monotonic() - started < 10
    assert run.error == {"kind": "ABORTED", "message": "aborted by request"}  # not a USER failure
    (node,) = run.nodes()
    assert node.phase == "ABORTED"
    (attempt,) = node.attempts  # ended, not left RUNNING with no end time
    assert attempt["phase"] == "ABORTED" and attempt["ended_at"] is not None, attempt
    assert attempt["error"]["message"] == "stopped: the execution was aborted by request"
    assert attempt["error_kind"] is None  # not a USER error
    with pytest.raises(RemoteUserError, match="already ended as ABORTED; there is nothing to abort"):
        remote.abort(run.id, reason="too late")


def test_the_reason_given_to_abort_is_shown_with_its_error(remote: Remote, server: Any) -> None:
    from click.testing import CliRunner
    from plait.cli import main

    task = remote.fetch_task("steps.slow")
    run = remote.execute(task, {"seconds": 60.0})
    wait_for(lambda: any(n.phase == "RUNNING" for n in run.nodes()))
    options = {"remote": {"endpoint": server.url, "token": server.token, "autostart": False}}
    said = CliRunner().invoke(main, ["abort", run.id, "--reason", "wrong learning rate", "--wait"], obj=options)
    assert said.exit_code == 0, said.output
    assert said.output == f"execution {run.id}: ABORTED (wrong learning rate)\n"
    assert run.refresh().error == {"kind": "ABORTED", "message": "aborted: wrong learning rate"}
    (attempt,) = run.nodes()[0].attempts
    assert attempt["error"]["message"] == "stopped: the execution was aborted: wrong learning rate"
    shown = CliRunner().invoke(main, ["get", "execution", run.id], obj=options, env={"COLUMNS": "200"})
    assert "error:    aborted: wrong learning rate" in shown.output
    again = CliRunner().invoke(main, ["abort", run.id], obj=options, env={"COLUMNS": "200"})
    assert again.exit_code == 1 and "already ended as ABORTED" in again.output


def test_relaunch_runs_the_same_inputs_again(remote: Remote) -> None:
    task = remote.fetch_task("steps.slow")
    first = remote.execute(task, {"seconds": 0.1}, wait=True)
    again = remote.relaunch(first.id).wait(timeout=60)
    assert again.id != first.id and again.phase == "SUCCEEDED"
    assert again.outputs == first.outputs == {"o0": 0.1}


def test_recover_reuses_what_succeeded(remote: Remote, tmp_path: Path) -> None:
    wf = remote.fetch_workflow("steps.two_steps")
    log, flag = tmp_path / "steps.log", tmp_path / "ready"
    failed = remote.execute(wf, {"path": str(log), "flag": str(flag)}, wait=True)
    assert failed.phase == "FAILED" and "not there yet" in str(failed.error)
    flag.touch()  # the user fixes the cause...
    recovered = remote.recover(failed.id).wait(timeout=60)  # ...and recovers
    assert recovered.phase == "SUCCEEDED"
    assert recovered.outputs == {"o0": "first+second"}
    assert log.read_text().split() == ["first", "second"]  # `first` ran once


def test_logs_are_readable_while_the_task_runs(remote: Remote) -> None:
    task = remote.fetch_task("steps.chatty")
    run = remote.execute(task, {"lines": 4, "pause": 1.0})
    def log_so_far() -> str:
        if not any(n.path == "n0" for n in run.nodes()):
            return ""  # the node is not recorded yet
        return run.logs("n0") or ""

    early = wait_for(lambda: "line 0" in log_so_far() and log_so_far(), timeout=30)
    assert "line 3" not in early  # seen before the task printed its last line
    run.wait(timeout=60)
    assert [f"line {i}" for i in range(4)] == [ln for ln in run.logs("n0").splitlines() if ln.startswith("line")]


def test_a_gpu_request_no_pool_can_meet_is_refused_at_launch(remote: Remote) -> None:
    task = remote.fetch_task("steps.needs_gpu")
    with pytest.raises(RemoteUserError) as refused:
        remote.execute(task, {"x": 1})
    message = str(refused.value)
    assert message.startswith("task steps.needs_gpu asks for 1 GPU, which no pool offers; the pools: default: cpu 1")
    assert "Declare a pool that fits in the cluster file" in message


def test_each_attempt_records_its_resource_use(remote: Remote) -> None:
    task = remote.fetch_task("steps.hungry")
    run = remote.execute(task, {"megabytes": 64}, wait=True, timeout=60)
    assert run.phase == "SUCCEEDED"
    (node,) = run.nodes()
    (attempt,) = node.attempts
    usage = attempt.get("usage") or attempt
    assert usage["mem_peak"] > 64 * 1024 * 1024
    assert usage["cpu_avg"] is not None
