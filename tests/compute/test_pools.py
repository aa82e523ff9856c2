"""Local worker pools on a real `plait server --cluster`: routing, refusals, scaling, pools made
on demand for an ImageSpec. Each pool's workers are real `dask worker` processes that the
backend starts in the pool's environment and stops when idle (compute/pools.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from plait.remote import RemoteUserError
from server_fixture import ServerProcess, running_server

pytestmark = pytest.mark.slow

PROGRAM = Path(__file__).parent.parent / "resources" / "compute" / "pools.py"
ACTORS = PROGRAM.with_name("actors.py")
TRAINING = PROGRAM.with_name("training.py")
CLUSTER = """\
kind: local
pools:
  - name: cpu
    max_workers: 1
    idle_timeout: 2s
  - name: gpu
    resources: {gpu: 1, accelerator: T4}
    max_workers: 1
    idle_timeout: 2s
  - name: spot
    interruptible: true
    max_workers: 1
    idle_timeout: 2s
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("pools")
    (folder / "cluster.yaml").write_text(CLUSTER)
    with running_server(folder / "home", "--cluster", str(folder / "cluster.yaml")) as started:
        with started.remote() as remote:
            remote.register(str(PROGRAM))
        yield started


def pools(server: ServerProcess) -> dict[str, dict[str, Any]]:
    answer = httpx.get(f"{server.url}/api/v1/health", headers={"Authorization": f"Bearer {server.token}"})
    answer.raise_for_status()
    return {p["name"]: p for p in answer.json()["pools"]}


def eventually(server: ServerProcess, check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, server.log_tail()
        time.sleep(0.2)


def retired(server: ServerProcess, pool: str, worker: str, timeout: float = 40) -> None:
    """Wait until `worker` has been retired. Dask refuses to retire a worker while it holds a
    result the executor has not gathered yet, so on a busy machine it takes more than one try;
    and the health lists the pools as last published (every few seconds): the worker is seen
    there, then gone (or, if it was never seen there, 15 s have passed: several tries)."""
    started = time.monotonic()
    seen = False
    while True:
        if worker in pools(server)[pool]["workers"]:
            seen = True
        elif seen or time.monotonic() - started > 15:
            return
        assert time.monotonic() - started < timeout, server.log_tail()
        time.sleep(0.2)


def run(server: ServerProcess, task: str, **settings: Any) -> tuple[str, str]:
    """What the task returned, and the pool its attempt was recorded in."""
    with server.remote() as remote:
        ran = remote.execute(remote.fetch_task(f"pools.{task}"), {}, wait=True, timeout=240, **settings)
        assert ran.phase == "SUCCEEDED", (ran.error, server.log_tail())
        (node,) = [n for n in ran.nodes() if n.attempts]
        return str(ran.outputs["o0"]), str(node.attempts[-1]["pool"])


def test_each_attempt_runs_on_a_worker_of_the_pool_that_fits_it(server: ServerProcess) -> None:
    assert run(server, "where") == ("cpu-0", "cpu")
    assert run(server, "where_gpu") == ("gpu-0", "gpu")  # the smallest pool with a GPU
    worker, pool = run(server, "where_spot")
    assert pool == "spot" and worker.startswith("spot-")  # interruptible tasks go to spot workers
    # An interruptible launch sends a plain task there too; a plain launch never does.
    assert run(server, "where", interruptible=True)[1] == "spot"
    assert run(server, "where")[1] == "cpu"
    with server.remote() as remote:  # a workflow's default, and a node's override
        for flow in ("spot_flow", "overridden_flow"):
            ran = remote.execute(remote.fetch_workflow(f"pools.{flow}"), {}, wait=True, timeout=120)
            assert ran.phase == "SUCCEEDED" and ran.outputs["o0"].startswith("spot-"), (flow, ran.error)


def test_a_request_no_pool_can_meet_is_refused_at_launch(server: ServerProcess) -> None:
    with server.remote() as remote:
        with pytest.raises(RemoteUserError) as refused:
            remote.execute(remote.fetch_task("pools.two_gpus"), {})
        said = str(refused.value)
        assert "task pools.two_gpus asks for 2 GPU, not interruptible, which no pool offers; the pools: cpu: " in said, said
        assert "gpu: 1 GPU nvidia-tesla-t4" in said and "Declare a pool that fits" in said
        with pytest.raises(RemoteUserError) as refused:
            remote.execute(remote.fetch_task("pools.gpu_in_requests"), {})
        assert ("task pools.gpu_in_requests requests gpu='1' without a GPU limit; GPUs take only limits"
                in str(refused.value))
        assert not [e for e in remote.list_executions() if e.entity_name in ("pools.two_gpus", "pools.gpu_in_requests")]


def test_pools_start_workers_for_attempts_and_retire_them_when_idle(server: ServerProcess) -> None:
    first = run(server, "where_gpu")[0]
    assert run(server, "where_gpu")[0] == first  # busy within its idle timeout: kept
    retired(server, "gpu", first)  # idle for longer than its 2 s
    number = int(first.rsplit("-", 1)[1])
    again = run(server, "where_gpu")[0]  # a new worker (a later one of the pool), started for this attempt
    assert again.startswith("gpu-") and int(again.rsplit("-", 1)[1]) > number, (first, again)
    # The server's health (published every few seconds) lists the pools and their workers.
    listed = pools(server)
    assert set(listed) >= {"cpu", "gpu", "spot"}
    assert listed["cpu"]["status"] == "ready" and not listed["cpu"]["on_demand"]
    assert listed["gpu"]["environment"] == "the default environment"


def test_an_image_no_pool_has_gets_a_pool_made_for_it(server: ServerProcess) -> None:
    said, pool = run(server, "where_inflection")
    assert pool.startswith("inflection-image-") and said == f"{pool}-0 inflection 0.5.1 in {pool}"
    seen: dict[str, Any] = {}
    eventually(server, lambda: pool in seen.setdefault("pools", pools(server)) or bool(seen.clear()), timeout=40)
    made = seen["pools"][pool]
    assert made["on_demand"] and made["environment"].startswith("ImageSpec inflection-image:")
    assert run(server, "where_inflection")[1] == pool  # the same environment, the same pool


def test_an_environment_that_does_not_build_fails_the_node_with_the_builders_last_lines(
        server: ServerProcess) -> None:
    with server.remote() as remote:
        ran = remote.execute(remote.fetch_task("pools.where_unbuildable"), {}, wait=True, timeout=240)
    assert ran.phase == "FAILED"
    said = str(ran.error)
    assert "building the environment of ImageSpec(name='unbuildable')" in said, said
    assert "plait-tests-no-such-package" in said and ".failed.log" in said  # the log is kept


def test_a_preempted_interruptible_task_is_retried_as_system_and_ends_on_a_pool_that_is_not(
        server: ServerProcess) -> None:
    with server.remote() as remote:
        ran = remote.execute(remote.fetch_task("pools.preempted"), {}, wait=True, timeout=240)
        assert ran.phase == "SUCCEEDED", (ran.error, server.log_tail())
        (node,) = [n for n in ran.nodes() if n.attempts]
    attempts = sorted(node.attempts, key=lambda a: a["number"])
    # Three preemptions on spot workers: SYSTEM failures, which spend none of its retries=0;
    # the last system retry runs on the CPU pool, which is not interruptible.
    assert [(a["pool"], a["phase"], a.get("error_kind")) for a in attempts] == [
        ("spot", "FAILED", "SYSTEM"), ("spot", "FAILED", "SYSTEM"), ("spot", "FAILED", "SYSTEM"),
        ("cpu", "SUCCEEDED", None)], attempts
    assert str(ran.outputs["o0"]).startswith("cpu-")


def test_an_actors_tasks_run_on_its_warm_replicas_that_load_once_each(server: ServerProcess) -> None:
    with server.remote() as remote:
        remote.register(str(ACTORS))
        ran = remote.execute(remote.fetch_workflow("actors.predict_all"), {"xs": list(range(12))},
                             wait=True, timeout=240)
        assert ran.phase == "SUCCEEDED", (ran.error, server.log_tail())
        again = remote.execute(remote.fetch_task("actors.predict"), {"x": 5}, wait=True, timeout=120)
        plain = remote.execute(remote.fetch_task("actors.plain_predict"), {"x": 5}, wait=True, timeout=120)
    answers = [a.split("|") for a in [*ran.outputs["o0"], again.outputs["o0"]]]
    assert [int(a[3]) for a in answers[:-1]] == [10 * x for x in range(12)]
    assert {a[0] for a in answers} == {"actor-warm-model"}  # only its replicas run its tasks
    assert len({a[1] for a in answers}) <= 2 and {a[2] for a in answers} == {"loads=1"}  # cached per replica
    pool, pid, loads, _ = plain.outputs["o0"].split("|")
    assert pool == "cpu" and pid not in {a[1] for a in answers} and loads == "loads=1"  # nothing shared


def test_a_multi_image_training_pipeline_runs_each_step_in_a_pool_that_fits_it(server: ServerProcess) -> None:
    with server.remote() as remote:
        remote.register(str(TRAINING))
        ran = remote.execute(remote.fetch_workflow("training.training_pipeline"), {"n": 20}, wait=True, timeout=240)
        assert ran.phase == "SUCCEEDED", (ran.error, server.log_tail())
        nodes = {n.entity.rsplit(".", 1)[-1]: n for n in ran.nodes() if n.attempts}
        pools = {name: n.attempts[-1]["pool"] for name, n in nodes.items()}
        # Each image gets a pool of its own, shaped as the pool that fits the step otherwise.
        assert pools["prepare"].startswith("prep-") and pools["train"].startswith("gpu-train-"), pools
        assert pools["evaluate"] == "cpu"
        log = "".join(ran.logs(nodes["train"]))
        assert f"pool {pools['train']}, stage train" in log, log
        shown = subprocess.run([sys.executable, "-m", "plait", "get", "execution", ran.id], capture_output=True,
                               text=True, timeout=60, env={**os.environ, "PLAIT_HOME": str(server.home), "COLUMNS": "200"})
    assert shown.returncode == 0, shown.stderr
    assert "POOL" in shown.stdout and pools["train"] in shown.stdout and pools["prepare"] in shown.stdout


def test_the_workers_of_a_local_gpu_pool_never_share_a_device() -> None:
    from plait.backend.compute import Pool
    from plait.backend.compute.cluster_file import Shape
    from plait.backend.compute.pools import gpu_slice

    two = Pool(name="gpu", resources=Shape(gpu=2), max_workers=2)
    assert [gpu_slice(two, slot, None) for slot in (0, 1)] == ["0,1", "2,3"]
    assert [gpu_slice(two, slot, "4,5,6,7") for slot in (0, 1)] == ["4,5", "6,7"]
    assert gpu_slice(two, 1, "4,5") is None  # not enough devices for a second worker: it sees them all
    assert gpu_slice(Pool(name="one", resources=Shape(gpu=1)), 0, None) is None  # one worker: all it is given
    assert gpu_slice(Pool(name="cpu", max_workers=4), 2, None) is None


def test_plait_run_remote_interruptible_sends_the_tasks_to_spot_workers(server: ServerProcess) -> None:
    env = {**os.environ, "PLAIT_HOME": str(server.home)}
    said = [subprocess.run([sys.executable, "-m", "plait", "run", "--remote", *flag, str(PROGRAM), "where"],
                           capture_output=True, text=True, timeout=120, env=env) for flag in (["--interruptible"], [])]
    assert [s.returncode for s in said] == [0, 0], [s.stderr for s in said]
    assert said[0].stdout.startswith("spot-") and said[1].stdout.startswith("cpu-")
    local = subprocess.run([sys.executable, "-m", "plait", "run", "--interruptible", str(PROGRAM), "where"],
                           capture_output=True, text=True, timeout=60, env=env)
    assert local.returncode == 2 and "--interruptible/--non-interruptible apply to --remote runs" in local.stderr


REQUIREMENTS_PROGRAM = '''
import plait
from plait import ImageSpec

image = ImageSpec(name="from-requirements", requirements="requirements.txt", copy=["labels.txt"])


@plait.task(container_image=image)
def from_requirements() -> str:
    import inflection

    return f"{inflection.__version__} {open('labels.txt').read().strip()}"
'''


def test_the_files_an_imagespec_reads_travel_with_the_code(server: ServerProcess, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "reqs_program.py").write_text(REQUIREMENTS_PROGRAM)
    (tmp_path / "requirements.txt").write_text("inflection==0.5.1\n")
    (tmp_path / "labels.txt").write_text("cat dog\n")
    monkeypatch.chdir(tmp_path)  # the spec's paths are relative to the folder it is registered from
    with server.remote() as remote:
        remote.register(str(tmp_path / "reqs_program.py"))
        ran = remote.execute(remote.fetch_task("reqs_program.from_requirements"), {}, wait=True, timeout=240)
    assert ran.phase == "SUCCEEDED", (ran.error, server.log_tail())
    assert ran.outputs["o0"] == "0.5.1 cat dog"  # the server never saw this folder: the files came in the bundle


def test_an_imagespec_file_outside_the_registered_folder_is_refused_with_its_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from plait.errors import UserError
    from plait.remote.bundle import collect

    project = tmp_path / "project"
    project.mkdir()
    (project / "outside_program.py").write_text(REQUIREMENTS_PROGRAM.replace('"requirements.txt"',
                                                                           '"../requirements.txt"'))
    monkeypatch.chdir(project)
    with pytest.raises(UserError) as refused:
        collect([str(project / "outside_program.py")])
    said = str(refused.value)
    assert "ImageSpec(name='from-requirements') pulls in '../requirements.txt', outside the folder you " \
           f"register from ({project})" in said, said
    sys.modules.pop("outside_program", None)
