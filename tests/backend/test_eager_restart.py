"""An eager workflow whose backend dies mid-run: the restarted backend runs the body again,
and the calls that had completed answer from their records instead of running again.

Real processes (tests/backend/processes.py): a Dask scheduler and workers that survive the
`kill -9` of the backend, as in tests/backend/test_chaos.py.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from processes import Processes

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

RESOURCES = Path(__file__).parents[1] / "resources"


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Processes]:
    with Processes(tmp_path / "procs") as started:
        yield started


def test_a_restarted_backend_replays_an_eager_body_from_its_recorded_calls(procs: Processes, tmp_path: Path) -> None:
    address = procs.scheduler()
    workers = [procs.worker(address, f"w{i + 1}", wait=False) for i in range(2)]
    home = tmp_path / "home"
    server = procs.server(home, address)
    for worker in workers:
        procs.wait_registered(worker)
    sys.path.insert(0, str(RESOURCES))
    try:
        remote = server.remote()
        remote.register(RESOURCES / "eager" / "steps.py")
        steps = tmp_path / "steps.txt"
        run = remote.execute(remote.fetch_task("eager.steps.step_by_step"), {"path": str(steps)})
        deadline = time.monotonic() + 60
        while sum(n.phase == "SUCCEEDED" for n in run.nodes()) < 10:
            assert time.monotonic() < deadline, "10 steps did not succeed within 60 s"
            time.sleep(0.1)
        server.process.kill()  # the backend only: the scheduler and workers go on

        restarted = procs.server(home, address, name="server-restarted")
        run = restarted.remote().fetch_execution(run.id).wait(timeout=120, poll=0.5)
    finally:
        sys.path.remove(str(RESOURCES))

    assert run.phase == "SUCCEEDED", run.error
    assert run.outputs == {"o0": sum(range(40))}
    step_nodes = [n for n in run.nodes() if n.entity.endswith(".step")]
    assert sorted(n.path for n in step_nodes) == sorted(f"n0-n{i}" for i in range(40))
    assert {n.phase for n in step_nodes} == {"SUCCEEDED"}
    assert all(sum(a["phase"] == "SUCCEEDED" for a in n.attempts) == 1 for n in step_nodes)
    ran = [int(line) for line in steps.read_text().split()]
    assert sorted(set(ran)) == list(range(40))
    assert len(ran) < 40 + 3, f"steps recorded before the restart ran again: {ran}"
