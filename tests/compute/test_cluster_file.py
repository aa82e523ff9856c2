"""The cluster file: what it reads into, and one clear error for each way it can be wrong."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
from plait.backend.compute import ClusterFileError, default_local, load, loads
from plait.backend.compute.cluster_file import SPOT_NODE_LABELS

K8S = """kind: kubernetes
kubernetes:
  image: ghcr.io/you/plait:0.1.0
  backend: {database_secret: plait-db, storage_url: "s3://b/p"}
"""

LOCAL = """
kind: local
pools:
  - name: cpu
    resources: {cpu: 2, mem: 4Gi}
    max_workers: 4
    idle_timeout: 5m
  - name: gpu
    environment: ghcr.io/you/train:1.0
    resources: {cpu: 500m, gpu: 2, accelerator: A100, partition: 1g.5gb}
    interruptible: true
    min_workers: 1
    threads: 2
  - name: l4
    environment: {packages: [numpy], python_version: "3.11"}
    resources: {gpu: 1, accelerator: nvidia-l4}
"""


def test_a_local_file_reads_into_pools() -> None:
    cluster = loads(LOCAL, source="local.yaml")
    assert cluster.kind == "local" and cluster.kubernetes is None and cluster.source == "local.yaml"
    cpu, gpu, l4 = cluster.pools
    assert (cpu.name, cpu.resources.cores, cpu.resources.mem_bytes) == ("cpu", 2.0, 4 * 2**30)
    assert (cpu.min_workers, cpu.max_workers, cpu.idle_timeout_s, cpu.threads) == (0, 4, 300.0, 2)
    assert cpu.environment.is_default and not cpu.interruptible
    assert gpu.environment.image == "ghcr.io/you/train:1.0"
    assert (gpu.resources.gpu, gpu.resources.accelerator, gpu.resources.partition) == (
        2, "nvidia-tesla-a100", "1g.5gb")  # the constant's name gives its device
    assert (gpu.interruptible, gpu.min_workers, gpu.max_workers, gpu.threads) == (True, 1, 1, 2)
    assert l4.environment.image_spec is not None and l4.environment.image_spec.packages == ("numpy",)
    assert l4.threads == 1  # no cpu given: one thread
    assert cpu.dask_resources() == {"pool-cpu": 2.0}
    assert gpu.dask_resources() == {"pool-gpu": 2.0, "GPU": 2.0, "accelerator-nvidia-tesla-a100": 2.0,
                                    "accelerator-nvidia-tesla-a100-1g.5gb": 2.0}
    assert l4.dask_resources() == {"pool-l4": 1.0, "GPU": 1.0, "accelerator-nvidia-l4": 1.0,
                                   "accelerator-nvidia-l4-whole": 1.0}
    assert gpu.describe() == ("gpu: 2 GPU nvidia-tesla-a100 (1g.5gb), cpu 500m, interruptible; "
                              "image ghcr.io/you/train:1.0")
    assert cluster.local_default_pool() is None  # three pools
    assert loads("kind: local\npools: [{name: cpu, max_workers: 3}]\n").local_default_pool() is not None


def test_a_local_file_without_pools_has_the_default_pool() -> None:
    assert loads("kind: local\n").pools == default_local().pools


def test_default_local_is_one_cpu_pool_in_the_default_environment_sized_to_the_machine() -> None:
    cluster = default_local()
    (pool,) = cluster.pools
    assert cluster.kind == "local" and cluster.local_default_pool() is pool
    assert pool.environment.is_default and pool.resources.gpu == 0 and not pool.interruptible
    assert (pool.max_workers, pool.threads, pool.min_workers) == (os.cpu_count(), 1, os.cpu_count())
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert pool.resources.mem_bytes is not None
    assert abs(pool.resources.mem_bytes * pool.max_workers - total) < 2**20 * pool.max_workers


def test_a_kubernetes_file_has_defaults_for_all_but_the_image_and_backend() -> None:
    cluster = loads(K8S + "pools: [{name: cpu}]\n")
    k8s = cluster.kubernetes
    assert k8s is not None
    assert (k8s.namespace, k8s.name, k8s.tls_secret, k8s.service_account) == (
        "default", "plait", "plait-dask-tls", "plait")
    assert k8s.backend.database_secret.name == "plait-db" and k8s.backend.database_secret.key == "url"
    assert (k8s.backend.token_secret.name, k8s.backend.token_secret.key) == ("plait-token", "token")
    assert k8s.accelerator_label == "k8s.amazonaws.com/accelerator"
    assert dict(k8s.interruptible.node_labels) == SPOT_NODE_LABELS
    assert k8s.scheduler_address == "tls://plait-scheduler.default.svc.cluster.local:8786"
    assert cluster.text is not None and cluster.text.startswith("kind: kubernetes")


HOSTS = """
kind: hosts
scheduler: {host: 10.0.0.5, port: 8786}
pools:
  - name: cpu
    resources: {cpu: 2, mem: 4Gi}
  - name: gpu
    environment: {name: train, packages: [six==1.16.0]}
    resources: {gpu: 1, accelerator: T4}
    interruptible: true
"""


def test_a_hosts_file_reads_into_pools_and_where_the_scheduler_listens() -> None:
    cluster = loads(HOSTS, source="hosts.yaml")
    assert cluster.kind == "hosts" and cluster.embedded and cluster.kubernetes is None
    assert cluster.scheduler is not None and cluster.scheduler.address == "tls://10.0.0.5:8786"
    cpu, gpu = cluster.pools
    assert (cpu.threads, cpu.resources.mem_bytes, cpu.dask_resources()) == (2, 4 * 2**30, {"pool-cpu": 2.0})
    assert gpu.environment.image_spec is not None and gpu.environment.image_spec.packages == ("six==1.16.0",)
    assert gpu.dask_resources() == {"pool-gpu": 1.0, "GPU": 1.0, "accelerator-nvidia-tesla-t4": 1.0,
                                    "accelerator-nvidia-tesla-t4-whole": 1.0}
    assert gpu.interruptible and cluster.local_default_pool() is None
    # The scheduler listens on every address of the server's machine unless told otherwise:
    # then the workers are given the address (`plait worker --scheduler`).
    listens = loads("kind: hosts\npools: [{name: cpu}]\n").scheduler
    assert listens is not None and (listens.host, listens.port, listens.address) == ("0.0.0.0", 8786, None)
    named = loads("kind: hosts\nscheduler: {host: 'fd00::5', port: 9000}\npools: [{name: cpu}]\n").scheduler
    assert named is not None and named.address == "tls://[fd00::5]:9000"
    assert loads("kind: hosts\nscheduler: {host: dask.internal}\npools: [{name: cpu}]\n").scheduler.address == (
        "tls://dask.internal:8786")
    assert not loads(K8S + "pools: [{name: cpu}]\n").embedded and loads("kind: local\n").embedded


def test_load_reads_a_file_and_names_it_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "cluster.yaml"
    path.write_text(LOCAL)
    assert load(path).pools == loads(LOCAL).pools
    with pytest.raises(ClusterFileError) as caught:
        load(tmp_path / "missing.yaml")
    assert str(caught.value) == (
        f"{tmp_path / 'missing.yaml'}: (the file): expected a cluster file, found no such file; give "
        "the path of a YAML cluster file (docs/compute.md)")
    path.write_text("kind: local\npools:\n  - name: gpu\n    resources: {gpu: many}\n")
    with pytest.raises(ClusterFileError, match=rf"^{path}: pools\[0\]\.resources\.gpu: expected a whole "
                                                r"number of GPUs such as 1, found 'many' \(a string\)"):
        load(path)


def test_the_error_carries_its_parts_and_pickles() -> None:
    with pytest.raises(ClusterFileError) as caught:
        loads("kind: local\npools: [{name: cpu, threads: 0}]\n", source="c.yaml")
    error = caught.value
    assert (error.file, error.field, error.found) == ("c.yaml", "pools[0].threads", "0 (a number)")
    assert isinstance(error, ValueError)  # `plait server` reports ValueErrors of its settings
    assert str(pickle.loads(pickle.dumps(error))) == str(error)


@pytest.mark.parametrize(("text", "message"), [
    ('',
     'cluster.yaml: (the file): expected a mapping with kind and pools, found nothing; start with `kind: local` (docs/compute.md has examples)'),
    ('kind: local\nkind: local\n',
     "cluster.yaml: line 2: expected each key once in a mapping, found 'kind' a second time; remove one of them"),
    ('kind: [local\n',
     "cluster.yaml: line 2, column 1: expected YAML, found a syntax error (expected ',' or ']', but got '<stream end>'); fix the indentation or quoting there"),
    ('- a\n',
     "cluster.yaml: (the file): expected a cluster file (a mapping of kind, pools, scheduler, kubernetes), found ['a'] (a list); start with `kind: local` (docs/compute.md has examples)"),
    ('kind: lokal\n',
     "cluster.yaml: kind: expected local, hosts or kubernetes, found 'lokal' (a string); write kind: local, kind: hosts or kind: kubernetes"),
    ('pools: []\n',
     'cluster.yaml: kind: expected the kind of cluster: local, hosts or kubernetes, found nothing; add `kind:`'),
    ('kind: local\npools: []\n',
     'cluster.yaml: pools: expected a list of pools, at least one, found [] (a list); add `pools:` with items such as `- name: cpu`'),
    ('kind: local\npools:\n  - name: cpu\n    resorces: {cpu: 1}\n',
     "cluster.yaml: pools[0].resorces: expected one of name, environment, resources, interruptible, min_workers, max_workers, idle_timeout, threads, pod_template, found the unknown key 'resorces'; did you mean `resources`?"),
    ('kind: local\npools:\n  - name: cpu\n  - name: gpu\n    resources: {gpu: two}\n',
     "cluster.yaml: pools[1].resources.gpu: expected a whole number of GPUs such as 1, found 'two' (a string); GPUs are whole devices on Kubernetes: write a whole number, and give a MIG partition with `partition:` for a slice"),
    ('kind: local\npools:\n  - name: cpu\n  - name: gpu\n    resources: {gpu: 0.5}\n',
     'cluster.yaml: pools[1].resources.gpu: expected a whole number of GPUs such as 1, found 0.5 (a number); GPUs are whole devices on Kubernetes: write a whole number, and give a MIG partition with `partition:` for a slice'),
    ('kind: local\npools:\n  - name: gpu\n    resources: {accelerator: A100}\n',
     'cluster.yaml: pools[0].resources.gpu: expected at least 1 GPU for accelerator A100, found nothing; add gpu: 1'),
    ('kind: local\npools:\n  - name: gpu\n    resources: {gpu: 1, accelerator: A1OO}\n',
     "cluster.yaml: pools[0].resources.accelerator: expected an accelerator: one of A10G, A100, A100_80GB, K80, L4, L40S, M60, P4, P100, T4, V100, or a device name such as nvidia-tesla-t4, found 'A1OO' (a string); write e.g. A100 or nvidia-l4"),
    ('kind: local\npools:\n  - name: gpu\n    resources: {gpu: 1, accelerator: A100, partition: 2g.20gb}\n',
     "cluster.yaml: pools[0].resources.partition: expected a MIG partition of nvidia-tesla-a100: 1g.5gb, 2g.10gb, 3g.20gb, 4g.20gb, 7g.40gb, found '2g.20gb' (a string); pick one of those"),
    ('kind: local\npools:\n  - name: gpu\n    resources: {gpu: 1, partition: 1g.5gb}\n',
     'cluster.yaml: pools[0].resources.accelerator: expected the accelerator that the partition slices, found nothing; add e.g. accelerator: A100'),
    ('kind: local\npools:\n  - name: cpu\n    resources: {mem: 4GB}\n',
     "cluster.yaml: pools[0].resources.mem: expected a memory size such as 512Mi or 4Gi, found '4GB' (a string); write '4G' or '4Gi'"),
    ('kind: local\npools:\n  - name: cpu\n    resources: {cpu: -1}\n',
     'cluster.yaml: pools[0].resources.cpu: expected a number of cores such as 2 or 500m, found -1 (a number); remove the sign'),
    ('kind: local\npools:\n  - name: cpu\n    resources: {cpu: 0}\n',
     'cluster.yaml: pools[0].resources.cpu: expected a number of cores such as 2 or 500m, more than zero, found 0 (a number); remove it or give a size'),
    ('kind: local\npools:\n  - name: cpu\n    resources: 4\n',
     "cluster.yaml: pools[0].resources: expected a worker's resources (a mapping of cpu, mem, gpu, accelerator, partition), found 4 (a number); write it as indented `cpu: ..., mem: ...` lines"),
    ('kind: local\npools:\n  - name: CPU\n',
     "cluster.yaml: pools[0].name: expected a lower-case name of letters, digits and '-' (at most 40), found 'CPU' (a string); write e.g. gpu-a100"),
    ('kind: local\npools:\n  - name: cpu\n  - name: cpu\n',
     "cluster.yaml: pools[1].name: expected a name no other pool has, found 'cpu' (a string); pools[0] is named 'cpu' too: rename one"),
    ('kind: local\npools:\n  - resources: {cpu: 1}\n',
     "cluster.yaml: pools[0].name: expected the pool's name, such as gpu, found nothing; add `name:`"),
    ('kind: local\npools:\n  - name: cpu\n    min_workers: 3\n    max_workers: 2\n',
     'cluster.yaml: pools[0].max_workers: expected at least min_workers (3), found 2 (a number); raise max_workers to 3 or lower min_workers'),
    ('kind: local\npools:\n  - name: cpu\n    max_workers: 0\n',
     'cluster.yaml: pools[0].max_workers: expected a whole number, 1 or more, found 0 (a number); write e.g. 4'),
    ('kind: local\npools:\n  - name: cpu\n    min_workers: -1\n',
     'cluster.yaml: pools[0].min_workers: expected a whole number, 0 or more, found -1 (a number); write e.g. 0'),
    ('kind: local\npools:\n  - name: cpu\n    idle_timeout: soon\n',
     "cluster.yaml: pools[0].idle_timeout: expected a duration: seconds, or a number ending in s, m or h (300, 5m), found 'soon' (a string); write e.g. 5m"),
    ('kind: local\npools:\n  - name: cpu\n    threads: 0\n',
     'cluster.yaml: pools[0].threads: expected a whole number of threads per worker, 1 or more, found 0 (a number); write e.g. 1'),
    ("kind: local\npools:\n  - name: cpu\n    interruptible: 'yes'\n",
     "cluster.yaml: pools[0].interruptible: expected true or false, found 'yes' (a string); write true or false, unquoted"),
    ('kind: local\npools:\n  - name: cpu\n    pod_template: {pod_spec: {}}\n',
     "cluster.yaml: pools[0].pod_template: expected no pod template for kind: local (pods exist on Kubernetes only), found {'pod_spec': {}} (a mapping); remove it, or use kind: kubernetes"),
    ('kind: local\npools:\n  - name: cpu\n    environment: {packages: [numpy], pakages: [x]}\n',
     "cluster.yaml: pools[0].environment.pakages: expected one of name, python_version, builder, source_root, env, registry, packages, conda_packages, conda_channels, requirements, apt_packages, cuda, cudnn, base_image, platform, pip_index, pip_extra_index_url, pip_secret_mounts, pip_extra_args, registry_config, entrypoint, commands, tag_format, source_copy_mode, copy, python_exec, builder_options, is_force_push, found the unknown key 'pakages'; did you mean `packages`?"),
    ('kind: local\npools:\n  - name: cpu\n    environment: {python_version: 3.1}\n',
     "cluster.yaml: pools[0].environment.python_version: expected a str such as '3.11', found 3.1 (a number); quote it: a number like 3.10 reads as 3.1, so write python_version='3.10'"),
    ('kind: local\npools:\n  - name: cpu\n    environment: {name: My Image}\n',
     "cluster.yaml: pools[0].environment.name: expected a lower-case image name such as 'my-image', found 'My Image' (a string); write 'my-image'"),
    ("kind: local\npools:\n  - name: cpu\n    environment: 'not an image'\n",
     "cluster.yaml: pools[0].environment: expected default, an image name or ImageSpec fields, found 'not an image' (a string); write default, an image such as ghcr.io/you/train:1.0, or a mapping of ImageSpec fields"),
    ('kind: local\nkubernetes: {image: x}\n',
     "cluster.yaml: kubernetes: expected no kubernetes section for kind: local, found {'image': 'x'} (a mapping); remove it, or write kind: kubernetes"),
    ('kind: kubernetes\npools:\n  - name: cpu\n',
     'cluster.yaml: kubernetes: expected a kubernetes section for kind: kubernetes (at least image and backend), found nothing; add `kubernetes:` with image, backend.database_secret and backend.storage_url (docs/compute.md)'),
    (K8S,
     'cluster.yaml: pools: expected a list of pools, at least one, found nothing; add `pools:` with items such as `- name: cpu`'),
    (K8S + 'pools:\n  - name: cpu\n    environment: {packages: [numpy]}\n',
     "cluster.yaml: pools[0].environment.registry: expected the registry the cluster pulls this environment's image from (kind: kubernetes), found nothing; add e.g. registry: ghcr.io/you, and build and push the image from this spec"),
    (K8S + 'pools:\n  - name: cpu\n    environment: {registry: ghcr.io/you, requirements: req.txt}\n',
     "cluster.yaml: pools[0].environment.requirements: expected no files for kind: kubernetes (the server names the image from the spec, without your project's files), found 'req.txt' (a string); build and push the image from this spec, then give its name as the environment"),
    (K8S + 'pools:\n  - name: cpu\n    pod_template: {pod_spec: {containers: [{image: x}]}}\n',
     "cluster.yaml: pools[0].pod_template.pod_spec.containers: expected a list of containers, each with a name, found [{'image': 'x'}] (a list); give each container a name (`worker` or `primary` for the worker's own)"),
    (K8S + 'pools:\n  - name: cpu\n    pod_template: {primary_container_name: Main}\n',
     "cluster.yaml: pools[0].pod_template.primary_container_name: expected a Kubernetes container name (lower-case letters, digits and '-', at most 63), found 'Main' (a string); write 'primary'"),
    (K8S + "pools:\n  - name: cpu\n    pod_template: {labels: {'bad key!': x}}\n",
     "cluster.yaml: pools[0].pod_template.labels: expected valid labels, found {'bad key!': 'x'} (a mapping); label key 'bad key!' is not a valid Kubernetes key: expected an optional DNS prefix and '/', then at most 63 letters, digits, '-', '_' or '.' that start and end with a letter or digit, got 'bad key!'; write 'bad-key'"),
    (K8S + 'pools:\n  - name: cpu\n    pod_template: {pod_spec: [1]}\n',
     'cluster.yaml: pools[0].pod_template.pod_spec: expected a Kubernetes pod spec (a mapping: containers, volumes, nodeSelector, ...), found [1] (a list); write it as a mapping'),
    ('kind: kubernetes\nkubernetes:\n  image: x\npools:\n  - name: cpu\n',
     "cluster.yaml: kubernetes.backend: expected the backend's settings: database_secret and storage_url at least, found nothing; add `backend:`"),
    ('kind: kubernetes\nkubernetes:\n  image: x\n  backend: {database_secret: db, storage_url: /data}\npools:\n  - name: cpu\n',
     "cluster.yaml: kubernetes.backend.storage_url: expected an object store URL every pod reaches, such as s3://bucket/plait, found '/data' (a string); give a URL with a scheme (s3://, gs://, abfs://)"),
    ("kind: kubernetes\nkubernetes:\n  image: x\n  backend: {database_secret: db, storage_url: 'file:///data'}\npools:\n  - name: cpu\n",
     "cluster.yaml: kubernetes.backend.storage_url: expected an object store shared by the backend and the workers' pods, found 'file:///data' (a string); use s3://, gs:// or abfs://"),
    ("kind: kubernetes\nkubernetes:\n  image: x\n  backend: {storage_url: 's3://b'}\npools:\n  - name: cpu\n",
     'cluster.yaml: kubernetes.backend.database_secret: expected the secret with the database URL, such as {name: plait-db, key: url}, found nothing; add `database_secret:`'),
    ("kind: kubernetes\nkubernetes:\n  image: x\n  backend: {database_secret: {key: url}, storage_url: 's3://b'}\npools:\n  - name: cpu\n",
     "cluster.yaml: kubernetes.backend.database_secret.name: expected the secret's name, such as plait-db, found nothing; add `name:`"),
    ("kind: kubernetes\nkubernetes:\n  image: x\n  namespace: ML\n  backend: {database_secret: db, storage_url: 's3://b'}\npools:\n  - name: cpu\n",
     "cluster.yaml: kubernetes.namespace: expected a Kubernetes name, found 'ML' (a string); write a lower-case name such as plait"),
    ("kind: kubernetes\nkubernetes:\n  image: x\n  image_pull_policy: always\n  backend: {database_secret: db, storage_url: 's3://b'}\npools:\n  - name: cpu\n",
     "cluster.yaml: kubernetes.image_pull_policy: expected Always, IfNotPresent or Never, found 'always' (a string); write IfNotPresent"),
    ("kind: kubernetes\nkubernetes:\n  image: x\n  gpu_tolerations: [{key: a, operator: In}]\n  backend: {database_secret: db, storage_url: 's3://b'}\npools:\n  - name: cpu\n",
     "cluster.yaml: kubernetes.gpu_tolerations[0].operator: expected Equal or Exists, found 'In' (a string); write Equal or Exists"),
    ("kind: kubernetes\nkubernetes:\n  image: x\n  interruptible: {node_labels: {cloud.google.com/gke-spot: true}}\n  backend: {database_secret: db, storage_url: 's3://b'}\npools:\n  - name: cpu\n",
     'cluster.yaml: kubernetes.interruptible.node_labels["cloud.google.com/gke-spot"]: expected a label value (quote true and numbers), found True (a boolean); write it as a quoted string, e.g. "true"'),
    ("kind: kubernetes\nkubernetes:\n  image: x\n  backend: {database_secret: db, storage_url: 's3://b', port: 99999}\npools:\n  - name: cpu\n",
     'cluster.yaml: kubernetes.backend.port: expected a port number (1-65535), found 99999 (a number); write 8742'),
    ("kind: kubernetes\nkubernetes:\n  image: x\n  scheduler: {service_type: Internal}\n  backend: {database_secret: db, storage_url: 's3://b'}\npools:\n  - name: cpu\n",
     "cluster.yaml: kubernetes.scheduler.service_type: expected ClusterIP, NodePort or LoadBalancer, found 'Internal' (a string); write ClusterIP"),
    ("kind: kubernetes\nkubernetes:\n  image: x\n  name: a-very-long-cluster-name-indeed\n  backend: {database_secret: db, storage_url: 's3://b'}\npools:\n  - name: cpu\n",
     "cluster.yaml: kubernetes.name: expected at most 20 characters, found 'a-very-long-cluster-name-indeed' (a string); shorten it"),
    ('kind: hosts\n',
     'cluster.yaml: pools: expected a list of pools, at least one, found nothing; add `pools:` with items such as `- name: cpu`'),
    ('kind: hosts\nscheduler: 8786\npools: [{name: cpu}]\n',
     "cluster.yaml: scheduler: expected where the scheduler listens (a mapping of host, port), found 8786 (a number); write it as indented `host: ..., port: ...` lines"),
    ('kind: hosts\nscheduler: {hots: 0.0.0.0}\npools: [{name: cpu}]\n',
     "cluster.yaml: scheduler.hots: expected one of host, port, found the unknown key 'hots'; did you mean `host`?"),
    ('kind: hosts\nscheduler: {host: 10.0.0.300}\npools: [{name: cpu}]\n',
     "cluster.yaml: scheduler.host: expected an address of the server's machine (10.0.0.5, a host name) or 0.0.0.0 for all of them, found '10.0.0.300' (a string); write e.g. 0.0.0.0, and quote an IPv6 address"),
    ('kind: hosts\nscheduler: {port: 0}\npools: [{name: cpu}]\n',
     'cluster.yaml: scheduler.port: expected a port number (1-65535) that every worker host reaches, found 0 (a number); write 8786'),
    ("kind: hosts\nscheduler: {port: '8786'}\npools: [{name: cpu}]\n",
     "cluster.yaml: scheduler.port: expected a port number (1-65535) that every worker host reaches, found '8786' (a string); write 8786"),
    ('kind: local\nscheduler: {port: 8786}\n',
     "cluster.yaml: scheduler: expected no scheduler section for kind: local, found {'port': 8786} (a mapping); remove it (a local cluster's scheduler listens on loopback for the server's own workers), or write kind: hosts"),
    (K8S + 'scheduler: {port: 8786}\npools: [{name: cpu}]\n',
     "cluster.yaml: scheduler: expected no scheduler section for kind: kubernetes, found {'port': 8786} (a mapping); move it into the kubernetes section (kubernetes.scheduler: cpu, mem, service_type), or write kind: hosts"),
    ('kind: hosts\nkubernetes: {image: x}\npools: [{name: cpu}]\n',
     "cluster.yaml: kubernetes: expected no kubernetes section for kind: hosts, found {'image': 'x'} (a mapping); remove it, or write kind: kubernetes"),
    ('kind: hosts\npools:\n  - name: cpu\n    max_workers: 4\n',
     'cluster.yaml: pools[0].max_workers: expected no max_workers for kind: hosts (each host runs the workers that `plait worker --nworkers` starts there), found 4 (a number); remove it, and give --nworkers to `plait worker` on each host'),
    ('kind: hosts\npools:\n  - name: cpu\n    idle_timeout: 5m\n',
     "cluster.yaml: pools[0].idle_timeout: expected no idle_timeout for kind: hosts (each host runs the workers that `plait worker --nworkers` starts there), found '5m' (a string); remove it, and give --nworkers to `plait worker` on each host"),
    ('kind: hosts\npools:\n  - name: gpu\n    environment: ghcr.io/you/train:1.0\n',
     "cluster.yaml: pools[0].environment: expected default or ImageSpec fields on kind: hosts (each host builds a virtual environment from them), found 'ghcr.io/you/train:1.0' (a string); describe the environment with ImageSpec fields (packages: [...]), or run this pool with kind: kubernetes"),
    ('kind: hosts\npools:\n  - name: cpu\n    pod_template: {pod_spec: {}}\n',
     "cluster.yaml: pools[0].pod_template: expected no pod template for kind: hosts (pods exist on Kubernetes only), found {'pod_spec': {}} (a mapping); remove it, or use kind: kubernetes"),])
def test_every_mistake_gets_one_error_naming_the_field_what_was_expected_found_and_the_fix(
        text: str, message: str) -> None:
    with pytest.raises(ClusterFileError) as caught:
        loads(text, source="cluster.yaml")
    assert str(caught.value) == message
