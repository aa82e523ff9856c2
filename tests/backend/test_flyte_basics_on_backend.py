"""Flyte programs on a real backend, as they run locally: package-path names, a failure handler
without `err`, Echo in a conditional, named outputs, and secrets under Flyte's names.

The programs are tests/resources/flyte_basics/ (a package); one server for the module.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from plait.remote import Remote
from plait.run.engine import execute, native_outputs
from server_fixture import running_server

RESOURCES = Path(__file__).parent.parent / "resources"
BASICS = RESOURCES / "flyte_basics"
FILES = ["pipelines.py", "cleanup.py", "echo_branch.py", "outputs.py", "secret_reader.py"]
WAIT_S = 90


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with running_server(tmp_path_factory.mktemp("flyte-basics-home")) as server:
        yield server


@pytest.fixture(scope="module")
def remote(server: Any) -> Iterator[Remote]:
    with server.remote() as client:
        client.register(*[str(BASICS / f) for f in FILES], version="v1")
        yield client


@pytest.fixture(scope="module")
def basics() -> Iterator[Any]:
    sys.path.insert(0, str(RESOURCES))
    try:
        yield lambda name: importlib.import_module(f"flyte_basics.{name}")
    finally:
        sys.path.remove(str(RESOURCES))


def run(remote: Remote, kind: str, name: str, inputs: dict[str, Any] | None = None,
        envs: dict[str, str] | None = None) -> Any:
    entity = remote.fetch(kind, name, "v1")
    return remote.execute(entity, inputs or {}, envs=envs).wait(timeout=WAIT_S)


def test_entities_are_registered_and_run_under_their_package_path(remote: Remote, basics: Any) -> None:
    done = run(remote, "workflow", "flyte_basics.pipelines.sales_report")
    assert done.phase == "SUCCEEDED", done.error
    local = execute(basics("pipelines").sales_report, {}).outputs
    assert done.outputs == local == {"o0": "total sales: 12"}
    assert {n.entity for n in done.nodes()} >= {"flyte_basics.pipelines.summarize", "flyte_basics.pipelines.label"}


def test_a_failure_handler_without_err_runs_on_the_backend_as_locally(
        remote: Remote, basics: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    local_log, remote_log = tmp_path / "local.log", tmp_path / "remote.log"
    monkeypatch.setenv("CLEANUP_LOG", str(local_log))
    with pytest.raises(RuntimeError, match="ran out of memory"):
        basics("cleanup").training_run(name="pool-7")
    done = run(remote, "workflow", "flyte_basics.cleanup.training_run", {"name": "pool-7"},
               envs={"CLEANUP_LOG": str(remote_log)})
    assert done.phase == "FAILED"
    assert "cluster pool-7 ran out of memory" in str(done.error)
    assert "on_failure_error" not in (done.error or {})
    assert remote_log.read_text().splitlines() == local_log.read_text().splitlines() == [
        "reserved pool-7", "released pool-7"]


@pytest.mark.parametrize(("member", "expected"), [(True, 9.0), (False, 10.0)])
def test_an_echo_branch_runs_on_the_backend(remote: Remote, basics: Any, member: bool, expected: float) -> None:
    done = run(remote, "workflow", "flyte_basics.echo_branch.checkout", {"amount": 10.0, "member": member})
    assert done.phase == "SUCCEEDED", done.error
    assert done.outputs == {"o0": expected} == execute(basics("echo_branch").checkout,
                                                      {"amount": 10.0, "member": member}).outputs


def test_several_outputs_come_back_with_their_names(remote: Remote, basics: Any) -> None:
    prog = basics("outputs")
    inputs = {"xs": [0.0, 1.0, 2.0], "ys": [1.0, 3.0, 5.0]}
    done = run(remote, "workflow", "flyte_basics.outputs.trend", inputs)
    assert done.phase == "SUCCEEDED", done.error
    named = native_outputs(prog.trend.interface, done.outputs)
    assert named == prog.trend(**inputs) and named.o1 == 2.0


def test_a_grouped_secret_reaches_the_task_under_flytes_names(remote: Remote) -> None:
    remote.create_secret("user-info/user_secret", "s3cr3t-value")
    by_name = run(remote, "task", "flyte_basics.secret_reader.read_by_name")
    variable = run(remote, "task", "flyte_basics.secret_reader.flyte_variable")
    in_file = run(remote, "task", "flyte_basics.secret_reader.file_contents")
    for done in (by_name, variable, in_file):
        assert done.phase == "SUCCEEDED", done.error
        assert done.outputs == {"o0": "s3cr3t-value"}
