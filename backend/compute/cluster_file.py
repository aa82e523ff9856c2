"""The cluster file: the compute a backend runs on, declared in YAML.

    kind: local              # or hosts (then an optional `scheduler:` section),
                             # or kubernetes (then a `kubernetes:` section)
    pools:
      - name: cpu
        environment: default # or an image name, or ImageSpec fields
        resources: {cpu: 2, mem: 4Gi}
        max_workers: 4
      - name: gpu
        resources: {cpu: 8, mem: 32Gi, gpu: 1, accelerator: A100, partition: 1g.5gb}
        interruptible: true

`load(path)` reads and checks a file into frozen dataclasses; `default_local()`
is what a server has without one: one CPU pool in the default environment,
sized to the machine. On `kind: local` the server starts the pools' workers on
its own machine; on `kind: hosts` it runs only the scheduler (`scheduler:`
says where it listens) and `plait worker --pool NAME` starts a pool's workers on
each host; on `kind: kubernetes` the dask-kubernetes operator runs them.

A file that does not fit raises one `ClusterFileError` naming the field
(`pools[1].resources.gpu`), what was expected, what was found and the fix;
unknown and repeated keys are errors. docs/compute.md documents every field.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plait.config import accelerators
from plait.config.image_spec import ImageSpec
from plait.config.resources import GPUAccelerator, PodTemplate, parse_cpu, parse_memory
from plait.errors import UserError

KINDS = ("local", "hosts", "kubernetes")
EMBEDDED_KINDS = ("local", "hosts")  # the server runs the Dask scheduler itself
DEFAULT_SCHEDULER_PORT = 8786  # Dask's
_WILDCARDS = ("0.0.0.0", "::")
DEFAULT_ENVIRONMENT = "default"
DEFAULT_IDLE_TIMEOUT_S = 300.0

# Node labels that mark spot (interruptible) capacity on the usual clouds: EKS managed node
# groups, Karpenter, GKE spot and preemptible VMs, AKS spot node pools.
SPOT_NODE_LABELS: dict[str, str] = {
    "eks.amazonaws.com/capacityType": "SPOT",
    "karpenter.sh/capacity-type": "spot",
    "cloud.google.com/gke-spot": "true",
    "cloud.google.com/gke-preemptible": "true",
    "kubernetes.azure.com/scalesetpriority": "spot",
}
# Taints those clouds put on spot nodes, which interruptible pools tolerate.
SPOT_TOLERATIONS: tuple[dict[str, str], ...] = (
    {"key": "cloud.google.com/gke-spot", "operator": "Equal", "value": "true", "effect": "NoSchedule"},
    {"key": "cloud.google.com/gke-preemptible", "operator": "Equal", "value": "true", "effect": "NoSchedule"},
    {"key": "kubernetes.azure.com/scalesetpriority", "operator": "Equal", "value": "spot", "effect": "NoSchedule"},
)
# The taint GPU node pools usually carry (GKE, EKS with the NVIDIA device plugin's defaults).
GPU_TOLERATIONS: tuple[dict[str, str], ...] = (
    {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
)
# As Flyte's `gpu-device-node-label`: nodes carry the accelerator's device name.
ACCELERATOR_LABEL = "k8s.amazonaws.com/accelerator"

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")  # a DNS-1123 label
_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                        r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_DEVICE = re.compile(r"^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$")
_MIG_PROFILE = re.compile(r"^[1-9]g\.[1-9][0-9]*gb$")
_IMAGE = re.compile(r"^[a-z0-9][a-z0-9._/:@-]*[A-Za-z0-9_]$|^[a-z0-9]$", re.IGNORECASE)
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h)$")
_ACCELERATORS: dict[str, str] = {
    name: getattr(accelerators, name).device
    for name in accelerators.__all__ if isinstance(getattr(accelerators, name), GPUAccelerator)
}
_POOL_NAME_MAX = 40  # `<cluster>-<pool>` names a DaskWorkerGroup, its Deployments and pods
_CLUSTER_NAME_MAX = 20


class ClusterFileError(UserError, ValueError):
    """A cluster file that does not fit: the field, what was expected, what was found, the fix."""

    def __init__(self, file: str, field: str, expected: str, found: str, fix: str) -> None:
        super().__init__(f"{file}: {field}: expected {expected}, found {found}; {fix}")
        self.file = file
        self.field = field
        self.expected = expected
        self.found = found
        self.fix = fix

    def __reduce__(self) -> tuple[Any, ...]:
        return (ClusterFileError, (self.file, self.field, self.expected, self.found, self.fix))


# ------------------------------------------------------------------ the model


@dataclass(frozen=True)
class Environment:
    """Where a pool's tasks find their Python packages: the default environment (plait's own:
    the server's on `kind: local`, that of `plait worker` on `kind: hosts`, `kubernetes.image`
    on Kubernetes), a named image, or an environment built from ImageSpec fields."""

    image: str | None = None
    image_spec: ImageSpec | None = None
    root: str | None = None  # where the spec's files are (a task's shipped image files); None: here

    @property
    def is_default(self) -> bool:
        return self.image is None and self.image_spec is None

    def image_name(self, default: str) -> str:
        """The container image of this environment (`default`: plait's own image)."""
        if self.image_spec is not None:
            return self.image_spec.image_name()
        return self.image or default

    def describe(self) -> str:
        if self.image_spec is not None:
            return f"ImageSpec {self.image_spec.image_name()}"
        return f"image {self.image}" if self.image else "the default environment"


@dataclass(frozen=True)
class Shape:
    """What one worker of a pool has: quantities as written (Kubernetes quantities), a whole
    number of GPUs, the accelerator's device name and its MIG partition."""

    cpu: str | None = None
    mem: str | None = None
    gpu: int = 0
    accelerator: str | None = None
    partition: str | None = None

    @property
    def cores(self) -> float | None:
        return parse_cpu(self.cpu) if self.cpu is not None else None

    @property
    def mem_bytes(self) -> int | None:
        return parse_memory(self.mem) if self.mem is not None else None


@dataclass(frozen=True)
class Pool:
    """A set of Dask workers with one environment and one resource shape."""

    name: str
    environment: Environment = field(default_factory=Environment)
    resources: Shape = field(default_factory=Shape)
    interruptible: bool = False
    min_workers: int = 0
    max_workers: int = 1
    idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S
    threads: int = 1
    pod_template: PodTemplate | None = None
    actor: str | None = None  # the ActorEnvironment whose replicas these workers are (made on demand)

    def dask_resources(self) -> dict[str, float]:
        """The Dask resources each worker of this pool advertises (`dask worker --resources`):

            pool-<name>                 threads   an attempt routed to the pool asks for 1
            GPU                         gpu       as a task's GPU limit asks (execution/cluster.py)
            accelerator-<device>        gpu       as a task's `accelerator=` asks
            accelerator-<device>-<mig>  gpu       a MIG partition (`A100.partition_1g_5gb`)
            accelerator-<device>-whole  gpu       an unpartitioned GPU (`A100.unpartitioned`)
        """
        tags: dict[str, float] = {f"pool-{self.name}": float(self.threads)}
        shape = self.resources
        if shape.gpu:
            tags["GPU"] = float(shape.gpu)
        if shape.accelerator:
            count = float(shape.gpu or 1)
            tags[f"accelerator-{shape.accelerator}"] = count
            tags[f"accelerator-{shape.accelerator}-{shape.partition or 'whole'}"] = count
        return tags

    def describe(self) -> str:
        """One line: `gpu: 1 GPU nvidia-tesla-a100 (1g.5gb), cpu 8, mem 32Gi, interruptible`."""
        shape = self.resources
        parts = []
        if shape.gpu:
            device = f" {shape.accelerator}" if shape.accelerator else ""
            partition = f" ({shape.partition})" if shape.partition else ""
            parts.append(f"{shape.gpu} GPU{device}{partition}")
        parts += [f"{k} {v}" for k, v in (("cpu", shape.cpu), ("mem", shape.mem)) if v is not None]
        if self.interruptible:
            parts.append("interruptible")
        if self.actor:
            parts.append(f"actor {self.actor} of {self.max_workers} replica(s)")
        return f"{self.name}: {', '.join(parts) or 'no resources declared'}; {self.environment.describe()}"


@dataclass(frozen=True)
class SecretKey:
    """One key of a Kubernetes secret."""

    name: str
    key: str


@dataclass(frozen=True)
class Scheduler:
    cpu: str | None = "1"
    mem: str | None = "2Gi"
    service_type: str = "ClusterIP"


@dataclass(frozen=True)
class Backend:
    """The plait backend's own Deployment on Kubernetes."""

    database_secret: SecretKey
    storage_url: str
    token_secret: SecretKey = SecretKey("plait-token", "token")
    secrets_key_secret: SecretKey = SecretKey("plait-secrets-key", "key")  # encrypts the secret store
    port: int = 8742
    service_type: str = "ClusterIP"
    cpu: str | None = "1"
    mem: str | None = "2Gi"


@dataclass(frozen=True)
class Interruptible:
    """How interruptible pools find spot nodes (any of `node_labels`) and tolerate their taints;
    the other pools keep off nodes with those labels."""

    node_labels: Mapping[str, str] = field(default_factory=lambda: dict(SPOT_NODE_LABELS))
    tolerations: tuple[Mapping[str, Any], ...] = SPOT_TOLERATIONS


@dataclass(frozen=True)
class Kubernetes:
    """The `kubernetes:` section: where and as what the cluster runs."""

    image: str
    backend: Backend
    namespace: str = "default"
    name: str = "plait"
    image_pull_policy: str = "IfNotPresent"
    image_pull_secrets: tuple[str, ...] = ()
    service_account: str = "plait"
    tls_secret: str = "plait-dask-tls"
    env_from_secrets: tuple[str, ...] = ()
    cluster_domain: str = "cluster.local"
    accelerator_label: str = ACCELERATOR_LABEL
    partition_label: str | None = None
    gpu_tolerations: tuple[Mapping[str, Any], ...] = GPU_TOLERATIONS
    interruptible: Interruptible = field(default_factory=Interruptible)
    scheduler: Scheduler = field(default_factory=Scheduler)

    @property
    def scheduler_service(self) -> str:
        """The scheduler's Service, as the operator names it."""
        return f"{self.name}-scheduler"

    @property
    def scheduler_address(self) -> str:
        """The scheduler's TLS address inside the cluster."""
        return f"tls://{self.scheduler_service}.{self.namespace}.svc.{self.cluster_domain}:8786"


@dataclass(frozen=True)
class Listen:
    """Where the scheduler of a `kind: hosts` cluster listens (the `scheduler:` section): the
    server runs it, with the TLS of its home, on `host` (an address of the server's machine,
    or 0.0.0.0 / :: for all of them) and `port`; `plait worker` on each host joins it."""

    host: str = "0.0.0.0"
    port: int = DEFAULT_SCHEDULER_PORT

    @property
    def address(self) -> str | None:
        """The `tls://` address workers reach the scheduler at; None when it listens on every
        address (the workers are then told which one: `plait worker --scheduler`)."""
        if self.host in _WILDCARDS:
            return None
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"tls://{host}:{self.port}"


@dataclass(frozen=True)
class ClusterFile:
    """A checked cluster file; `text` is what it said (the manifests ship it in a ConfigMap).
    `scheduler` is where a `kind: hosts` cluster's scheduler listens (None for other kinds)."""

    kind: str
    pools: tuple[Pool, ...]
    kubernetes: Kubernetes | None = None
    source: str = "<default>"
    text: str | None = None
    scheduler: Listen | None = None

    @property
    def embedded(self) -> bool:
        """Whether the server runs the Dask scheduler itself (`kind: local` and `kind: hosts`),
        with the TLS of its home, rather than the operator on Kubernetes."""
        return self.kind in EMBEDDED_KINDS

    def pool(self, name: str) -> Pool:
        for pool in self.pools:
            if pool.name == name:
                return pool
        raise KeyError(name)

    def local_default_pool(self) -> Pool | None:
        """The pool the embedded cluster runs today, if this is a local file of only that pool:
        one CPU pool in the default environment (None otherwise)."""
        if self.kind != "local" or len(self.pools) != 1:
            return None
        pool = self.pools[0]
        plain = (pool.environment.is_default and not pool.resources.gpu
                 and not pool.resources.accelerator and not pool.interruptible)
        return pool if plain else None


def default_local() -> ClusterFile:
    """One CPU pool in the default environment, sized to the machine: a worker per core, each
    with one thread and its share of the memory, always up (the first task of a notebook
    session does not wait for a worker to start, and a map's items spread over every core
    from the start)."""
    cores = os.cpu_count() or 1
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX: no memory figure
        total = 0
    mem = f"{max(total // cores // 2**20, 256)}Mi" if total else None
    pool = Pool(name="default", resources=Shape(cpu="1", mem=mem), min_workers=cores,
                max_workers=cores, threads=1)
    return ClusterFile(kind="local", pools=(pool,))


# ------------------------------------------------------------------ reading a file


def load(path: str | os.PathLike[str]) -> ClusterFile:
    """Read and check the cluster file at `path`."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ClusterFileError(file, "(the file)", "a cluster file", "no such file",
                               "give the path of a YAML cluster file (docs/compute.md)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ClusterFileError(file, "(the file)", "a readable UTF-8 text file",
                               f"{type(exc).__name__}: {exc}", "check the path and its permissions") from None
    return loads(text, source=file)


def loads(text: str, *, source: str = "<cluster file>") -> ClusterFile:
    """Check the text of a cluster file; errors name `source`."""
    data = _parse_yaml(text, source)
    return _Reader(source).cluster(data, text)


def _parse_yaml(text: str, source: str) -> Any:
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def mapping(loader: Loader, node: yaml.MappingNode) -> dict[Any, Any]:
        seen: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in seen:
                line = key_node.start_mark.line + 1
                raise ClusterFileError(source, f"line {line}", "each key once in a mapping",
                                       f"{key!r} a second time", "remove one of them")
            seen[key] = loader.construct_object(value_node, deep=True)
        return seen

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    try:
        return yaml.load(text, Loader=Loader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "(the file)"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ClusterFileError(source, where, "YAML", f"a syntax error ({problem})",
                               "fix the indentation or quoting there") from None


def _found(value: Any) -> str:
    if value is None:
        return "nothing"
    kind = {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "a list", dict: "a mapping"}.get(type(value), type(value).__name__)
    shown = repr(value)
    return f"{shown[:60]}{'...' if len(shown) > 60 else ''} ({kind})"


_MISSING: Any = object()


class _Reader:
    """Checks one file's data; every error names `source` and the field's path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, expected: str, value: Any, fix: str) -> ClusterFileError:
        found = "nothing" if value is _MISSING else _found(value)
        return ClusterFileError(self.source, path, expected, found, fix)

    # -- shapes
    def mapping(self, path: str, value: Any, keys: tuple[str, ...], *, what: str,
                required: Mapping[str, str] | None = None) -> dict[str, Any]:
        """`value` as a mapping of some of `keys`; `required` names the keys it must have, each
        with what it is."""
        required = required or {}
        if not isinstance(value, dict):
            example = ", ".join(f"{k}: ..." for k in (tuple(required) or keys[:2]))
            fix = ("start with `kind: local` (docs/compute.md has examples)" if path == "(the file)"
                   else f"write it as indented `{example}` lines")
            raise self.fail(path, f"{what} (a mapping of {', '.join(keys)})", value, fix)
        for key in value:
            if key not in keys:
                guess = difflib.get_close_matches(str(key), keys, n=1)
                fix = f"did you mean `{guess[0]}`?" if guess else "remove it"
                raise ClusterFileError(self.source, _join(path, str(key)), f"one of {', '.join(keys)}",
                                       f"the unknown key {str(key)!r}", fix)
        for key, hint in required.items():
            if value.get(key) is None:
                raise self.fail(_join(path, key), hint, _MISSING, f"add `{key}:`")
        return value

    def adopt(self, path: str, exc: Exception, data: dict[str, Any], known: Any) -> ClusterFileError:
        """The error of a plait.config class (`ImageSpec(name=...): expected ..., got ...; fix`)
        as one of this file, at the field it names."""
        message = str(exc)
        head, sep, rest = message.partition("): ")
        name = head.partition("(")[2].split("=", 1)[0] if sep else ""
        at = _join(path, name) if name in known else path
        if rest.startswith("expected "):
            expected, _, fix = rest[len("expected "):].rpartition("; ")
            expected = expected.split(", got ")[0]
        else:
            expected, fix = f"valid {name or 'fields'}", rest or message
        return self.fail(at, expected, data.get(name, data), fix or "see docs/compute.md")

    def string(self, path: str, value: Any, *, expected: str, pattern: re.Pattern[str] | None = None,
               fix: str, choices: tuple[str, ...] = ()) -> str:
        if not isinstance(value, str) or not value or (pattern is not None and not pattern.match(value)) \
                or (choices and value not in choices):
            raise self.fail(path, expected, value, fix)
        return value

    def integer(self, path: str, value: Any, *, minimum: int, expected: str, fix: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(path, expected, value, fix)
        return value

    def boolean(self, path: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.fail(path, "true or false", value, "write true or false, unquoted")
        return value

    def strings(self, path: str, value: Any, *, expected: str, pattern: re.Pattern[str], fix: str) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.fail(path, f"a list of {expected}", value, f"write [{fix}]")
        return tuple(self.string(f"{path}[{i}]", v, expected=expected, pattern=pattern, fix=f"write {fix}")
                     for i, v in enumerate(value))

    def quantity(self, path: str, value: Any, kind: str) -> str:
        examples = {"cpu": ("a number of cores such as 2 or 500m", parse_cpu),
                    "mem": ("a memory size such as 512Mi or 4Gi", parse_memory)}
        expected, parse = examples[kind]
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.fail(path, expected, value, "write a number or a quoted quantity")
        text = str(value)
        try:
            amount = parse(text)  # type: ignore[operator]
        except (ValueError, TypeError) as exc:
            fix = str(exc).rpartition("; ")[2] or "write a Kubernetes quantity"
            raise self.fail(path, expected, value, fix) from None
        if amount <= 0:
            raise self.fail(path, f"{expected}, more than zero", value, "remove it or give a size")
        return text

    def duration(self, path: str, value: Any) -> float:
        seconds: float | None = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            seconds = float(value)
        elif isinstance(value, str) and (m := _DURATION.match(value.strip())):
            seconds = float(m[1]) * {"s": 1, "m": 60, "h": 3600}[m[2]]
        if seconds is None or seconds < 0 or math.isinf(seconds):
            raise self.fail(path, "a duration: seconds, or a number ending in s, m or h (300, 5m)",
                            value, "write e.g. 5m")
        return seconds

    def tolerations(self, path: str, value: Any) -> tuple[Mapping[str, Any], ...]:
        keys = ("key", "operator", "value", "effect", "tolerationSeconds")
        if not isinstance(value, list):
            raise self.fail(path, "a list of Kubernetes tolerations", value,
                            "write [{key: ..., operator: Exists, effect: NoSchedule}]")
        out = []
        for i, item in enumerate(value):
            where = f"{path}[{i}]"
            item = self.mapping(where, item, keys, what="a toleration")
            operator = item.get("operator", "Equal")
            self.string(_join(where, "operator"), operator, expected="Equal or Exists",
                        choices=("Equal", "Exists"), fix="write Equal or Exists")
            if "effect" in item:
                self.string(_join(where, "effect"), item["effect"],
                            expected="NoSchedule, PreferNoSchedule or NoExecute",
                            choices=("NoSchedule", "PreferNoSchedule", "NoExecute"), fix="write NoSchedule")
            for name in ("key", "value"):
                if name in item and not isinstance(item[name], str):
                    raise self.fail(_join(where, name), "a string", item[name], "quote it")
            out.append(dict(item))
        return tuple(out)

    def labels(self, path: str, value: Any) -> dict[str, str]:
        if not isinstance(value, dict) or not value:
            raise self.fail(path, "a mapping of node label to value", value,
                            "write e.g. `karpenter.sh/capacity-type: spot`")
        for key, label in value.items():
            self.string(f'{path}["{key}"]', key, expected="a Kubernetes label key", pattern=_LABEL_KEY,
                        fix="write a label such as cloud.google.com/gke-spot")
            self.string(f'{path}["{key}"]', label, expected="a label value (quote true and numbers)",
                        pattern=_LABEL_VALUE, fix='write it as a quoted string, e.g. "true"')
        return dict(value)

    def secret_key(self, path: str, value: Any, default_key: str) -> SecretKey:
        if isinstance(value, str):
            value = {"name": value}
        data = self.mapping(path, value, ("name", "key"), what="a key of a Kubernetes secret",
                            required={"name": "the secret's name, such as plait-db"})
        name = self.string(_join(path, "name"), data["name"], expected="a secret name", pattern=_SUBDOMAIN,
                           fix="write a lower-case name such as plait-db")
        key = self.string(_join(path, "key"), data.get("key", default_key), expected="a key of the secret",
                          pattern=re.compile(r"^[-._A-Za-z0-9]+$"), fix="write e.g. url")
        return SecretKey(name, key)

    # -- the file
    def cluster(self, data: Any, text: str) -> ClusterFile:
        if data is None:
            raise self.fail("(the file)", "a mapping with kind and pools", _MISSING,
                            "start with `kind: local` (docs/compute.md has examples)")
        data = self.mapping("(the file)", data, ("kind", "pools", "scheduler", "kubernetes"),
                            what="a cluster file", required={"kind": "the kind of cluster: local, hosts or kubernetes"})
        kind = self.string("kind", data["kind"], expected="local, hosts or kubernetes", choices=KINDS,
                           fix="write kind: local, kind: hosts or kind: kubernetes")
        kubernetes = None
        if kind == "kubernetes":
            kubernetes = self.kubernetes("kubernetes", data.get("kubernetes", _MISSING))
        elif "kubernetes" in data:
            raise self.fail("kubernetes", f"no kubernetes section for kind: {kind}", data["kubernetes"],
                            "remove it, or write kind: kubernetes")
        scheduler = None
        if kind == "hosts":
            scheduler = self.listen("scheduler", data.get("scheduler", {}))
        elif "scheduler" in data:
            fix = ("move it into the kubernetes section (kubernetes.scheduler: cpu, mem, service_type)"
                   if kind == "kubernetes" else
                   "remove it (a local cluster's scheduler listens on loopback for the server's own workers)")
            raise self.fail("scheduler", f"no scheduler section for kind: {kind}", data["scheduler"],
                            f"{fix}, or write kind: hosts")
        if "pools" not in data and kind == "local":
            pools = default_local().pools
        else:
            raw = data.get("pools")
            if not isinstance(raw, list) or not raw:
                raise self.fail("pools", "a list of pools, at least one", raw if "pools" in data else _MISSING,
                                "add `pools:` with items such as `- name: cpu`")
            pools = tuple(self.pool(f"pools[{i}]", item, kind, kubernetes) for i, item in enumerate(raw))
        names: dict[str, int] = {}
        for i, pool in enumerate(pools):
            if pool.name in names:
                raise self.fail(f"pools[{i}].name", "a name no other pool has", pool.name,
                                f"pools[{names[pool.name]}] is named {pool.name!r} too: rename one")
            names[pool.name] = i
        return ClusterFile(kind=kind, pools=pools, kubernetes=kubernetes, source=self.source, text=text,
                           scheduler=scheduler)

    def listen(self, path: str, value: Any) -> Listen:
        """The `scheduler:` section of a `kind: hosts` file: the address and port it listens on."""
        data = self.mapping(path, value if value is not None else {}, ("host", "port"),
                            what="where the scheduler listens")
        out: dict[str, Any] = {}
        if "host" in data:
            out["host"] = self.listen_host(_join(path, "host"), data["host"])
        if "port" in data:
            expected = "a port number (1-65535) that every worker host reaches"
            port = self.integer(_join(path, "port"), data["port"], minimum=1, expected=expected,
                                fix=f"write {DEFAULT_SCHEDULER_PORT}")
            if port > 65535:
                raise self.fail(_join(path, "port"), expected, port, f"write {DEFAULT_SCHEDULER_PORT}")
            out["port"] = port
        return Listen(**out)

    def listen_host(self, path: str, value: Any) -> str:
        import ipaddress

        expected = "an address of the server's machine (10.0.0.5, a host name) or 0.0.0.0 for all of them"
        if isinstance(value, str) and value:
            try:
                return str(ipaddress.ip_address(value.strip("[]")))
            except ValueError:
                if _HOSTNAME.match(value) and not value.replace(".", "").isdigit():
                    return value
        raise self.fail(path, expected, value, "write e.g. 0.0.0.0, and quote an IPv6 address")

    POOL_KEYS = ("name", "environment", "resources", "interruptible", "min_workers", "max_workers",
                 "idle_timeout", "threads", "pod_template")

    def pool(self, path: str, value: Any, kind: str, kubernetes: Kubernetes | None) -> Pool:
        data = self.mapping(path, value, self.POOL_KEYS, what="a pool",
                            required={"name": "the pool's name, such as gpu"})
        if kind == "hosts":
            for key in ("min_workers", "max_workers", "idle_timeout"):
                if key in data:
                    raise self.fail(_join(path, key), f"no {key} for kind: hosts (each host runs the "
                                    "workers that `plait worker --nworkers` starts there)", data[key],
                                    "remove it, and give --nworkers to `plait worker` on each host")
        name = self.string(_join(path, "name"), data["name"],
                           expected=f"a lower-case name of letters, digits and '-' (at most {_POOL_NAME_MAX})",
                           pattern=_NAME, fix="write e.g. gpu-a100")
        if len(name) > _POOL_NAME_MAX:
            raise self.fail(_join(path, "name"), f"at most {_POOL_NAME_MAX} characters", name, "shorten it")
        environment = self.environment(_join(path, "environment"), data.get("environment", DEFAULT_ENVIRONMENT),
                                       kind)
        shape = self.shape(_join(path, "resources"), data.get("resources", {}))
        interruptible = self.boolean(_join(path, "interruptible"), data.get("interruptible", False))
        count = "a whole number, 0 or more"
        min_workers = self.integer(_join(path, "min_workers"), data.get("min_workers", 0), minimum=0,
                                   expected=count, fix="write e.g. 0")
        max_workers = self.integer(_join(path, "max_workers"), data.get("max_workers", max(min_workers, 1)),
                                   minimum=1, expected="a whole number, 1 or more", fix="write e.g. 4")
        if max_workers < min_workers:
            raise self.fail(_join(path, "max_workers"), f"at least min_workers ({min_workers})", max_workers,
                            f"raise max_workers to {min_workers} or lower min_workers")
        idle = self.duration(_join(path, "idle_timeout"), data.get("idle_timeout", DEFAULT_IDLE_TIMEOUT_S))
        default_threads = max(1, math.floor(shape.cores)) if shape.cores else 1
        threads = self.integer(_join(path, "threads"), data.get("threads", default_threads), minimum=1,
                               expected="a whole number of threads per worker, 1 or more", fix="write e.g. 1")
        template = None
        if "pod_template" in data:
            template = self.pod_template(_join(path, "pod_template"), data["pod_template"], kind)
        return Pool(name=name, environment=environment, resources=shape, interruptible=interruptible,
                    min_workers=min_workers, max_workers=max_workers, idle_timeout_s=idle, threads=threads,
                    pod_template=template)

    def environment(self, path: str, value: Any, kind: str) -> Environment:
        if isinstance(value, str):
            if value == DEFAULT_ENVIRONMENT:
                return Environment()
            if kind == "hosts" and _IMAGE.match(value):
                raise self.fail(path, "default or ImageSpec fields on kind: hosts (each host builds a "
                                "virtual environment from them)", value,
                                "describe the environment with ImageSpec fields (packages: [...]), or "
                                "run this pool with kind: kubernetes")
            image = self.string(path, value, expected="default, an image name or ImageSpec fields",
                                pattern=_IMAGE, fix="write default, an image such as ghcr.io/you/train:1.0, "
                                                    "or a mapping of ImageSpec fields")
            return Environment(image=image)
        fields = ImageSpec.__dataclass_fields__
        data = self.mapping(path, value, tuple(fields), what="default, an image name or ImageSpec fields")
        if kind == "kubernetes":
            for name in ("requirements", "copy", "source_root"):
                if data.get(name):
                    raise self.fail(_join(path, name), "no files for kind: kubernetes (the server "
                                    "names the image from the spec, without your project's files)",
                                    data[name], "build and push the image from this spec, then give its "
                                    "name as the environment")
            if not data.get("registry"):
                raise self.fail(_join(path, "registry"), "the registry the cluster pulls this "
                                "environment's image from (kind: kubernetes)", _MISSING,
                                "add e.g. registry: ghcr.io/you, and build and push the image from this spec")
        try:
            spec = ImageSpec(**data)
        except (UserError, TypeError, ValueError) as exc:
            raise self.adopt(path, exc, data, fields) from None
        return Environment(image_spec=spec)

    def shape(self, path: str, value: Any) -> Shape:
        data = self.mapping(path, value, ("cpu", "mem", "gpu", "accelerator", "partition"),
                            what="a worker's resources")
        cpu = self.quantity(_join(path, "cpu"), data["cpu"], "cpu") if "cpu" in data else None
        mem = self.quantity(_join(path, "mem"), data["mem"], "mem") if "mem" in data else None
        gpu = 0
        if "gpu" in data:
            raw = data["gpu"]
            number = raw if isinstance(raw, int) and not isinstance(raw, bool) else (
                int(raw) if isinstance(raw, str) and raw.isdigit() else None)
            if number is None or number < 0:
                fix = ("GPUs are whole devices on Kubernetes: write a whole number, and give a MIG "
                       "partition with `partition:` for a slice" if isinstance(raw, (str, float)) else "write e.g. 1")
                raise self.fail(_join(path, "gpu"), "a whole number of GPUs such as 1", raw, fix)
            gpu = number
        accelerator = partition = None
        if "accelerator" in data:
            accelerator = self.accelerator(_join(path, "accelerator"), data["accelerator"])
            if not gpu:
                raise self.fail(_join(path, "gpu"), f"at least 1 GPU for accelerator {data['accelerator']}",
                                data.get("gpu", _MISSING), "add gpu: 1")
        if "partition" in data:
            if accelerator is None:
                raise self.fail(_join(path, "accelerator"), "the accelerator that the partition slices",
                                _MISSING, "add e.g. accelerator: A100")
            known = GPUAccelerator(accelerator).partitions
            expected = (f"a MIG partition of {accelerator}: {', '.join(known)}" if known
                        else "a MIG profile such as 1g.5gb")
            partition = self.string(_join(path, "partition"), data["partition"], expected=expected,
                                    pattern=_MIG_PROFILE, choices=known, fix="pick one of those")
        return Shape(cpu=cpu, mem=mem, gpu=gpu, accelerator=accelerator, partition=partition)

    def accelerator(self, path: str, value: Any) -> str:
        if isinstance(value, str) and value in _ACCELERATORS:
            return _ACCELERATORS[value]
        if isinstance(value, str) and _DEVICE.match(value):
            return value  # a device name: nvidia-tesla-a100, or one plait has no constant for
        names = ", ".join(_ACCELERATORS)
        raise self.fail(path, f"an accelerator: one of {names}, or a device name such as nvidia-tesla-t4",
                        value, "write e.g. A100 or nvidia-l4")

    def pod_template(self, path: str, value: Any, kind: str) -> PodTemplate:
        if kind != "kubernetes":
            raise self.fail(path, f"no pod template for kind: {kind} (pods exist on Kubernetes only)",
                            value, "remove it, or use kind: kubernetes")
        data = self.mapping(path, value, ("pod_spec", "primary_container_name", "labels", "annotations"),
                            what="a pod template")
        if "pod_spec" in data and not isinstance(data["pod_spec"], dict):
            raise self.fail(_join(path, "pod_spec"), "a Kubernetes pod spec (a mapping: containers, "
                            "volumes, nodeSelector, ...)", data["pod_spec"], "write it as a mapping")
        containers = (data.get("pod_spec") or {}).get("containers", [])
        if not isinstance(containers, list) or not all(isinstance(c, dict) and c.get("name") for c in containers):
            raise self.fail(_join(path, "pod_spec.containers"), "a list of containers, each with a name",
                            containers, "give each container a name (`worker` or `primary` for the worker's own)")
        for name in ("labels", "annotations"):
            if name in data and not isinstance(data[name], dict):
                raise self.fail(_join(path, name), f"a mapping of {name}", data[name], "write key: value lines")
        try:
            return PodTemplate(pod_spec=data.get("pod_spec"),
                               primary_container_name=data.get("primary_container_name", "primary"),
                               labels=data.get("labels"), annotations=data.get("annotations"))
        except (UserError, TypeError, ValueError) as exc:
            raise self.adopt(path, exc, data, ("primary_container_name", "labels", "annotations")) from None

    # -- the kubernetes section
    K8S_KEYS = ("namespace", "name", "image", "image_pull_policy", "image_pull_secrets", "service_account",
                "tls_secret", "env_from_secrets", "cluster_domain", "accelerator_label", "partition_label",
                "gpu_tolerations", "interruptible", "scheduler", "backend")

    def kubernetes(self, path: str, value: Any) -> Kubernetes:
        if value is _MISSING or value is None:
            raise self.fail(path, "a kubernetes section for kind: kubernetes (at least image and backend)",
                            _MISSING, "add `kubernetes:` with image, backend.database_secret and "
                                      "backend.storage_url (docs/compute.md)")
        data = self.mapping(path, value, self.K8S_KEYS, what="the kubernetes section", required={
            "image": "the image of plait itself (scheduler, backend, default environment), such as "
                     "ghcr.io/you/plait:0.1.0",
            "backend": "the backend's settings: database_secret and storage_url at least"})
        at: Callable[[str], str] = lambda key: _join(path, key)  # noqa: E731
        name_rule = dict(pattern=_NAME, fix="write a lower-case name such as plait")
        out: dict[str, Any] = {}
        out["image"] = self.string(at("image"), data["image"], expected="the image of plait itself",
                                   pattern=_IMAGE, fix="write e.g. ghcr.io/you/plait:0.1.0")
        for key in ("namespace", "service_account", "tls_secret"):
            if key in data:
                out[key] = self.string(at(key), data[key], expected="a Kubernetes name", **name_rule)
        if "name" in data:
            out["name"] = self.string(at("name"), data["name"], expected=f"a lower-case name (at most "
                                      f"{_CLUSTER_NAME_MAX}) for the DaskCluster", **name_rule)
            if len(out["name"]) > _CLUSTER_NAME_MAX:
                raise self.fail(at("name"), f"at most {_CLUSTER_NAME_MAX} characters", out["name"], "shorten it")
        if "image_pull_policy" in data:
            out["image_pull_policy"] = self.string(at("image_pull_policy"), data["image_pull_policy"],
                                                   expected="Always, IfNotPresent or Never",
                                                   choices=("Always", "IfNotPresent", "Never"),
                                                   fix="write IfNotPresent")
        for key in ("image_pull_secrets", "env_from_secrets"):
            if key in data:
                out[key] = self.strings(at(key), data[key], expected="secret names", pattern=_SUBDOMAIN,
                                        fix="regcred")
        if "cluster_domain" in data:
            out["cluster_domain"] = self.string(at("cluster_domain"), data["cluster_domain"],
                                                expected="a DNS domain such as cluster.local", pattern=_SUBDOMAIN,
                                                fix="write cluster.local")
        for key in ("accelerator_label", "partition_label"):
            if data.get(key) is not None:
                out[key] = self.string(at(key), data[key], expected="a Kubernetes node label key",
                                       pattern=_LABEL_KEY, fix="write e.g. k8s.amazonaws.com/accelerator")
        if "gpu_tolerations" in data:
            out["gpu_tolerations"] = self.tolerations(at("gpu_tolerations"), data["gpu_tolerations"])
        if "interruptible" in data:
            spot = self.mapping(at("interruptible"), data["interruptible"], ("node_labels", "tolerations"),
                                what="how interruptible pools find spot nodes")
            out["interruptible"] = Interruptible(
                node_labels=self.labels(_join(at("interruptible"), "node_labels"),
                                        spot.get("node_labels", SPOT_NODE_LABELS)),
                tolerations=self.tolerations(_join(at("interruptible"), "tolerations"),
                                             spot.get("tolerations", list(SPOT_TOLERATIONS))))
        if "scheduler" in data:
            out["scheduler"] = self.scheduler(at("scheduler"), data["scheduler"])
        out["backend"] = self.backend(at("backend"), data["backend"])
        return Kubernetes(**out)

    def scheduler(self, path: str, value: Any) -> Scheduler:
        data = self.mapping(path, value, ("cpu", "mem", "service_type"), what="the Dask scheduler's pod")
        default = Scheduler()
        return Scheduler(
            cpu=self.quantity(_join(path, "cpu"), data["cpu"], "cpu") if "cpu" in data else default.cpu,
            mem=self.quantity(_join(path, "mem"), data["mem"], "mem") if "mem" in data else default.mem,
            service_type=self.service_type(_join(path, "service_type"), data.get("service_type", "ClusterIP")))

    def service_type(self, path: str, value: Any) -> str:
        return self.string(path, value, expected="ClusterIP, NodePort or LoadBalancer",
                           choices=("ClusterIP", "NodePort", "LoadBalancer"), fix="write ClusterIP")

    def backend(self, path: str, value: Any) -> Backend:
        data = self.mapping(path, value, ("database_secret", "token_secret", "secrets_key_secret",
                                          "storage_url", "port",
                                          "service_type", "cpu", "mem"),
                            what="the plait backend's Deployment", required={
                                "database_secret": "the secret with the database URL, such as "
                                                   "{name: plait-db, key: url}",
                                "storage_url": "an object store URL every pod reaches, such as s3://bucket/plait"})
        storage = self.string(_join(path, "storage_url"), data["storage_url"],
                              expected="an object store URL every pod reaches, such as s3://bucket/plait",
                              pattern=re.compile(r"^[a-z][a-z0-9+.-]*://\S+$"),
                              fix="give a URL with a scheme (s3://, gs://, abfs://)")
        if storage.startswith(("file://", "local://", "memory://")):
            raise self.fail(_join(path, "storage_url"), "an object store shared by the backend and the "
                            "workers' pods", storage, "use s3://, gs:// or abfs://")
        default = Backend(SecretKey("x", "x"), "x")
        out: dict[str, Any] = {
            "storage_url": storage,
            "database_secret": self.secret_key(_join(path, "database_secret"), data["database_secret"], "url"),
        }
        if "token_secret" in data:
            out["token_secret"] = self.secret_key(_join(path, "token_secret"), data["token_secret"], "token")
        if "secrets_key_secret" in data:
            out["secrets_key_secret"] = self.secret_key(_join(path, "secrets_key_secret"),
                                                        data["secrets_key_secret"], "key")
        if "port" in data:
            out["port"] = self.integer(_join(path, "port"), data["port"], minimum=1,
                                       expected="a port number (1-65535)", fix="write 8742")
            if out["port"] > 65535:
                raise self.fail(_join(path, "port"), "a port number (1-65535)", out["port"], "write 8742")
        if "service_type" in data:
            out["service_type"] = self.service_type(_join(path, "service_type"), data["service_type"])
        for key in ("cpu", "mem"):
            out[key] = self.quantity(_join(path, key), data[key], key) if key in data else getattr(default, key)
        return Backend(**out)


_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def _join(path: str, key: str) -> str:
    return key if path == "(the file)" else f"{path}.{key}"
