"""Where tasks run: the cluster file and what it becomes.

    cluster_file.py  the cluster file (YAML): kind local | hosts | kubernetes, its pools and, for
                     Kubernetes, the namespace, images and secrets; `load(path)`, `default_local()`
    templates.py     pod spec merge rules (a pool's pod template into the generated pod)
    manifests.py     a kubernetes cluster file as dask-kubernetes operator resources (DaskCluster,
                     one DaskWorkerGroup per pool) and the backend's own Deployment
    kubernetes.py    the executor's Dask cluster on Kubernetes: those resources created through
                     the operator, its scheduler's TLS address

docs/compute.md describes the format and how a file runs on a Kubernetes cluster.
"""

from __future__ import annotations

from .cluster_file import ClusterFile, ClusterFileError, Pool, default_local, load, loads
from .manifests import manifests, to_yaml

__all__ = ["ClusterFile", "ClusterFileError", "Pool", "default_local", "load", "loads", "manifests",
           "to_yaml"]
