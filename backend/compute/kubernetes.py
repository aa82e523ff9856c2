"""The executor's Dask cluster on Kubernetes, through the dask-kubernetes operator.

`KubernetesCluster(cluster_file).start()` creates the DaskCluster and one DaskWorkerGroup
per pool (manifests.py) as resources of the operator, which makes the pods; the executor
then connects a Dask `Client` to the scheduler's tls:// address with the cluster's
certificates. `close()` deletes the DaskCluster; the operator has adopted the worker groups,
so Kubernetes removes them and every pod with it.

Why not `dask_kubernetes.operator.KubeCluster(custom_cluster_spec=...)`: it reaches the
scheduler through a `tcp://` address and a Dask `rpc` without TLS arguments
(`operator/networking.py`: `get_scheduler_address`, `wait_for_scheduler_comm`), so against
a scheduler that requires TLS it waits forever (tests/compute/test_kubernetes.py shows it
on a real TLS scheduler). The resources it would create are the same ones, made with the
operator's own `make_cluster_spec` / `make_worker_spec`.

The Kubernetes API is reached through `OperatorApi`; `default_api()` is kr8s, the client
dask-kubernetes uses (in a pod: its service account, made by the manifests; elsewhere: the
kubeconfig). Tests put a stand-in there, since they have no Kubernetes API.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

from .cluster_file import ClusterFile
from .manifests import dask_cluster, worker_group

log = logging.getLogger(__name__)

TIMEOUT_S = 300.0  # the scheduler's pod may wait for a node and pull an image


class OperatorApi(Protocol):
    """The few Kubernetes calls the executor makes."""

    def exists(self, resource: dict[str, Any]) -> bool: ...

    def create(self, resource: dict[str, Any]) -> None: ...

    def delete(self, resource: dict[str, Any]) -> None: ...

    def scheduler_address(self, cluster: ClusterFile) -> str:
        """Where a Dask client reaches the scheduler (tls://)."""
        ...


class Kr8sApi:
    """The Kubernetes API through kr8s."""

    @staticmethod
    def _object(resource: dict[str, Any]) -> Any:
        from kr8s.objects import new_class

        kind = new_class(resource["kind"], resource["apiVersion"], namespaced=True)
        return kind(resource, namespace=resource["metadata"]["namespace"])

    def exists(self, resource: dict[str, Any]) -> bool:
        return bool(self._object(resource).exists())

    def create(self, resource: dict[str, Any]) -> None:
        self._object(resource).create()

    def delete(self, resource: dict[str, Any]) -> None:
        self._object(resource).delete()

    def scheduler_address(self, cluster: ClusterFile) -> str:
        assert cluster.kubernetes is not None
        return cluster.kubernetes.scheduler_address


def default_api() -> OperatorApi:
    return Kr8sApi()


class KubernetesCluster:
    """The Dask cluster of a kubernetes cluster file, as the executor holds a cluster it made."""

    def __init__(self, cluster: ClusterFile, api: OperatorApi | None = None, *,
                 timeout_s: float = TIMEOUT_S) -> None:
        if cluster.kubernetes is None:
            raise ValueError(f"{cluster.source} is of kind {cluster.kind}, not kubernetes")
        self.spec = cluster
        self.api = api if api is not None else default_api()
        self.timeout_s = timeout_s
        self.resources = [dask_cluster(cluster), *(worker_group(cluster, pool) for pool in cluster.pools)]
        self.scheduler_address: str | None = None
        k8s = cluster.kubernetes
        # Plain HTTP inside the cluster, as the operator's probes and scaling read it.
        self.dashboard_upstream = f"http://{k8s.scheduler_service}.{k8s.namespace}.svc.{k8s.cluster_domain}:8787"

    @property
    def name(self) -> str:
        return str(self.resources[0]["metadata"]["name"])

    def start(self) -> str:
        """Create the DaskCluster and its worker groups; the scheduler's address. A DaskCluster
        of this name left by a server that stopped without closing it is replaced."""
        cluster = self.resources[0]
        if self.api.exists(cluster):
            log.warning("replacing the DaskCluster %s left by an earlier server", self.name)
            self.api.delete(cluster)
            deadline = time.monotonic() + self.timeout_s
            while self.api.exists(cluster):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the DaskCluster {self.name} of an earlier server was not deleted "
                                       f"within {self.timeout_s:.0f} s; delete it with `kubectl delete "
                                       f"daskcluster {self.name}` and start again")
                time.sleep(1.0)
        for resource in self.resources:
            self.api.create(resource)
        self.scheduler_address = self.api.scheduler_address(self.spec)
        return self.scheduler_address

    def close(self) -> None:
        try:
            self.api.delete(self.resources[0])
        except Exception:  # noqa: BLE001 - best effort on the way out; the message says what is left
            log.exception("deleting the DaskCluster %s failed: delete it with kubectl", self.name)
