"""Chaos: the backend and its workers die mid-run, and the runs still end right.

Real processes throughout (tests/backend/processes.py): a `dask scheduler`,
`dask worker --nworkers 1 --nthreads 1` processes and `plait server
--dask-scheduler ...`, each in its own process group, killed with `kill -9`
where the test says so and always stopped at the end. The programs live in
tests/resources/chaos/ and write what their bodies did to a file named by an
input, so a test can tell which bodies ran and how often.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from processes import Process, Processes, Server

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

PROGRAMS = Path(__file__).parents[1] / "resources" / "chaos"


@dataclass
class Cluster:
    address: str
    workers: list[Process] = field(default_factory=list)


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Processes]:
    with Processes(tmp_path / "procs") as started:
        yield started


def start_cluster(procs: Processes, workers: int) -> Cluster:
    cluster = Cluster(procs.scheduler())
    cluster.workers = [procs.worker(cluster.address, f"w{i + 1}", wait=False) for i in range(workers)]
    return cluster


def start_server(procs: Processes, cluster: Cluster, home: Path, **options: Any) -> Server:
    """Start a server, then wait for the workers that started alongside it."""
    server = procs.server(home, cluster.address, **options)
    for worker in cluster.workers:
        procs.wait_registered(worker)
    return server


def register(remote: Any, program: str) -> Any:
    """Register tests/resources/chaos/<program>.py; its module, as registration imported it."""
    remote.register(PROGRAMS / f"{program}.py")
    return importlib.import_module(program)


def wait_until(check: Callable[[], Any], what: str, timeout: float = 60.0, poll: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what}: not within {timeout:g} s"
        time.sleep(poll)


def lines_of(path: Path) -> list[int]:
    """The number that starts each line of `path`."""
    return [int(line.split()[0]) for line in path.read_text().splitlines()] if path.exists() else []


def running_worker(cluster: Cluster, items: Path) -> Process:
    """The worker whose process wrote the last line of `items` ("<item> <pid>")."""
    pid = int(items.read_text().splitlines()[-1].split()[1])
    return next(w for w in cluster.workers if pid in w.members())


def stretches(numbers: list[int]) -> list[list[int]]:
    """`numbers` cut where they stop counting up by one: [0, 1, 2, 1, 2] -> [[0, 1, 2], [1, 2]]."""
    found: list[list[int]] = []
    for n in numbers:
        if found and n == found[-1][-1] + 1:
            found[-1].append(n)
        else:
            found.append([n])
    return found


def unfinished(remote: Any) -> list[str]:
    """Executions of the server not in a final phase."""
    return [r.id for r in remote.list_executions(limit=100) if not r.is_done]


def successes(node: Any) -> int:
    return sum(1 for attempt in node.attempts if attempt["phase"] == "SUCCEEDED")


# ------------------------------------------------------------------ the backend dies


def test_a_restarted_backend_finishes_a_run_its_killed_predecessor_started(
    procs: Processes, tmp_path: Path
) -> None:
    cluster = start_cluster(procs, workers=2)
    home = tmp_path / "home"
    server = start_server(procs, cluster, home)
    remote = server.remote()
    program = register(remote, "long_chain")
    steps = tmp_path / "steps.txt"
    run = remote.execute(program.long_chain, {"path": str(steps)})

    done = wait_until(lambda: sum(n.phase == "SUCCEEDED" for n in run.nodes()) >= 50,
                      "50 of the 200 steps to succeed")
    server.process.kill()  # kill -9 of the backend only: the scheduler and workers go on
    assert done and len(set(lines_of(steps))) < 200, "the chain ended before the backend was killed"
    assert all(p.members() for p in procs.started if p is not server.process)

    restarted = start_server(procs, cluster, home, name="server-restarted")
    remote = restarted.remote()
    run = remote.fetch_execution(run.id).wait(timeout=90, poll=0.5)

    assert run.phase == "SUCCEEDED", run.error
    assert run.outputs == {"o0": sum(range(200))}
    nodes = run.nodes()
    assert len(nodes) == 200 and {n.phase for n in nodes} == {"SUCCEEDED"}
    assert [n.path for n in nodes if successes(n) != 1] == []
    failed = [a for n in nodes for a in n.attempts if a["phase"] != "SUCCEEDED"]
    assert all(a["error_kind"] == "SYSTEM" for a in failed), failed
    # The steps ran in chain order, then again from the first one the killed backend had not
    # recorded: bodies may run twice after a crash (at least once), outcomes are recorded once.
    first, *rest = stretches(lines_of(steps))
    assert first[0] == 0 and len(rest) <= 1, (first, rest)
    assert (rest or [first])[-1][-1] == 199 and (not rest or rest[0][0] <= first[-1] + 1)
    assert unfinished(remote) == []


# ------------------------------------------------------------------ a worker dies


@dataclass
class KilledWorkerMap:
    phase: str
    error: Any
    outputs: dict[str, Any]
    map_node: Any
    items_at_kill: int
    items_run: list[int]


@pytest.fixture(scope="module")
def killed_worker_map(tmp_path_factory: pytest.TempPathFactory) -> KilledWorkerMap:
    """A 1,000-item map during which one of two workers is killed and replaced."""
    tmp = tmp_path_factory.mktemp("killed-worker-map")
    with Processes(tmp / "procs") as procs:
        cluster = start_cluster(procs, workers=2)
        remote = start_server(procs, cluster, tmp / "home").remote()
        program = register(remote, "slow_map")
        items = tmp / "items.txt"
        run = remote.execute(program.squares, {"path": str(items), "numbers": list(range(1000))})
        wait_until(lambda: len(lines_of(items)) >= 250, "250 map items to run")
        running_worker(cluster, items).kill()
        items_at_kill = len(set(lines_of(items)))
        procs.worker(cluster.address, "w3")  # a replacement
        run.wait(timeout=120, poll=0.5)
        map_node = next((n for n in run.nodes() if n.kind == "map"), None)
        outputs = run.outputs if run.phase == "SUCCEEDED" else {}
        return KilledWorkerMap(run.phase, run.error, outputs, map_node, items_at_kill, lines_of(items))


def test_a_map_finishes_with_every_output_after_a_worker_is_killed(
    killed_worker_map: KilledWorkerMap,
) -> None:
    result = killed_worker_map
    assert result.items_at_kill < 1000, "the map ended before the worker was killed"
    # The task has retries=0: a lost worker that spent a USER retry would have failed it.
    assert result.phase == "SUCCEEDED", result.error
    assert result.outputs == {"o0": [n * n for n in range(1000)]}
    assert sorted(set(result.items_run)) == list(range(1000))
    assert result.map_node is not None and result.map_node.phase == "SUCCEEDED"
    assert all(a["error_kind"] != "USER" for a in result.map_node.attempts)


def test_a_worker_killed_during_a_map_shows_as_a_system_failure(
    killed_worker_map: KilledWorkerMap,
) -> None:
    node = killed_worker_map.map_node
    assert node is not None
    assert any(a["error_kind"] == "SYSTEM" for a in node.attempts), node.attempts


# ------------------------------------------------------------------ concurrent cache


def test_twenty_concurrent_runs_of_a_serialized_cached_task_run_its_body_once(
    procs: Processes, tmp_path: Path, database_url: str
) -> None:
    cluster = start_cluster(procs, workers=2)
    server = start_server(procs, cluster, tmp_path / "home", database_url=database_url)
    assert f"database: Database('{database_url}')" in server.process.text()
    remote = server.remote()
    register(remote, "serialized_cache")
    task = remote.fetch_task("serialized_cache.expensive")
    ran = tmp_path / "ran.txt"
    gate = threading.Barrier(20)

    def launch_and_wait(_: int) -> Any:
        with server.remote() as own:
            gate.wait()
            return own.execute(task, {"path": str(ran), "x": 7}).wait(timeout=60, poll=0.2)

    with ThreadPoolExecutor(20) as pool:
        runs = list(pool.map(launch_and_wait, range(20)))

    assert [r.phase for r in runs] == ["SUCCEEDED"] * 20, [r.error for r in runs if r.error]
    assert len({r.outputs["o0"] for r in runs}) == 1
    assert ran.read_text() == "ran\n"
    phases = sorted(n.phase for r in runs for n in r.nodes())
    assert phases == ["CACHE_HIT"] * 19 + ["SUCCEEDED"]
    assert unfinished(remote) == []


# ------------------------------------------------------------------ timeouts


def test_a_timed_out_task_frees_its_worker_slot(procs: Processes, tmp_path: Path) -> None:
    cluster = start_cluster(procs, workers=1)  # one worker with one thread: one slot
    remote = start_server(procs, cluster, tmp_path / "home").remote()
    program = register(remote, "overdue")

    started = time.monotonic()
    run = remote.execute(program.sleepy, {"seconds": 30.0}).wait(timeout=20, poll=0.2)
    took = time.monotonic() - started
    # 1 s, then up to 5 s in which the engine lets a stopped attempt unwind (a thread in
    # time.sleep does not): far less than the 30 s the body asked for.
    assert run.phase == "TIMED_OUT" and took < 10, (run.phase, took, run.error)
    [node] = run.nodes()
    assert node.phase == "TIMED_OUT"
    assert [a["phase"] for a in node.attempts] == ["TIMED_OUT"]

    started = time.monotonic()
    after = remote.execute(program.quick, {"x": 1}).wait(timeout=20, poll=0.2)
    assert after.phase == "SUCCEEDED" and after.outputs == {"o0": 2}
    assert time.monotonic() - started < 5, "the next task waited for the timed-out one's slot"
