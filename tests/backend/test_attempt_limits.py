"""Limits and usage per attempt, on a real Dask worker process.

A task's memory limit (`limits=Resources(mem=...)`) ends an attempt that goes
over it with an out-of-memory error naming the limit and the peak, and the
worker goes on with its next task. CPU and memory are measured for the
attempt, not for the worker process that runs it. The last tests go through
a real `plait server`: the limit reaches the worker from the task and from a
node's `with_overrides`.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import types
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cloudpickle
import plait
import pytest
from distributed import Client, LocalCluster
from plait.backend.execution import usage as usage_module
from plait.backend.execution import worker
from plait.backend.storage import ObjectStore
from server_fixture import running_server

MiB = 1024 * 1024

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the worker process cannot import this file


@plait.task
def hog(megabytes: int, hold: float) -> int:
    """Allocates `megabytes` in blocks, as a loop over a dataset would, and holds them."""
    blocks = []
    for _ in range(megabytes // 16):
        blocks.append(bytearray(16 * MiB))
        time.sleep(0.005)
    deadline = time.monotonic() + hold
    while time.monotonic() < deadline:
        time.sleep(0.01)
    return len(blocks) * 16


@plait.task
def hog_in_a_child(megabytes: int) -> int:
    """Starts a process that allocates `megabytes` and then sleeps for a minute."""
    script = f"b = bytearray({megabytes} * 1024 * 1024)\nimport time\ntime.sleep(60)"
    return subprocess.run([sys.executable, "-c", script], check=False).returncode


@plait.task
def pid() -> int:
    return os.getpid()


@plait.task
def spin(seconds: float) -> float:
    """Busy for `seconds`; answers the CPU time its thread used."""
    cpu, deadline = time.thread_time(), time.monotonic() + seconds
    while time.monotonic() < deadline:
        pass
    return time.thread_time() - cpu


@plait.task
def rest(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    """One real Dask worker process with two threads (attempts share it, as on a pool's worker)."""
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=":0",
                      memory_limit="2GiB") as cluster, Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> ObjectStore:
    return ObjectStore(str(tmp_path_factory.mktemp("limits") / "data"))


def payload(store: ObjectStore, task: Any, inputs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """What the executor sends for the first attempt of node n0 running `task`."""
    blob = cloudpickle.dumps(task)
    digest = hashlib.sha256(blob).hexdigest()
    store.put_bytes(f"functions/{digest}.pkl", blob)
    execution_id = uuid.uuid4().hex[:10]
    return {
        "execution_id": execution_id, "project": "default", "domain": "development", "node_path": "n0",
        "attempt": 1, "storage_url": store.url, "name": task.name, "code": {"pickle": digest},
        "inputs": {k: {"literal": v} for k, v in inputs.items()}, "timeout": None, "envs": {},
        "output_prefix": f"executions/{execution_id}/n0/1", **extra,
    }


def attempt(client: Client, store: ObjectStore, task: Any, inputs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Run one attempt on the worker and return its answer."""
    return client.submit(worker.run_attempt, payload(store, task, inputs, **extra), pure=False).result(60)


def children_running(text: str) -> list[str]:
    """The command lines of this process's descendants that contain `text`."""
    import psutil

    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            found.append(" ".join(child.cmdline()))
        except psutil.Error:  # ended meanwhile
            pass
    return [c for c in found if text in c]


def worker_rss(client: Client) -> int:
    (rss,) = client.run(usage_module.process_rss).values()
    return int(rss)


def test_an_attempt_over_its_memory_limit_fails_and_the_worker_goes_on(client: Client, store: ObjectStore) -> None:
    (address,) = client.scheduler_info()["workers"]
    first_pid = attempt(client, store, pid, {})["outputs"]["o0"]["literal"]
    before = worker_rss(client)

    started = time.monotonic()
    answer = attempt(client, store, hog, {"megabytes": 320, "hold": 30.0}, limits={"mem": "128Mi"})
    assert time.monotonic() - started < 10  # stopped, not left to hold its memory for 30 s
    assert answer["status"] == "FAILED"
    error = answer["error"]
    assert error["kind"] == "USER" and error["type"] == "OutOfMemoryError" and not error["recoverable"]
    assert error["message"].startswith(f"task `{hog.name}` used ")
    assert "at its peak, over its memory limit of 128 MiB (limits=Resources(mem='128Mi'))" in error["message"]
    assert error["message"].endswith("raise the limit or use less memory")
    peak = int(error["message"].split(" used ")[1].split(" MiB")[0].replace(",", ""))
    assert 128 < peak < 320
    assert answer["usage"]["mem_peak"] > 128 * MiB
    assert "over its memory limit" in store.read_text(answer["logs_uri"])[0]

    # The same worker process runs the next task, and the stopped attempt's memory is given back.
    assert list(client.scheduler_info()["workers"]) == [address]
    nxt = attempt(client, store, pid, {})
    assert nxt["status"] == "SUCCEEDED" and nxt["outputs"]["o0"]["literal"] == first_pid
    assert worker_rss(client) < before + 64 * MiB


def test_an_attempt_under_its_memory_limit_succeeds(client: Client, store: ObjectStore) -> None:
    answer = attempt(client, store, hog, {"megabytes": 64, "hold": 0.3}, limits={"mem": "256Mi"})
    assert answer["status"] == "SUCCEEDED", answer.get("error")
    assert 60 * MiB <= answer["usage"]["mem_peak"] < 128 * MiB  # 64 MiB, less what the process reused


def test_a_child_process_over_the_limit_counts_and_is_killed(client: Client, store: ObjectStore) -> None:
    started = time.monotonic()
    answer = attempt(client, store, hog_in_a_child, {"megabytes": 300}, limits={"mem": "128Mi"})
    assert time.monotonic() - started < 15  # the child was killed, not left to sleep for a minute
    assert answer["status"] == "FAILED" and answer["error"]["type"] == "OutOfMemoryError"
    assert "over its memory limit of 128 MiB" in answer["error"]["message"]
    (left,) = client.run(children_running, "bytearray(300").values()
    assert left == []
    assert attempt(client, store, pid, {})["status"] == "SUCCEEDED"


def test_memory_is_what_the_attempt_allocated_not_the_worker(client: Client, store: ObjectStore) -> None:
    baseline = worker_rss(client)
    assert baseline > 60 * MiB  # a Dask worker with plait loaded
    small = attempt(client, store, rest, {"seconds": 0.3})["usage"]
    assert small["mem_peak"] < 16 * MiB
    big = attempt(client, store, hog, {"megabytes": 192, "hold": 0.4})["usage"]
    assert 180 * MiB <= big["mem_peak"] < 192 * MiB + 48 * MiB
    assert big["mem_avg"] <= big["mem_peak"]


def test_cpu_is_the_attempts_own(client: Client, store: ObjectStore) -> None:
    """A busy attempt and a sleeping one share the worker process: each records its own CPU."""
    busy = client.submit(worker.run_attempt, payload(store, spin, {"seconds": 1.5}), pure=False)
    time.sleep(0.2)
    idle = attempt(client, store, rest, {"seconds": 1.0})
    busy_answer = busy.result(60)
    assert busy_answer["status"] == idle["status"] == "SUCCEEDED"
    assert busy_answer["worker"] == idle["worker"]
    assert idle["usage"]["cpu_avg"] < 0.1, idle["usage"]  # while the process used about a core

    # The busy one: about a core (less on a loaded machine), and what its thread itself used.
    used = busy_answer["outputs"]["o0"]["literal"]
    recorded = busy_answer["usage"]["cpu_avg"] * (busy_answer["ended"] - busy_answer["started"])
    assert used > 0.5 and abs(recorded - used) < 0.05 + 0.1 * used, (used, busy_answer["usage"])
    assert busy_answer["usage"]["cpu_avg"] <= busy_answer["usage"]["cpu_peak"] <= 1.1


def test_a_timeout_still_stops_the_attempt(client: Client, store: ObjectStore) -> None:
    answer = attempt(client, store, spin, {"seconds": 30.0}, timeout=0.5)
    assert answer["status"] == "TIMED_OUT"
    assert answer["error"]["message"] == (f"task `{spin.name}` ran past its timeout of 0.5s and was stopped; "
                                          "raise `timeout` or make the task faster")
    assert attempt(client, store, pid, {})["status"] == "SUCCEEDED"


# ------------------------------------------------------------------ GPUs (NVML)


class FakeNvml(types.ModuleType):
    """Answers as pynvml does for two devices: util 30% and 70%, 1 GiB and 3 GiB in use."""

    def __init__(self) -> None:
        super().__init__("pynvml")
        self.devices = {0: (30, 1 << 30), 1: (70, 3 << 30), "GPU-abc": (50, 2 << 30)}

    def nvmlInit(self) -> None:  # noqa: N802 - pynvml's names
        pass

    def nvmlDeviceGetCount(self) -> int:  # noqa: N802
        return 2

    def nvmlDeviceGetHandleByIndex(self, index: int) -> Any:  # noqa: N802
        return index

    def nvmlDeviceGetHandleByUUID(self, uuid: str) -> Any:  # noqa: N802
        if uuid not in self.devices:
            raise RuntimeError("NVML_ERROR_NOT_FOUND")
        return uuid

    def nvmlDeviceGetUtilizationRates(self, handle: Any) -> Any:  # noqa: N802
        return types.SimpleNamespace(gpu=self.devices[handle][0], memory=0)

    def nvmlDeviceGetMemoryInfo(self, handle: Any) -> Any:  # noqa: N802
        return types.SimpleNamespace(used=self.devices[handle][1], total=80 << 30, free=0)


@pytest.fixture
def fake_nvml(monkeypatch: pytest.MonkeyPatch) -> FakeNvml:
    fake = FakeNvml()
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    monkeypatch.setattr(usage_module, "_nvml", {})
    return fake


@pytest.fixture
def local_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ObjectStore:
    # A worker wraps sys.stdout and sys.stderr once per process; pytest swaps them per test.
    monkeypatch.setattr(sys, "stdout", sys.stdout)
    monkeypatch.setattr(sys, "stderr", sys.stderr)
    monkeypatch.setattr(worker, "_routers", None)
    return ObjectStore(str(tmp_path / "data"))


def test_gpu_figures_are_read_from_nvml_for_the_visible_devices(
        fake_nvml: FakeNvml, local_store: ObjectStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading and summing NVML's answers only: the device is a fake pynvml module (no GPU here)."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1,GPU-abc,GPU-unknown")
    answer = worker.run_attempt(payload(local_store, rest, {"seconds": 0.6}))
    assert answer["status"] == "SUCCEEDED"
    got = answer["usage"]
    assert got["gpu_util_avg"] == got["gpu_util_peak"] == 60.0  # the mean of devices 1 and GPU-abc
    assert got["gpu_mem_avg"] == got["gpu_mem_peak"] == float(5 << 30)

    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")  # unset: every device NVML counts
    every = worker.run_attempt(payload(local_store, rest, {"seconds": 0.0}))["usage"]
    assert every["gpu_util_peak"] == 50.0 and every["gpu_mem_peak"] == float(4 << 30)


def test_no_gpu_figures_without_visible_devices_or_nvml(
        fake_nvml: FakeNvml, local_store: ObjectStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    hidden = worker.run_attempt(payload(local_store, rest, {"seconds": 0.0}))["usage"]
    assert not any(k.startswith("gpu_") for k in hidden)

    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    monkeypatch.setitem(sys.modules, "pynvml", None)  # nvidia-ml-py not installed
    monkeypatch.setattr(usage_module, "_nvml", {})
    absent = worker.run_attempt(payload(local_store, rest, {"seconds": 0.0}))["usage"]
    assert not any(k.startswith("gpu_") for k in absent)


# ------------------------------------------------------------------ through a real server

PROGRAM = '''
import time

import plait
from plait import Resources

MiB = 1024 * 1024


@plait.task(limits=Resources(mem="128Mi"))
def greedy(megabytes: int) -> int:
    blocks = [bytearray(16 * MiB) for _ in range(megabytes // 16)]
    time.sleep(0.5)
    return len(blocks)


@plait.task
def unlimited(megabytes: int) -> int:
    blocks = []
    for _ in range(megabytes // 16):
        blocks.append(bytearray(16 * MiB))
        time.sleep(0.005)
    time.sleep(0.5)
    return len(blocks)


@plait.workflow
def capped(megabytes: int) -> int:
    return unlimited(megabytes=megabytes).with_overrides(limits=Resources(mem="96Mi"))
'''


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    folder = tmp_path_factory.mktemp("limited")
    program = folder / "limited.py"
    program.write_text(PROGRAM)
    with running_server(folder / "home") as server, server.remote() as client:
        client.register(str(program))
        yield client


@pytest.mark.slow
def test_a_tasks_memory_limit_reaches_its_attempts(remote: Any) -> None:
    run = remote.execute(remote.fetch_task("limited.greedy"), {"megabytes": 256}, wait=True, timeout=60)
    assert run.phase == "FAILED"
    (node,) = run.nodes()
    assert [(a["phase"], a["error_kind"]) for a in node.attempts] == [("FAILED", "USER")]  # not retried
    assert "over its memory limit of 128 MiB (limits=Resources(mem='128Mi'))" in str(run.error)


@pytest.mark.slow
def test_a_nodes_limits_override_reaches_its_attempts(remote: Any) -> None:
    run = remote.execute(remote.fetch_workflow("limited.capped"), {"megabytes": 192}, wait=True, timeout=60)
    assert run.phase == "FAILED"
    assert "over its memory limit of 96 MiB (limits=Resources(mem='96Mi'))" in str(run.error)
    fine = remote.execute(remote.fetch_workflow("limited.capped"), {"megabytes": 32}, wait=True, timeout=60)
    assert fine.phase == "SUCCEEDED" and fine.outputs == {"o0": 2}
    (node,) = fine.nodes()
    assert 30 * MiB <= node.attempts[0]["mem_peak"] < 96 * MiB  # 32 MiB, less what the process reused
