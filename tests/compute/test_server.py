"""`plait server --cluster FILE`: a bad file stops the start with its message; a local file of
one CPU pool sizes the embedded cluster; a kubernetes file makes its Dask cluster through the
operator (here a stand-in that runs the pods' own commands: tests have no Kubernetes API)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from plait.backend.compute import load, manifests
from plait.backend.security import ensure_cluster_tls
from plait.model.home import ensure_private, open_file_private
from server_fixture import ServerProcess, _wait_until_ready, stop

HERE = Path(__file__).parent
PROGRAM = HERE.parent / "resources" / "compute" / "pools.py"
K8S = """\
kind: kubernetes
kubernetes:
  name: lab
  namespace: ml
  image: ghcr.io/you/plait:0.1.0
  backend: {database_secret: plait-db, storage_url: "s3://bucket/plait"}
pools:
  - name: cpu
    resources: {cpu: 1, mem: 1Gi}
    min_workers: 1
  - name: gpu
    resources: {cpu: 1, mem: 1Gi, gpu: 1, accelerator: T4}
    min_workers: 1
"""


def start_failure(tmp_path: Path, text: str, *args: str) -> str:
    """What `plait server --cluster` says when it refuses to start (it must refuse quickly)."""
    path = tmp_path / "cluster.yaml"
    path.write_text(text)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLAIT_")}
    done = subprocess.run([sys.executable, "-m", "plait", "server", "--port", "0", "--home", str(tmp_path / "home"),
                           "--cluster", str(path), *args], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert not (tmp_path / "home" / "server.json").exists()
    return done.stderr.strip().splitlines()[-1]


def test_a_bad_cluster_file_stops_the_start_with_its_message(tmp_path: Path) -> None:
    said = start_failure(tmp_path, "kind: local\npools:\n  - name: cpu\n  - name: gpu\n    resources: {gpu: two}\n")
    assert said == (
        f"plait server: {tmp_path}/cluster.yaml: pools[1].resources.gpu: expected a whole number of GPUs such as "
        "1, found 'two' (a string); GPUs are whole devices on Kubernetes: write a whole number, and give a MIG "
        "partition with `partition:` for a slice")


def test_a_local_pool_named_by_a_container_image_is_refused(tmp_path: Path) -> None:
    said = start_failure(tmp_path, "kind: local\npools:\n  - name: cpu\n  - name: gpu\n"
                                   "    environment: ghcr.io/acme/train:1\n")
    assert said == (
        f"plait server: {tmp_path}/cluster.yaml: pools[1].environment: expected default or ImageSpec fields on "
        "kind: local (a local pool runs a virtual environment built from them), found 'ghcr.io/acme/train:1'; "
        "describe the environment with ImageSpec fields (packages: [...]), or run this pool with kind: kubernetes")


def test_a_kubernetes_file_needs_the_clusters_client_certificate_and_no_other_scheduler(tmp_path: Path) -> None:
    said = start_failure(tmp_path, K8S)
    assert said == (
        f"plait server: --cluster {tmp_path}/cluster.yaml runs Dask on Kubernetes, whose scheduler speaks TLS "
        "only: give --dask-tls-ca-file, --dask-tls-cert, --dask-tls-key (or PLAIT_DASK_TLS_CA_FILE, "
        "PLAIT_DASK_TLS_CERT, PLAIT_DASK_TLS_KEY), the files of the secret plait-dask-tls (the Deployment of "
        "`plait cluster manifests` mounts it and sets them); found none of them")
    said = start_failure(tmp_path, K8S, "--dask-scheduler", "tcp://10.0.0.5:8786")
    assert said == (
        f"plait server: --cluster {tmp_path}/cluster.yaml declares the compute and --dask-scheduler "
        "(PLAIT_DASK_SCHEDULER) names a scheduler to use instead: give one of them")


def health(server: ServerProcess) -> dict[str, Any]:
    answer = httpx.get(f"{server.url}/api/v1/health", headers={"Authorization": f"Bearer {server.token}"})
    answer.raise_for_status()
    return dict(answer.json())


@pytest.fixture(scope="module")
def on_kubernetes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Path, Path]]:
    """A real `plait server --cluster k8s.yaml` whose Kubernetes API is the stand-in."""
    folder = tmp_path_factory.mktemp("k8s")
    home = ensure_private(folder / "home")
    cluster = folder / "cluster.yaml"
    cluster.write_text(K8S)
    tls = ensure_cluster_tls(folder / "certificates")  # the secret's files, as mounted in the pods
    record = folder / "record.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLAIT_")} | {"PLAIT_HOME": str(home)}
    with os.fdopen(open_file_private(home / "server.log"), "ab") as log:
        process = subprocess.Popen(
            [sys.executable, str(HERE / "kube_standin.py"), str(record), str(tls.ca_file.parent),
             "server", "--port", "0", "--cluster", str(cluster), "--dask-tls-ca-file", str(tls.ca_file),
             "--dask-tls-cert", str(tls.cert), "--dask-tls-key", str(tls.key)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        yield _wait_until_ready(home, process), cluster, record
    finally:
        stop(process, home)
        calls = [json.loads(line) for line in record.read_text().splitlines()]
        assert calls[-1]["op"] == "delete" and calls[-1]["resource"]["kind"] == "DaskCluster"


def test_the_server_creates_the_dask_cluster_and_a_worker_group_per_pool(
        on_kubernetes: tuple[ServerProcess, Path, Path]) -> None:
    server, cluster, record = on_kubernetes
    calls = [json.loads(line) for line in record.read_text().splitlines()]
    assert [(c["op"], c["resource"]["kind"], c["resource"]["metadata"]["name"]) for c in calls] == [
        ("exists", "DaskCluster", "lab"), ("create", "DaskCluster", "lab"),
        ("create", "DaskWorkerGroup", "lab-cpu"), ("create", "DaskWorkerGroup", "lab-gpu")]
    assert [c["resource"] for c in calls[1:]] == manifests(load(cluster))[-3:]
    wanted = {"pool-cpu": 1.0, "pool-gpu": 1.0, "GPU": 1.0, "accelerator-nvidia-tesla-t4": 1.0}
    deadline = time.monotonic() + 60
    while True:  # the workers' pods join when they are up
        offered = health(server)["worker_resources"]
        if {k: offered.get(k) for k in wanted} == wanted or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert {k: offered.get(k) for k in wanted} == wanted, server.log_tail()


def test_a_gpu_task_runs_on_the_gpu_pools_worker_over_tls(on_kubernetes: tuple[ServerProcess, Path, Path]) -> None:
    server = on_kubernetes[0]
    with server.remote() as remote:
        remote.register(str(PROGRAM))
        ran = remote.execute(remote.fetch_task("pools.where_gpu"), {}, wait=True, timeout=120)
        assert ran.phase == "SUCCEEDED", ran.error
        assert ran.outputs["o0"] == "lab-gpu-0"
