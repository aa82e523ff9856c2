"""An artifact trigger across a crash: the backend dies after a node made a version and before
the trigger launched; after the restart the version exists once and the plan runs once.

Real processes (tests/backend/processes.py): a Dask scheduler, one worker, and `plait server`
killed with `kill -9`. The first server runs without its scheduler thread (PLAIT_SCHEDULER=0),
which holds the window between the node's success and the trigger's launch open.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from processes import Processes

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

PROGRAM = Path(__file__).parents[1] / "resources" / "artifacts" / "catalog_programs.py"
MOD = "catalog_programs"


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Processes]:
    with Processes(tmp_path / "procs") as started:
        yield started


def wait_until(check: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what}: not within {timeout:g} s"
        time.sleep(0.1)


def trigger_runs(remote: Any) -> list[dict[str, Any]]:
    return list(remote.request("GET", "/api/v1/launch_plans/summarize_counts/trigger_runs").json()["items"])


def summaries(remote: Any) -> list[Any]:
    return remote.list_executions(name=f"{MOD}.summary_wf", limit=100)


def test_a_version_made_before_a_crash_launches_its_plan_once_after_the_restart(
    procs: Processes, tmp_path: Path
) -> None:
    address = procs.scheduler()
    procs.worker(address, "w1")
    home = tmp_path / "home"
    first = procs.server(home, address, env={"PLAIT_SCHEDULER": "0"})
    with first.remote() as remote:
        remote.register(str(PROGRAM), version="v1")
        remote.activate_launch_plan("summarize_counts", "v1")
        made = remote.execute(remote.fetch_workflow(f"{MOD}.count_wf", "v1"),
                              {"source": "crash", "rows": 9}).wait(timeout=90)
        assert made.phase == "SUCCEEDED", made.error
        assert trigger_runs(remote) == []  # the window: made, not yet launched
    first.process.kill()

    second = procs.server(home, address, name="server-2")
    with second.remote() as remote:
        [run] = wait_until(lambda: trigger_runs(remote), "the trigger launches after the restart")
        assert run["outcome"] == "launched"
        done = remote.fetch_execution(run["execution_id"]).wait(timeout=90)
        assert done.phase == "SUCCEEDED" and done.outputs == {"o0": "crash has 9 rows"}
    second.process.kill()

    third = procs.server(home, address, name="server-3")
    with third.remote() as remote:
        time.sleep(2.0)  # ten scheduler turns
        assert len(trigger_runs(remote)) == 1
        assert len(summaries(remote)) == 1
        versions = remote.request("GET", "/api/v1/artifacts/row_count/versions",
                                  params={"partition": "source=crash"}).json()["items"]
        assert len(versions) == 1
