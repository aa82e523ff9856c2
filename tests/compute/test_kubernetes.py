"""The executor's cluster on Kubernetes: what it asks of the API, and why it does not go through
`KubeCluster` (which cannot reach a scheduler that requires TLS)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from distributed import Scheduler
from plait.backend.compute import loads
from plait.backend.compute.kubernetes import KubernetesCluster
from plait.backend.security import ensure_cluster_tls

K8S = """kind: kubernetes
kubernetes:
  image: ghcr.io/you/plait:0.1.0
  backend: {database_secret: plait-db, storage_url: "s3://b/p"}
pools: [{name: cpu}, {name: big, resources: {mem: 8Gi}}]
"""


class Recording:
    """The Kubernetes API, recorded; `left` DaskClusters exist until deleted (after `lag` asks)."""

    def __init__(self, left: bool = False, lag: int = 0) -> None:
        self.calls: list[tuple[str, str]] = []
        self.left, self.lag = left, lag

    def exists(self, resource: dict[str, Any]) -> bool:
        self.calls.append(("exists", resource["metadata"]["name"]))
        if self.left and self.calls.count(("delete", "plait")):
            self.lag -= 1
            self.left = self.lag > 0
        return self.left

    def create(self, resource: dict[str, Any]) -> None:
        self.calls.append(("create", resource["metadata"]["name"]))

    def delete(self, resource: dict[str, Any]) -> None:
        self.calls.append(("delete", resource["metadata"]["name"]))

    def scheduler_address(self, cluster: Any) -> str:
        return str(cluster.kubernetes.scheduler_address)


def test_start_creates_the_cluster_then_its_worker_groups_and_close_deletes_the_cluster() -> None:
    api = Recording()
    cluster = KubernetesCluster(loads(K8S), api)
    assert cluster.start() == "tls://plait-scheduler.default.svc.cluster.local:8786"
    assert cluster.dashboard_upstream == "http://plait-scheduler.default.svc.cluster.local:8787"
    cluster.close()
    assert api.calls == [("exists", "plait"), ("create", "plait"), ("create", "plait-cpu"),
                         ("create", "plait-big"), ("delete", "plait")]


def test_a_cluster_left_by_an_earlier_server_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    api = Recording(left=True, lag=2)
    KubernetesCluster(loads(K8S), api).start()
    assert api.calls[:5] == [("exists", "plait"), ("delete", "plait"), ("exists", "plait"), ("exists", "plait"),
                             ("create", "plait")]
    stuck = Recording(left=True, lag=10**9)
    with pytest.raises(TimeoutError, match=r"the DaskCluster plait of an earlier server was not deleted within "
                                           r"0 s; delete it with `kubectl delete daskcluster plait`"):
        KubernetesCluster(loads(K8S), stuck, timeout_s=0).start()


def test_kubecluster_cannot_reach_a_scheduler_that_requires_tls(tmp_path: Path) -> None:
    """dask-kubernetes' KubeCluster waits for its scheduler with `wait_for_scheduler_comm` on the
    tcp:// address it builds, with no TLS arguments: against a TLS scheduler that never ends.
    When this test fails, dask-kubernetes has learnt TLS and kubernetes.py may use KubeCluster."""
    from dask_kubernetes.operator.networking import wait_for_scheduler_comm

    security = ensure_cluster_tls(tmp_path).security()

    async def attempt() -> None:
        async with Scheduler(protocol="tls", host="127.0.0.1", port=0, security=security,
                             dashboard=False) as scheduler:
            port = scheduler.address.rsplit(":", 1)[1]
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(wait_for_scheduler_comm(f"tcp://127.0.0.1:{port}"), timeout=3)

    asyncio.run(attempt())
