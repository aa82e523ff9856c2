"""A kubernetes cluster file as operator resources: every one fits its schema (the CRDs shipped
in dask-kubernetes, Kubernetes' own through kubernetes-validate), and pools become what the
nodes, the device plugin and the Dask scheduler need."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from k8s_schemas import validate
from plait.backend.compute import load, loads, manifests
from plait.backend.compute.cluster_file import SPOT_NODE_LABELS
from plait.backend.compute.manifests import TLS_DIR
from plait.backend.compute.templates import merge_pod_spec
from plait.cli import main
from plait.config.image_spec import ImageSpec

CLUSTER = """\
# The example of docs/compute.md, trimmed.
kind: kubernetes
kubernetes:
  namespace: ml
  name: lab
  image: ghcr.io/you/plait:0.1.0
  image_pull_secrets: [regcred]
  env_from_secrets: [plait-storage]
  partition_label: k8s.amazonaws.com/gpu-partition-size
  backend:
    database_secret: {name: plait-db, key: url}
    token_secret: plait-token
    storage_url: s3://bucket/plait
pools:
  - name: cpu
    resources: {cpu: 2, mem: 4Gi}
    min_workers: 1
    max_workers: 8
  - name: a100
    environment: ghcr.io/you/train:1.0
    resources: {cpu: 8, mem: 32Gi, gpu: 2, accelerator: A100, partition: 1g.5gb}
    interruptible: true
    threads: 2
    pod_template:
      labels: {team: vision}
      annotations: {owner: ada}
      pod_spec:
        nodeSelector: {topology.kubernetes.io/zone: eu-west-1a}
        tolerations: [{key: dedicated, operator: Equal, value: ml, effect: NoSchedule}]
        affinity:
          nodeAffinity:
            requiredDuringSchedulingIgnoredDuringExecution:
              nodeSelectorTerms:
                - matchExpressions: [{key: node.kubernetes.io/instance-type, operator: In, values: [p4d.24xlarge]}]
        volumes: [{name: scratch, emptyDir: {}}]
        containers:
          - name: primary
            image: ignored/by-plait:1
            env: [{name: HF_HOME, value: /scratch/hf}]
            volumeMounts: [{name: scratch, mountPath: /scratch}]
          - name: log-shipper
            image: fluent/fluent-bit:3
  - name: l4
    environment: {name: infer, registry: ghcr.io/you, packages: [torch]}
    resources: {gpu: 1, accelerator: L4}
"""


@pytest.fixture(scope="module")
def resources() -> list[dict[str, Any]]:
    return manifests(loads(CLUSTER, source="cluster.yaml"))


def by_name(resources: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name)


def worker_pod(resources: list[dict[str, Any]], pool: str) -> dict[str, Any]:
    return by_name(resources, "DaskWorkerGroup", f"lab-{pool}")["spec"]["worker"]["spec"]


def container(pod: dict[str, Any], name: str = "worker") -> dict[str, Any]:
    return next(c for c in pod["containers"] if c["name"] == name)


def env(c: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in c.get("env", [])}


def test_the_stream_holds_the_backend_the_cluster_and_a_worker_group_per_pool(resources: list[dict[str, Any]]) -> None:
    assert [(r["kind"], r["metadata"]["name"]) for r in resources] == [
        ("ServiceAccount", "plait"), ("Role", "lab-backend"), ("RoleBinding", "lab-backend"),
        ("ConfigMap", "lab-cluster-file"), ("Deployment", "lab-backend"), ("Service", "lab-backend"),
        ("DaskCluster", "lab"), ("DaskWorkerGroup", "lab-cpu"), ("DaskWorkerGroup", "lab-a100"),
        ("DaskWorkerGroup", "lab-l4")]
    assert {r["metadata"]["namespace"] for r in resources} == {"ml"}


@pytest.mark.parametrize("index", range(10))
def test_every_resource_fits_its_schema(resources: list[dict[str, Any]], index: int) -> None:
    validate(resources[index])


@pytest.mark.parametrize(("kind", "change", "complaint"), [
    ("DaskWorkerGroup", lambda r: r["spec"]["worker"]["spec"]["containers"][0].update(resources={"cpu": "1"}),
     "'cpu' was unexpected"),
    ("DaskWorkerGroup", lambda r: r["spec"].pop("cluster"), "'cluster' is a required property"),
    ("DaskCluster", lambda r: r["spec"]["scheduler"].pop("service"), "'service' is a required property"),
    ("Deployment", lambda r: r["spec"]["template"]["spec"].update(nodeSelectr={}), "'nodeSelectr' was unexpected"),
])
def test_the_schemas_catch_what_the_api_server_would_refuse(
        resources: list[dict[str, Any]], kind: str, change: Any, complaint: str) -> None:
    broken = copy.deepcopy(next(r for r in resources if r["kind"] == kind))
    change(broken)
    with pytest.raises(jsonschema.ValidationError, match=complaint):
        validate(broken)


def test_gpu_pools_ask_for_devices_mig_slices_and_accelerator_nodes(resources: list[dict[str, Any]]) -> None:
    a100, l4, cpu = (container(worker_pod(resources, p)) for p in ("a100", "l4", "cpu"))
    assert a100["resources"] == {"requests": {"cpu": "8", "memory": "32Gi"},
                                 "limits": {"cpu": "8", "memory": "32Gi", "nvidia.com/mig-1g.5gb": "2"}}
    assert l4["resources"] == {"limits": {"nvidia.com/gpu": "1"}}  # GPUs in limits only, as the reference says
    assert cpu["resources"] == {"requests": {"cpu": "2", "memory": "4Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}}
    assert worker_pod(resources, "a100")["nodeSelector"] == {
        "topology.kubernetes.io/zone": "eu-west-1a",  # the pod template's, kept
        "k8s.amazonaws.com/accelerator": "nvidia-tesla-a100",
        "k8s.amazonaws.com/gpu-partition-size": "1g.5gb"}
    assert worker_pod(resources, "l4")["nodeSelector"] == {"k8s.amazonaws.com/accelerator": "nvidia-l4"}
    assert "nodeSelector" not in worker_pod(resources, "cpu")


def test_workers_advertise_their_pool_gpus_and_accelerator_to_dask(resources: list[dict[str, Any]]) -> None:
    args = container(worker_pod(resources, "a100"))["args"]
    assert args[:8] == ["dask", "worker", "--nthreads", "2", "--memory-limit", str(32 * 2**30), "--resources",
                        "pool-a100=2,GPU=2,accelerator-nvidia-tesla-a100=2,accelerator-nvidia-tesla-a100-1g.5gb=2"]
    assert container(worker_pod(resources, "l4"))["args"][:8] == [
        "dask", "worker", "--nthreads", "1", "--memory-limit", "auto", "--resources",
        "pool-l4=1,GPU=1,accelerator-nvidia-l4=1,accelerator-nvidia-l4-whole=1"]
    assert container(worker_pod(resources, "cpu"))["args"][2:8] == [
        "--nthreads", "2", "--memory-limit", str(4 * 2**30), "--resources", "pool-cpu=2"]


def test_interruptible_pools_run_on_spot_nodes_and_the_others_never(resources: list[dict[str, Any]]) -> None:
    spot = worker_pod(resources, "a100")
    assert spot["tolerations"] == [
        {"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoSchedule"},  # the template's first
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "cloud.google.com/gke-spot", "operator": "Equal", "value": "true", "effect": "NoSchedule"},
        {"key": "cloud.google.com/gke-preemptible", "operator": "Equal", "value": "true", "effect": "NoSchedule"},
        {"key": "kubernetes.azure.com/scalesetpriority", "operator": "Equal", "value": "spot",
         "effect": "NoSchedule"}]
    terms = spot["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    instance = {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["p4d.24xlarge"]}
    # Any spot label will do, and the template's instance type must hold too: its term is in each.
    assert terms == [{"matchExpressions": [instance, {"key": k, "operator": "In", "values": [v]}]}
                     for k, v in SPOT_NODE_LABELS.items()]
    on_demand = worker_pod(resources, "cpu")
    assert "tolerations" not in on_demand
    assert on_demand["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": k, "operator": "NotIn", "values": [v]}
                                                    for k, v in SPOT_NODE_LABELS.items()]}]}
    assert worker_pod(resources, "l4")["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


def test_the_pool_pod_template_is_merged_in(resources: list[dict[str, Any]]) -> None:
    group = by_name(resources, "DaskWorkerGroup", "lab-a100")
    pod = group["spec"]["worker"]["spec"]
    worker = container(pod)
    assert worker["image"] == "ghcr.io/you/train:1.0"  # the pool's environment wins over the template
    assert env(worker)["HF_HOME"] == "/scratch/hf" and env(worker)["PLAIT_POOL"] == "a100"
    assert worker["volumeMounts"] == [{"name": "scratch", "mountPath": "/scratch"},
                                      {"name": "dask-tls", "mountPath": TLS_DIR, "readOnly": True}]
    assert [v["name"] for v in pod["volumes"]] == ["scratch", "dask-tls"]
    assert [c["name"] for c in pod["containers"]] == ["worker", "log-shipper"]
    assert container(pod, "log-shipper") == {"name": "log-shipper", "image": "fluent/fluent-bit:3"}
    assert group["spec"]["worker"]["metadata"] == {
        "labels": {"team": "vision", "app.kubernetes.io/part-of": "plait", "plait.dev/pool": "a100"},
        "annotations": {"owner": "ada"}}
    assert group["metadata"]["annotations"] == {
        "plait.dev/min-workers": "0", "plait.dev/max-workers": "1", "plait.dev/idle-timeout-seconds": "300",
        "plait.dev/interruptible": "true"}
    assert group["spec"]["worker"]["replicas"] == 0
    assert by_name(resources, "DaskWorkerGroup", "lab-cpu")["spec"]["worker"]["replicas"] == 1  # min_workers


def test_every_dask_process_speaks_tls_with_the_named_secret(resources: list[dict[str, Any]]) -> None:
    cluster = by_name(resources, "DaskCluster", "lab")
    scheduler = cluster["spec"]["scheduler"]["spec"]
    assert container(scheduler, "scheduler")["args"] == ["dask", "scheduler", "--host", "0.0.0.0",
                                                         "--protocol", "tls"]
    assert container(scheduler, "scheduler")["resources"] == {
        "requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}}
    assert env(container(scheduler, "scheduler"))["DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES"] == "0"
    assert cluster["spec"]["worker"]["replicas"] == 0  # pools are the worker groups
    for pod in (scheduler, cluster["spec"]["worker"]["spec"], *(worker_pod(resources, p) for p in ("cpu", "a100"))):
        assert {"name": "dask-tls", "secret": {"secretName": "plait-dask-tls", "defaultMode": 0o440}} in pod["volumes"]
        assert pod["imagePullSecrets"] == [{"name": "regcred"}]
        first = pod["containers"][0]
        variables = env(first)
        assert variables["DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION"] == "True"
        assert variables["DASK_DISTRIBUTED__COMM__TLS__CA_FILE"] == f"{TLS_DIR}/ca.pem"
        assert variables["DASK_DISTRIBUTED__COMM__TLS__WORKER__CERT"] == f"{TLS_DIR}/dask.pem"
        assert first["envFrom"] == [{"secretRef": {"name": "plait-storage"}}]
    for pool in ("cpu", "a100"):
        assert env(container(worker_pod(resources, pool)))["DASK_SCHEDULER_ADDRESS"] == (
            "tls://lab-scheduler.ml.svc.cluster.local:8786")


def test_a_pool_environment_names_its_image(resources: list[dict[str, Any]]) -> None:
    spec = ImageSpec(name="infer", registry="ghcr.io/you", packages=["torch"])
    l4 = container(worker_pod(resources, "l4"))
    assert l4["image"] == spec.image_name() and env(l4)["PLAIT_IMAGE_NAME"] == spec.image_name()
    assert container(worker_pod(resources, "cpu"))["image"] == "ghcr.io/you/plait:0.1.0"  # default: plait's


def test_the_backend_runs_plait_server_with_its_secrets_and_the_cluster_file(resources: list[dict[str, Any]]) -> None:
    deployment = by_name(resources, "Deployment", "lab-backend")
    pod = deployment["spec"]["template"]["spec"]
    backend = container(pod, "backend")
    assert backend["args"] == ["plait", "server", "--cluster", "/etc/plait/cluster.yaml", "--host", "0.0.0.0",
                               "--port", "8742"]
    variables = env(backend)
    assert variables["PLAIT_DATABASE_URL"] == {"secretKeyRef": {"name": "plait-db", "key": "url"}}
    assert variables["PLAIT_SECRETS_KEY"] == {"secretKeyRef": {"name": "plait-secrets-key", "key": "key"}}
    assert variables["PLAIT_STORAGE_URL"] == "s3://bucket/plait"
    assert variables["PLAIT_DASK_TLS_CERT"] == f"{TLS_DIR}/dask.pem"
    assert {"name": "token", "secret": {"secretName": "plait-token", "defaultMode": 0o440,
                                        "items": [{"key": "token", "path": "token"}]}} in pod["volumes"]
    assert pod["initContainers"][0]["command"][:2] == ["python", "-c"]
    assert pod["serviceAccountName"] == "plait" and deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert by_name(resources, "ConfigMap", "lab-cluster-file")["data"] == {"cluster.yaml": CLUSTER}
    role = by_name(resources, "Role", "lab-backend")
    assert role["rules"][0]["resources"] == ["daskclusters", "daskworkergroups", "daskworkergroups/scale"]
    assert "create" in role["rules"][0]["verbs"] and "delete" in role["rules"][0]["verbs"]
    service = by_name(resources, "Service", "lab-backend")
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]


def test_the_token_copy_makes_a_private_token_file(tmp_path: Path, resources: list[dict[str, Any]]) -> None:
    """The init container's program, run here with its paths moved under tmp_path."""
    init = by_name(resources, "Deployment", "lab-backend")["spec"]["template"]["spec"]["initContainers"][0]
    program = init["command"][2]
    (tmp_path / "etc/plait/token").mkdir(parents=True)
    (tmp_path / "etc/plait/token/token").write_text("s3cret\n")
    program = program.replace("'/etc/", f"'{tmp_path}/etc/").replace("'/var/", f"'{tmp_path}/var/")
    subprocess.run([sys.executable, "-c", program], check=True)
    token = tmp_path / "var/lib/plait/home/token"
    assert token.read_text() == "s3cret\n" and token.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "var/lib/plait/home").stat().st_mode & 0o777 == 0o700


# ------------------------------------------------------------------ the merge rules


def test_merge_keeps_the_template_as_base_and_what_plait_generates_wins() -> None:
    template = {"securityContext": {"runAsUser": 1000}, "nodeSelector": {"a": "1", "b": "template"},
                "containers": [{"name": "primary", "image": "t", "resources": {"limits": {"cpu": "9"}},
                                "env": [{"name": "X", "value": "t"}, {"name": "Y", "value": "t"}]}]}
    generated = {"nodeSelector": {"b": "plait"},
                 "containers": [{"name": "worker", "image": "g", "env": [{"name": "X", "value": "g"}]}]}
    merged = merge_pod_spec(template, generated)
    assert merged == {"securityContext": {"runAsUser": 1000}, "nodeSelector": {"a": "1", "b": "plait"},
                      "containers": [{"name": "worker", "image": "g", "resources": {"limits": {"cpu": "9"}},
                                      "env": [{"name": "X", "value": "g"}, {"name": "Y", "value": "t"}]}]}
    assert template["containers"][0]["name"] == "primary"  # the inputs are left alone
    renamed = merge_pod_spec({"containers": [{"name": "main", "args": ["x"]}]}, generated, primary="main")
    assert [c["name"] for c in renamed["containers"]] == ["worker"]
    assert merge_pod_spec(None, generated) == generated


def test_merge_combines_required_node_affinity_terms_so_both_hold() -> None:
    def spec(*terms: str) -> dict[str, Any]:
        return {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": t, "operator": "Exists"}]} for t in terms]}}}}

    merged = merge_pod_spec(spec("t1", "t2"), spec("g1"))
    terms = merged["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert [[e["key"] for e in t["matchExpressions"]] for t in terms] == [["t1", "g1"], ["t2", "g1"]]
    only_template = merge_pod_spec(spec("t1"), {"containers": []})
    assert only_template["affinity"] == spec("t1")["affinity"]


# ------------------------------------------------------------------ plait cluster manifests


def test_plait_cluster_manifests_prints_them_as_one_yaml_stream(tmp_path: Path) -> None:
    path = tmp_path / "cluster.yaml"
    path.write_text(CLUSTER)
    result = CliRunner().invoke(main, ["cluster", "manifests", "--cluster", str(path)])
    assert result.exit_code == 0, result.output
    printed = list(yaml.safe_load_all(result.output))
    assert printed == manifests(load(path))
    for resource in printed:
        validate(resource)


def test_plait_cluster_manifests_refuses_a_bad_or_local_file(tmp_path: Path) -> None:
    path = tmp_path / "cluster.yaml"
    path.write_text("kind: kubernetes\n")
    result = CliRunner().invoke(main, ["cluster", "manifests", "--cluster", str(path)])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {path}: kubernetes: expected a kubernetes section for kind: kubernetes (at least image and "
        "backend), found nothing; add `kubernetes:` with image, backend.database_secret and backend.storage_url "
        "(docs/compute.md)\n")
    path.write_text("kind: local\n")
    result = CliRunner().invoke(main, ["cluster", "manifests", "--cluster", str(path)])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {path}: kind: expected kubernetes for manifests, found 'local'; ")


def test_the_command_runs_in_a_fresh_process(tmp_path: Path) -> None:
    (tmp_path / "cluster.yaml").write_text(CLUSTER)
    done = subprocess.run([sys.executable, "-m", "plait", "cluster", "manifests"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert len(list(yaml.safe_load_all(done.stdout))) == 10
