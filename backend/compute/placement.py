"""Which pool runs an attempt: what a task asks for, and the smallest pool that gives it.

    ask = ask_of(task.name, task.settings, node.overrides, execution=None, workflow=False)
    pool = choose(cluster.pools, ask)          # None: no pool fits
    problem(cluster, ask)                      # why none can, for a 422 or a failed node

A task asks for an environment (its `container_image`: the default environment, an
ImageSpec, or an image name), cores and memory (`requests`, else `limits`, as
Kubernetes takes a limit for a missing request), GPUs (`limits` only, as the
reference says: a GPU in `requests` alone, or unequal GPU requests and limits, are
refused by `gpu_problem`), an accelerator with its MIG partition, and whether it is
interruptible (a launch's setting first, then the node's override, the task's
setting, the workflow's default).

A pool fits when it has the environment, at least the cores, memory and GPUs
(a quantity the pool does not declare does not bound it), the accelerator (and
partition, or whole GPUs when the task says `unpartitioned`), and is not
interruptible unless the task is. `choose` takes, deterministically, the fitting
pool that is interruptible as the task is, then the smallest: fewest GPUs, cores,
memory, then by name. On `kind: local` an environment no pool has is made on
demand (compute/pools.py) with the shape of the pool `choose` picks ignoring the
environment, so only the shape must fit there. The API refuses a launch whose
task no pool could run (api/launching.py) and the executor fails such a node
(a dynamic task's children): both ask `problem`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from plait.config.image_spec import ImageSpec
from plait.config.resources import parse_cpu, parse_memory
from plait.errors import InputError

from .cluster_file import DEFAULT_ENVIRONMENT, ClusterFile, Environment, Pool

DEFAULT_KEY = DEFAULT_ENVIRONMENT  # the environment key of plait's own environment
_IMAGE_KEYS: dict[str, tuple[str, Environment]] = {}  # ImageSpec fields (JSON) -> (key, environment)
_IMAGE_KEYS_MAX = 512


@dataclass(frozen=True)
class Ask:
    """What one task's attempts need of a pool. `cpu_text`/`mem_text`/`gpu_text` are the
    quantities as the task wrote them (for messages)."""

    task: str
    environment: Environment
    env_key: str
    cpu: float | None = None
    mem: int | None = None
    gpu: float = 0.0
    accelerator: str | None = None
    partition: str | None = None
    whole: bool = False
    interruptible: bool = False
    cpu_text: str | None = None
    mem_text: str | None = None
    gpu_text: str | None = None
    actor: str | None = None  # an actor task's ActorEnvironment: it runs only on that actor's replicas
    replicas: int = 1
    ttl_s: float | None = None

    def describe(self, *, mention_interruptible: bool = False) -> str:
        """`cpu 2, mem 4Gi, 1 GPU nvidia-tesla-a100 (1g.5gb) in ImageSpec x:abc`."""
        parts = [f"{k} {v}" for k, v in (("cpu", self.cpu_text), ("mem", self.mem_text)) if v]
        if self.gpu or self.accelerator:
            device = f" {self.accelerator}" if self.accelerator else ""
            slice_ = f" ({self.partition})" if self.partition else " (whole)" if self.whole else ""
            parts.append(f"{self.gpu_text or _number(self.gpu)} GPU{device}{slice_}")
        if mention_interruptible:
            parts.append("interruptible" if self.interruptible else "not interruptible")
        what = ", ".join(parts) or "no resources"
        if not self.environment.is_default:
            what += f" in {self.environment.describe()}"
        return what


def _number(value: float) -> str:
    return f"{value:g}"


def environment_of(value: Any, root: str | None = None) -> tuple[str, Environment]:
    """A task's `container_image` (None, an image name, or ImageSpec fields) as (key,
    environment): the key is `default`, the image name, or the ImageSpec's image name (a
    hash of its contents, with the files it pulls in read from `root`: the task's shipped
    image files), so equal environments have equal keys."""
    if root is not None and isinstance(value, Mapping):
        spec = ImageSpec.from_spec(value)
        return spec.image_name(root), Environment(image_spec=spec, root=root)
    if value is None:
        return DEFAULT_KEY, Environment()
    if isinstance(value, str):
        return value, Environment(image=value)
    if isinstance(value, ImageSpec):
        return value.image_name(), Environment(image_spec=value)
    if not isinstance(value, Mapping):
        raise InputError(f"container_image={value!r}: expected an image name or ImageSpec fields, "
                         f"got {type(value).__name__}; register the task again with plait.ImageSpec(...)")
    text = json.dumps(value, sort_keys=True, default=str)
    found = _IMAGE_KEYS.get(text)
    if found is None:
        spec = ImageSpec.from_spec(value)
        found = (spec.image_name(), Environment(image_spec=spec))
        if len(_IMAGE_KEYS) >= _IMAGE_KEYS_MAX:
            _IMAGE_KEYS.clear()
        _IMAGE_KEYS[text] = found
    return found


def pool_env_key(pool: Pool) -> str:
    env = pool.environment
    if env.image_spec is not None:
        return env.image_spec.image_name(env.root)
    return env.image or DEFAULT_KEY


def _setting(settings: Mapping[str, Any], overrides: Mapping[str, Any], key: str) -> Any:
    value = overrides.get(key) if overrides else None
    return value if value is not None else settings.get(key)


def _quantity(block: Any, key: str) -> Any:
    return block.get(key) if isinstance(block, Mapping) else None


def gpu_problem(task: str, settings: Mapping[str, Any], overrides: Mapping[str, Any] | None = None) -> str | None:
    """The reference's rule for GPUs ("GPUs take only limits"): a GPU in `requests` without
    one in `limits`, or GPU requests and limits that differ, is refused; None when it holds."""
    overrides = overrides or {}
    requests = _setting(settings, overrides, "requests")
    limits = _setting(settings, overrides, "limits")
    requested, limited = _quantity(requests, "gpu"), _quantity(limits, "gpu")
    if requested is None:
        return None
    if limited is None:
        return (f"task {task} requests gpu={requested!r} without a GPU limit; GPUs take only limits "
                f"(the limit is the request too): write limits=Resources(gpu={requested!r}) and drop "
                "the GPU from requests")
    try:
        equal = parse_cpu(requested, name="gpu") == parse_cpu(limited, name="gpu")
    except (ValueError, TypeError):
        equal = str(requested) == str(limited)
    if not equal:
        return (f"task {task} requests gpu={requested!r} but limits gpu={limited!r}; GPU requests "
                f"and limits must be equal: give the GPUs in limits only (limits=Resources(gpu="
                f"{limited!r}))")
    return None


def ask_of(task: str, settings: Mapping[str, Any], overrides: Mapping[str, Any] | None = None, *,
           execution: bool | None = None, workflow: bool = False,
           interruptible: bool | None = None, actor: Mapping[str, Any] | None = None,
           root: str | None = None) -> Ask:
    """What a task (its settings with a node's `overrides`) asks of a pool; `actor`: the
    ActorEnvironment of an actor task (its spec's `actor`: name, replica_count, ttl_seconds);
    `root`: where the files its ImageSpec pulls in are (compute/contexts.py).

    Interruptible: `interruptible` when given (a retry that must run on a pool that is not),
    else the launch's setting (`execution`, None when not set), the node's override, the
    task's setting, then the workflow's default (`workflow`)."""
    overrides = overrides or {}
    requests = _setting(settings, overrides, "requests") or {}
    limits = _setting(settings, overrides, "limits") or {}
    key, environment = environment_of(_setting(settings, overrides, "container_image"), root)
    out: dict[str, Any] = {}
    for name, parse in (("cpu", parse_cpu), ("mem", parse_memory)):
        text = _quantity(requests, name) or _quantity(limits, name)
        if text is not None:
            out[name] = parse(text, name=name)
            out[f"{name}_text"] = str(text)
    gpu_text = _quantity(limits, "gpu") or _quantity(requests, "gpu")
    gpu = parse_cpu(gpu_text, name="gpu") if gpu_text is not None else 0.0
    accelerator = _setting(settings, overrides, "accelerator")
    device = partition = None
    whole = False
    if isinstance(accelerator, Mapping):
        device = accelerator.get("device")
        partition = accelerator.get("partition_size")
        whole = bool(accelerator.get("unpartitioned"))
    elif accelerator:
        device = str(accelerator)
    if device and not gpu:
        gpu = 1.0  # an accelerator is a kind of GPU: one of them
    if interruptible is None:
        interruptible = execution
    if interruptible is None:
        interruptible = _setting(settings, overrides, "interruptible")
    if interruptible is None:
        interruptible = workflow
    if actor:
        out["actor"] = str(actor.get("name"))
        out["replicas"] = max(int(actor.get("replica_count") or 1), 1)
        ttl = actor.get("ttl_seconds")
        out["ttl_s"] = float(ttl) if ttl else None
    return Ask(task=task, environment=environment, env_key=key, gpu=float(gpu),
               gpu_text=None if gpu_text is None else str(gpu_text), accelerator=device,
               partition=partition, whole=whole, interruptible=bool(interruptible), **out)


def fits(pool: Pool, ask: Ask, *, environment: bool = True) -> bool:
    """Whether every worker of `pool` can run the task (with `environment` False: but for
    its environment)."""
    if environment and pool_env_key(pool) != ask.env_key:
        return False
    if pool.actor != ask.actor and (environment or pool.actor is not None):
        return False  # an actor's replicas run its tasks only, and its tasks run only there
    if pool.interruptible and not ask.interruptible:
        return False
    shape = pool.resources
    if ask.cpu is not None and shape.cores is not None and shape.cores + 1e-9 < ask.cpu:
        return False
    if ask.mem is not None and shape.mem_bytes is not None and shape.mem_bytes < ask.mem:
        return False
    if shape.gpu + 1e-9 < ask.gpu:
        return False
    if ask.accelerator is not None:
        if shape.accelerator != ask.accelerator:
            return False
        if ask.partition is not None and shape.partition != ask.partition:
            return False
        if ask.whole and shape.partition is not None:
            return False
    return True


def _size(pool: Pool, ask: Ask) -> tuple[Any, ...]:
    shape = pool.resources
    return (pool.interruptible != ask.interruptible, shape.gpu,
            shape.cores if shape.cores is not None else math.inf,
            shape.mem_bytes if shape.mem_bytes is not None else math.inf,
            shape.accelerator is not None, pool.name)


def choose(pools: Iterable[Pool], ask: Ask, *, environment: bool = True) -> Pool | None:
    """The pool that runs `ask`: of those that fit, one interruptible as the task is, then
    the smallest (GPUs, cores, memory), then by name; None when none fits."""
    fitting = [p for p in pools if fits(p, ask, environment=environment)]
    return min(fitting, key=lambda p: _size(p, ask)) if fitting else None


def makes_environments(cluster: ClusterFile) -> bool:
    """Whether pools are made on demand for environments no pool has (`kind: local`)."""
    return cluster.kind == "local"


def can_make(ask: Ask) -> bool:
    """Whether a local pool can be made for the ask's environment: the default one, or an
    ImageSpec (built into a virtual environment); not an image name."""
    return ask.environment.image is None


def problem(cluster: ClusterFile, ask: Ask, pools: Iterable[Pool] | None = None) -> str | None:
    """Why no pool of `cluster` (or `pools`, those it has now) could run `ask`, naming the
    task, what it asked and the pools; None when one can (or can be made for it)."""
    known = tuple(cluster.pools if pools is None else pools)
    if choose(known, ask) is not None:
        return None
    shaped = choose(known, ask, environment=False)
    if shaped is not None and makes_environments(cluster) and can_make(ask):
        return None
    listed = "; ".join(p.describe() for p in known) or "none"
    mention = any(p.interruptible for p in known) or ask.interruptible
    if shaped is not None:  # the shape fits: the environment is missing
        if makes_environments(cluster):
            return (f"task {ask.task} runs in {ask.environment.describe()}, which a local pool "
                    f"cannot run (local pools build environments from ImageSpec fields); the pools: "
                    f"{listed}. Describe the environment as plait.ImageSpec(...), or run on "
                    "kind: kubernetes")
        return (f"task {ask.task} runs in {ask.environment.describe()}, which no pool of "
                f"{cluster.source} has; the pools: {listed}. Declare a pool with that environment "
                "(docs/compute.md), or use one a pool has")
    return (f"task {ask.task} asks for {ask.describe(mention_interruptible=mention)}, which no pool "
            f"offers; the pools: {listed}. Declare a pool that fits in the cluster file "
            "(plait server --cluster, docs/compute.md), or lower the request")


def dask_resources(pool: Pool, ask: Ask) -> dict[str, float]:
    """The Dask resources an attempt routed to `pool` asks for: one slot of the pool (its
    `pool-<name>` tag), and its GPUs, so GPU attempts do not share a device."""
    wanted = {f"pool-{pool.name}": 1.0}
    if ask.gpu:
        wanted["GPU"] = ask.gpu
    return wanted
