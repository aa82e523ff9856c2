"""Pinned references run exactly the version they name, on a real `plait server`.

The program `answers` is registered as v1, then as v2 whose task and launch plan
answer "v2". Workflows that reference v1 (`reference_task`,
`reference_launch_plan`) still get v1's answers. A workflow whose reference
names a version that is not registered is refused at launch (422), naming the
project, domain, name and version.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from plait.remote import Remote
from plait.remote.bundle import collect
from server_fixture import ServerProcess, running_server

pytestmark = pytest.mark.slow

PROGRAMS = (Path(__file__).parent.parent / "resources" / "launchplans").resolve()


def _register(remote: Remote, path: Path, version: str | None = None) -> ModuleType:
    """Register a program file (imported by its file name, as `plait register` does)."""
    registration = collect([path])
    remote.register_collected(registration, version)
    (name,) = registration.modules
    module = sys.modules.pop(name)  # the next version of the program is imported afresh
    while str(path.parent) in sys.path:
        sys.path.remove(str(path.parent))
    return module


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("plait-references-home")) as started:
        yield started


@pytest.fixture(scope="module")
def pinned(server: ServerProcess) -> Iterator[tuple[Remote, ModuleType]]:
    with server.remote() as remote:
        _register(remote, PROGRAMS / "v1" / "answers.py", "v1")
        _register(remote, PROGRAMS / "v2" / "answers.py", "v2")
        program = collect([PROGRAMS / "pinned.py"])
        (name,) = program.modules
        module = sys.modules[name]
        remote.register_collected(program)
        try:
            yield remote, module
        finally:
            sys.modules.pop(name, None)
            while str(PROGRAMS) in sys.path:
                sys.path.remove(str(PROGRAMS))


def test_the_newest_version_answers_v2(pinned: tuple[Remote, ModuleType]) -> None:
    remote, _ = pinned
    newest = remote.fetch_task("answers.answer")
    assert newest.version == "v2"
    assert remote.execute(newest, {"question": "which"}, wait=True, timeout=90).outputs == {"o0": "which: v2"}


def test_a_reference_task_pinned_to_v1_runs_v1(pinned: tuple[Remote, ModuleType]) -> None:
    remote, module = pinned
    run = remote.execute(module.asks_v1, {"question": "which"}, wait=True, timeout=90)
    assert run.phase == "SUCCEEDED", run.error
    assert run.outputs == {"o0": "which: v1"}


def test_a_reference_launch_plan_pinned_to_v1_runs_v1(pinned: tuple[Remote, ModuleType]) -> None:
    remote, module = pinned
    run = remote.execute(module.asks_plan_v1, {"question": "which"}, wait=True, timeout=90)
    assert run.phase == "SUCCEEDED", run.error
    assert run.outputs == {"o0": "which: v1"}
    (child,) = [e for e in remote.list_executions(limit=100) if e.record.get("parent_execution_id") == run.id]
    assert (child.record["launch_plan"]["name"], child.record["launch_plan"]["version"]) == ("answer_lp", "v1")


def test_a_reference_to_a_version_never_registered_is_refused_at_launch(
        server: ServerProcess, pinned: tuple[Remote, ModuleType], resource: Any) -> None:
    module = resource("launchplans/missing_version.py")
    # Registered without its reference (whose check at registration would refuse it), as a
    # workflow registered before the version it pins was removed, or from another client.
    workflow = {**module.asks_v9.to_spec(), "version": "w9"}
    headers = {"Authorization": f"Bearer {server.token}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
        python = f"{sys.version_info.major}.{sys.version_info.minor}"
        registered = http.post("/api/v1/register", json={"python_version": python, "specs": [workflow],
                                                         "version": "w9"})
        assert registered.status_code == 201, registered.text
        refused = http.post("/api/v1/executions", json={
            "kind": "workflow", "name": module.asks_v9.name, "version": "w9", "inputs": {"question": "which"}})
    assert refused.status_code == 422
    assert refused.json()["message"] == (
        "the reference to task default/development/answers.answer version v9 cannot be resolved: "
        "default/development has no task `answers.answer` at version `v9`; register that version, "
        "or point the reference at a registered one"
    )
