"""Gate nodes on a real backend: WAITING until a signal is set, an approval given, a sleep over,
or the timeout, through the API, `plait.Remote` and the CLI.

The programs are tests/resources/gates/gate_programs.py (the local engine's side is
tests/run/test_gates.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from plait.cli import main
from plait.remote import Remote, RemoteUserError
from server_fixture import running_server

PROGRAM = Path(__file__).parent.parent / "resources" / "gates" / "gate_programs.py"
MOD = "gate_programs"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with running_server(tmp_path_factory.mktemp("gates-home")) as server:
        yield server


@pytest.fixture(scope="module")
def remote(server: Any) -> Iterator[Remote]:
    with server.remote() as client:
        client.register(str(PROGRAM), version="v1")
        yield client


def launch(remote: Remote, workflow: str, inputs: dict[str, Any]) -> Any:
    return remote.execute(remote.fetch_workflow(f"{MOD}.{workflow}", "v1"), inputs)


def waiting_for(remote: Remote, run: Any, name: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [s for s in remote.list_signals(run) if s["name"] == name]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no gate opened signal {name}")


def test_a_gate_waits_for_its_signal_and_outputs_it(remote: Remote) -> None:
    run = launch(remote, "titled", {"topic": "owls"})
    signal = waiting_for(remote, run, "title")
    assert (signal["gate"], signal["type_name"], signal["is_set"], signal["node_path"]) == ("signal", "str", False, "n1")
    assert signal["timeout_at"] is not None
    phases = {n.path: n.phase for n in remote.fetch_execution(run.id).nodes()}
    assert phases["n1"] == "WAITING" and "n2" not in phases  # nothing after the gate has started
    # A value of the wrong type is refused and changes nothing.
    with pytest.raises(RemoteUserError, match=r"signal `title` .* expects str"):
        remote.set_signal("title", run, 12, python_type=int)
    with pytest.raises(RemoteUserError, match="no gate waiting for signal `subtitle`; it waits for `title`"):
        remote.set_signal("subtitle", run, "x")
    assert remote.set_signal("title", run, "Owls")["is_set"] is True
    done = run.wait(timeout=60)
    assert done.phase == "SUCCEEDED" and done.outputs == {"o0": "Owls: a draft about owls"}
    gate = {n.path: n for n in done.nodes()}["n1"]
    assert gate.phase == "SUCCEEDED" and gate.record["outputs"]["o0"]["literal"] == "Owls"
    # Once only; and an unknown name says what the execution waits for.
    with pytest.raises(RemoteUserError, match="already set"):
        remote.set_signal("title", run, "Again")
    with pytest.raises(RemoteUserError, match="has ended"):
        remote.set_signal("subtitle", run, "x")


def test_an_approval_passes_the_value_on_and_a_rejection_fails_the_node(remote: Remote) -> None:
    approved = launch(remote, "reviewed", {"topic": "owls"})
    waiting_for(remote, approved, "review")
    remote.approve("review", approved)
    assert approved.wait(timeout=60).outputs == {"o0": "approved: a draft about owls"}
    rejected = launch(remote, "reviewed", {"topic": "cats"})
    waiting_for(remote, rejected, "review")
    remote.reject("review", rejected)
    done = rejected.wait(timeout=60)
    assert done.phase == "FAILED" and "approval `review` was rejected" in done.error["message"]
    assert {n.path: n.phase for n in done.nodes()}.get("n2") in (None, "SKIPPED")


def test_sleep_holds_the_chained_node_for_its_duration(remote: Remote) -> None:
    started = time.monotonic()
    done = launch(remote, "paused", {"n": 3}).wait(timeout=60)
    assert done.phase == "SUCCEEDED" and done.outputs == {"o0": 12}
    assert time.monotonic() - started >= 1.0
    nodes = {n.path: n for n in done.nodes()}
    gate = nodes["n1"].record
    assert nodes["n1"].phase == "SUCCEEDED" and gate["kind"] == "gate"


def test_a_gate_without_a_value_times_out_with_a_message_that_names_it(remote: Remote) -> None:
    done = launch(remote, "impatient", {"topic": "x"}).wait(timeout=60)
    assert done.phase == "TIMED_OUT"
    assert "signal `count` timed out after 1.0 s: no value was set" in done.error["message"]


def test_the_cli_lists_and_sets_signals(remote: Remote, server: Any) -> None:
    run = launch(remote, "titled", {"topic": "cli"})
    waiting_for(remote, run, "title")
    env = {"PLAIT_ENDPOINT": server.url, "PLAIT_TOKEN": server.token}
    listed = CliRunner().invoke(main, ["get", "signals", run.id], env=env)
    assert listed.exit_code == 0, listed.output
    assert "title" in listed.output and "waiting" in listed.output
    given = CliRunner().invoke(main, ["signal", run.id, "title", "From the CLI"], env=env)
    assert given.exit_code == 0, given.output
    assert '"From the CLI"' in given.output
    assert run.wait(timeout=60).outputs == {"o0": "From the CLI: a draft about cli"}
    missing = CliRunner().invoke(main, ["signal", run.id, "title"], env=env)
    assert missing.exit_code != 0 and "--approve" in missing.output
