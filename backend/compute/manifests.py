"""A cluster file of kind kubernetes as Kubernetes resources.

    dask_cluster(c)        the DaskCluster of the dask-kubernetes operator: the scheduler (TLS) and
                           an empty default worker group
    worker_group(c, pool)  one DaskWorkerGroup per pool: its image, requests and limits, GPUs
                           (`nvidia.com/gpu`, or `nvidia.com/mig-<profile>` for a MIG partition), the
                           accelerator's node selector, spot affinity and tolerations, the pool's pod
                           template merged in (templates.py), `dask worker --nthreads --resources`
    backend(c)             the plait backend itself: ServiceAccount, Role and RoleBinding (it manages
                           the DaskCluster and DaskWorkerGroups), the cluster file as a ConfigMap, a
                           Deployment of `plait server --cluster`, its Service
    manifests(c)           all of them in the order `kubectl apply` wants; `to_yaml` one stream

The operator's `make_cluster_spec` / `make_worker_spec` make the skeletons; plait fills in
what they leave out (ENVIRONMENT.md: their `resources=` would go to the scheduler too, and
they add no Dask resources for GPUs). Every process of the Dask cluster speaks TLS with
the certificates of the secret `kubernetes.tls_secret` (keys ca.pem, dask.pem, dask-key.pem),
mounted at TLS_DIR.
"""

from __future__ import annotations

import copy
from typing import Any

from plait.model import home as layout

from .cluster_file import ClusterFile, Kubernetes, Pool
from .templates import merge_pod_spec

TLS_DIR = "/etc/plait/tls"
CONFIG_DIR = "/etc/plait"
CLUSTER_FILE_KEY = "cluster.yaml"
TOKEN_DIR = "/etc/plait/token"
HOME_ROOT = "/var/lib/plait"
HOME = f"{HOME_ROOT}/home"
PART_OF = {"app.kubernetes.io/part-of": "plait"}
POOL_LABEL = "plait.dev/pool"
API_VERSION = "kubernetes.dask.org/v1"


def manifests(cluster: ClusterFile) -> list[dict[str, Any]]:
    """Every resource of a kubernetes cluster file, in the order to apply them."""
    _kubernetes(cluster)
    return [*backend(cluster), dask_cluster(cluster), *(worker_group(cluster, p) for p in cluster.pools)]


def to_yaml(resources: list[dict[str, Any]]) -> str:
    import yaml

    return yaml.safe_dump_all(resources, sort_keys=False, default_flow_style=False)


# ------------------------------------------------------------------ the Dask cluster


def dask_tls_env() -> list[dict[str, str]]:
    """Dask configuration, as variables, that makes a process speak TLS only, with the mounted
    certificates in every role (scheduler, worker, client), as the embedded cluster does."""
    ca, cert, key = (f"{TLS_DIR}/{name}" for name in (layout.TLS_CA, layout.TLS_CERT, layout.TLS_KEY))
    env = [{"name": "DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION", "value": "True"},
           {"name": "DASK_DISTRIBUTED__COMM__TLS__CA_FILE", "value": ca}]
    for role in ("SCHEDULER", "WORKER", "CLIENT"):
        env += [{"name": f"DASK_DISTRIBUTED__COMM__TLS__{role}__CERT", "value": cert},
                {"name": f"DASK_DISTRIBUTED__COMM__TLS__{role}__KEY", "value": key}]
    return env


def _tls_volume(k8s: Kubernetes) -> dict[str, Any]:
    return {"name": "dask-tls", "secret": {"secretName": k8s.tls_secret, "defaultMode": 0o440}}


_TLS_MOUNT = {"name": "dask-tls", "mountPath": TLS_DIR, "readOnly": True}


def dask_cluster(cluster: ClusterFile) -> dict[str, Any]:
    """The DaskCluster: a TLS scheduler; its default worker group is empty (pools are groups)."""
    from dask_kubernetes.operator import make_cluster_spec

    k8s = _kubernetes(cluster)
    scheduler_env = [*dask_tls_env(),
                     # A lost worker's attempt comes back to the executor at once (SYSTEM retry).
                     {"name": "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES", "value": "0"}]
    needs = _requirements(k8s.scheduler.cpu, k8s.scheduler.mem)
    spec = make_cluster_spec(name=k8s.name, image=k8s.image, n_workers=0,
                             resources={"requests": needs, "limits": needs} if needs else None,
                             env=scheduler_env, worker_command=["dask", "worker"],
                             scheduler_service_type=k8s.scheduler.service_type)
    spec["metadata"].update(namespace=k8s.namespace, labels=dict(PART_OF))
    scheduler = spec["spec"]["scheduler"]["spec"]
    container = scheduler["containers"][0]
    container["args"] = ["dask", "scheduler", "--host", "0.0.0.0", "--protocol", "tls"]
    _finish_pod(k8s, scheduler, container)
    spec["spec"]["worker"] = _worker_spec(k8s, image=k8s.image, replicas=0, command=["dask", "worker"],
                                          env=_worker_env(k8s, k8s.image), resources=None)
    spec["spec"]["worker"]["metadata"] = {"labels": dict(PART_OF)}
    return _clean(spec)


def worker_group(cluster: ClusterFile, pool: Pool) -> dict[str, Any]:
    """The pool's DaskWorkerGroup (named `<cluster>-<pool>`, as KubeCluster names added groups)."""
    k8s = _kubernetes(cluster)
    shape = pool.resources
    image = pool.environment.image_name(k8s.image)
    tags = ",".join(f"{name}={amount:g}" for name, amount in pool.dask_resources().items())
    command = ["dask", "worker", "--nthreads", str(pool.threads),
               "--memory-limit", str(shape.mem_bytes or "auto"), "--resources", tags]
    limits = _requirements(shape.cpu, shape.mem)
    gpus = {}
    if shape.gpu:
        gpus = {f"nvidia.com/mig-{shape.partition}" if shape.partition else "nvidia.com/gpu": str(shape.gpu)}
    resources = {"limits": {**limits, **gpus}} if limits or gpus else None
    if resources and limits:  # GPUs in limits only (Kubernetes requests as many as the limit)
        resources["requests"] = limits
    env = [*_worker_env(k8s, image), {"name": "PLAIT_POOL", "value": pool.name}]
    worker = _worker_spec(k8s, image=image, replicas=pool.min_workers, command=command, env=env,
                          resources=resources)
    pod = worker["spec"]
    selector = {}
    if shape.accelerator:
        selector[k8s.accelerator_label] = shape.accelerator
        if shape.partition and k8s.partition_label:
            selector[k8s.partition_label] = shape.partition
    if selector:
        pod["nodeSelector"] = selector
    tolerations = [*(k8s.gpu_tolerations if shape.gpu else ()),
                   *(k8s.interruptible.tolerations if pool.interruptible else ())]
    if tolerations:
        pod["tolerations"] = [dict(t) for t in tolerations]
    spot = k8s.interruptible.node_labels
    if spot:
        # Interruptible pools run on any spot node (terms are alternatives); the others on none.
        terms = ([{"matchExpressions": [{"key": k, "operator": "In", "values": [v]}]} for k, v in spot.items()]
                 if pool.interruptible else
                 [{"matchExpressions": [{"key": k, "operator": "NotIn", "values": [v]} for k, v in spot.items()]}])
        pod["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
                                            {"nodeSelectorTerms": terms}}}
    labels = {**PART_OF, POOL_LABEL: pool.name}
    annotations: dict[str, str] = {}
    template = pool.pod_template
    if template is not None:
        worker["spec"] = merge_pod_spec(template.pod_spec_json(), pod,
                                        primary=template.primary_container_name, container="worker")
        labels = {**(template.labels or {}), **labels}
        annotations = dict(template.annotations or {})
    worker["metadata"] = {"labels": labels, **({"annotations": annotations} if annotations else {})}
    return _clean({
        "apiVersion": API_VERSION,
        "kind": "DaskWorkerGroup",
        "metadata": {
            "name": f"{k8s.name}-{pool.name}",
            "namespace": k8s.namespace,
            "labels": {**PART_OF, POOL_LABEL: pool.name},
            # What the pool runtime scales by (the operator reads none of it).
            "annotations": {"plait.dev/min-workers": str(pool.min_workers),
                            "plait.dev/max-workers": str(pool.max_workers),
                            "plait.dev/idle-timeout-seconds": f"{pool.idle_timeout_s:g}",
                            "plait.dev/interruptible": str(pool.interruptible).lower()},
        },
        "spec": {"cluster": k8s.name, "worker": worker},
    })


def _worker_env(k8s: Kubernetes, image: str) -> list[dict[str, str]]:
    # The operator would set a tcp:// address; it keeps one that is there.
    return [{"name": "DASK_SCHEDULER_ADDRESS", "value": k8s.scheduler_address}, *dask_tls_env(),
            {"name": "PLAIT_IMAGE_NAME", "value": image}]  # ImageSpec.is_container() reads it


def _worker_spec(k8s: Kubernetes, *, image: str, replicas: int, command: list[str],
                 env: list[dict[str, str]], resources: dict[str, Any] | None) -> dict[str, Any]:
    from dask_kubernetes.operator import make_worker_spec

    worker: dict[str, Any] = make_worker_spec(image=image, n_workers=replicas, resources=resources, env=env,
                                              worker_command=command)
    pod = worker["spec"]
    _finish_pod(k8s, pod, pod["containers"][0])
    return worker


def _finish_pod(k8s: Kubernetes, pod: dict[str, Any], container: dict[str, Any]) -> None:
    """What every pod of the Dask cluster has: the TLS secret, pulls, the shared secrets."""
    pod.setdefault("volumes", []).append(_tls_volume(k8s))
    container.setdefault("volumeMounts", []).append(dict(_TLS_MOUNT))
    container["imagePullPolicy"] = k8s.image_pull_policy
    if k8s.env_from_secrets:
        container["envFrom"] = [{"secretRef": {"name": name}} for name in k8s.env_from_secrets]
    if k8s.image_pull_secrets:
        pod["imagePullSecrets"] = [{"name": name} for name in k8s.image_pull_secrets]


def _requirements(cpu: str | None, mem: str | None) -> dict[str, str]:
    return {k: v for k, v in (("cpu", cpu), ("memory", mem)) if v is not None}


# ------------------------------------------------------------------ the backend


def backend(cluster: ClusterFile) -> list[dict[str, Any]]:
    """The plait backend on Kubernetes: its account and rights, the cluster file, its Deployment
    and Service. Its database URL and token come from secrets (`backend.database_secret`,
    `backend.token_secret`); the token is copied into its private home before it starts."""
    k8s = _kubernetes(cluster)
    b = k8s.backend
    name = f"{k8s.name}-backend"
    meta = {"namespace": k8s.namespace, "labels": {**PART_OF, "app.kubernetes.io/name": "plait-backend",
                                                   "app.kubernetes.io/instance": k8s.name}}
    selector = {"app.kubernetes.io/name": "plait-backend", "app.kubernetes.io/instance": k8s.name}
    dask_rights = ["get", "list", "watch", "create", "update", "patch", "delete"]
    rules = [
        {"apiGroups": ["kubernetes.dask.org"], "resources": ["daskclusters", "daskworkergroups",
                                                             "daskworkergroups/scale"], "verbs": dask_rights},
        {"apiGroups": [""], "resources": ["pods", "services"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    ]
    tls_env = [{"name": "PLAIT_DASK_TLS_CA_FILE", "value": f"{TLS_DIR}/{layout.TLS_CA}"},
               {"name": "PLAIT_DASK_TLS_CERT", "value": f"{TLS_DIR}/{layout.TLS_CERT}"},
               {"name": "PLAIT_DASK_TLS_KEY", "value": f"{TLS_DIR}/{layout.TLS_KEY}"}]
    container: dict[str, Any] = {
        "name": "backend",
        "image": k8s.image,
        "imagePullPolicy": k8s.image_pull_policy,
        "args": ["plait", "server", "--cluster", f"{CONFIG_DIR}/{CLUSTER_FILE_KEY}",
                 "--host", "0.0.0.0", "--port", str(b.port)],
        "env": [{"name": "PLAIT_HOME", "value": HOME},
                {"name": "PLAIT_DATABASE_URL", "valueFrom": {"secretKeyRef": {
                    "name": b.database_secret.name, "key": b.database_secret.key}}},
                {"name": "PLAIT_SECRETS_KEY", "valueFrom": {"secretKeyRef": {
                    "name": b.secrets_key_secret.name, "key": b.secrets_key_secret.key}}},
                {"name": "PLAIT_STORAGE_URL", "value": b.storage_url}, *tls_env],
        "ports": [{"name": "http", "containerPort": b.port, "protocol": "TCP"}],
        "readinessProbe": {"tcpSocket": {"port": "http"}, "periodSeconds": 5},
        "volumeMounts": [
            {"name": "cluster-file", "mountPath": f"{CONFIG_DIR}/{CLUSTER_FILE_KEY}",
             "subPath": CLUSTER_FILE_KEY, "readOnly": True},
            dict(_TLS_MOUNT),
            {"name": "home", "mountPath": HOME_ROOT},
        ],
    }
    resources = _requirements(b.cpu, b.mem)
    if resources:
        container["resources"] = {"requests": resources, "limits": resources}
    if k8s.env_from_secrets:
        container["envFrom"] = [{"secretRef": {"name": n}} for n in k8s.env_from_secrets]
    # The token file must be the user's own, mode 0600, in a private home: copied from the secret.
    source, target = f"{TOKEN_DIR}/{layout.TOKEN}", f"{HOME}/{layout.TOKEN}"
    copy_token = (f"import os, shutil; os.umask(0o077); os.makedirs({HOME!r}, exist_ok=True); "
                  f"shutil.copyfile({source!r}, {target!r})")
    init = {"name": "token", "image": k8s.image, "imagePullPolicy": k8s.image_pull_policy,
            "command": ["python", "-c", copy_token],
            "volumeMounts": [{"name": "token", "mountPath": TOKEN_DIR, "readOnly": True},
                             {"name": "home", "mountPath": HOME_ROOT}]}
    pod: dict[str, Any] = {
        "serviceAccountName": k8s.service_account,
        "initContainers": [init],
        "containers": [container],
        "volumes": [
            {"name": "cluster-file", "configMap": {"name": f"{k8s.name}-cluster-file"}},
            _tls_volume(k8s),
            {"name": "token", "secret": {"secretName": b.token_secret.name, "defaultMode": 0o440,
                                         "items": [{"key": b.token_secret.key, "path": layout.TOKEN}]}},
            {"name": "home", "emptyDir": {}},
        ],
    }
    if k8s.image_pull_secrets:
        pod["imagePullSecrets"] = [{"name": n} for n in k8s.image_pull_secrets]
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": k8s.service_account, **copy.deepcopy(meta)}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": name, **copy.deepcopy(meta)}, "rules": rules},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": name, **copy.deepcopy(meta)},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
         "subjects": [{"kind": "ServiceAccount", "name": k8s.service_account, "namespace": k8s.namespace}]},
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": f"{k8s.name}-cluster-file", **copy.deepcopy(meta)},
         "data": {CLUSTER_FILE_KEY: cluster.text or ""}},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": name, **copy.deepcopy(meta)},
         "spec": {"replicas": 1, "strategy": {"type": "Recreate"},  # one executor drives the cluster
                  "selector": {"matchLabels": selector},
                  "template": {"metadata": {"labels": {**meta["labels"]}}, "spec": pod}}},
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": name, **copy.deepcopy(meta)},
         "spec": {"type": b.service_type, "selector": selector,
                  "ports": [{"name": "http", "port": b.port, "targetPort": "http", "protocol": "TCP"}]}},
    ]


def _kubernetes(cluster: ClusterFile) -> Kubernetes:
    if cluster.kubernetes is None:
        raise ValueError(f"{cluster.source} is a cluster file of kind {cluster.kind}: Kubernetes "
                         "resources come from kind: kubernetes files only")
    return cluster.kubernetes


def _clean(value: Any) -> Any:
    """Without the None values the operator's templates leave (env, resources not given)."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value
