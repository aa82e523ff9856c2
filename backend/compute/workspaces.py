"""Where a workspace runs: the checks of its spec against this server, and what a start needs.

`refusal` answers, before anything is stored, whether the server can run a spec:
its image (none: the server's environment; ImageSpec fields: a virtual
environment built like a task's; not an image name: workspaces run as
processes on the server's machine), its
resources and accelerator (a pool of the cluster file that fits, else this
machine's cores and memory, and no GPU without a GPU pool), and its secrets
(each in the store for its project and domain). `prepare` is the backend's
part of a start, on the manager's thread: the built environment, the secrets'
values as environment variables (only in the workspace's processes), the CPU
share, the memory limit, the pool and the GPUs it may see.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plait.config.image_spec import ImageSpec
from plait.config.resources import parse_cpu, parse_memory

if TYPE_CHECKING:
    from ..store import Database
    from .cluster_file import ClusterFile, Pool


@dataclass(frozen=True)
class Refusal:
    field: str
    message: str


def _ask(spec: Mapping[str, Any], what: str = "workspace") -> Any:
    from .placement import ask_of

    settings = {"requests": {k: v for k, v in (spec.get("resources") or {}).items() if v is not None},
                "accelerator": spec.get("accelerator"),
                "container_image": spec.get("container_image")}
    return ask_of(f"{what} {spec.get('name')}", settings)


def _machine_problem(spec: Mapping[str, Any]) -> Refusal | None:
    import psutil

    resources = spec.get("resources") or {}
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if resources.get("cpu") is not None and parse_cpu(resources["cpu"], name="cpu") > cores:
        return Refusal("resources.cpu", f"resources.cpu is {resources['cpu']}, but this server's machine has "
                                        f"{cores} cores and no pools; ask for at most {cores}, or start the "
                                        "server with a cluster file that has a larger pool (--cluster)")
    total = psutil.virtual_memory().total
    if resources.get("mem") is not None and parse_memory(resources["mem"], name="mem") > total:
        return Refusal("resources.mem", f"resources.mem is {resources['mem']}, but this server's machine has "
                                        f"{total / 2**30:.1f} GiB and no pools; ask for less")
    gpu = resources.get("gpu")
    if (gpu is not None and parse_cpu(gpu, name="gpu") > 0) or spec.get("accelerator"):
        field = "accelerator" if spec.get("accelerator") else "resources.gpu"
        return Refusal(field, f"{field} asks for a GPU, but this server has no GPU pool; start it with a "
                              "cluster file that declares one (plait server --cluster FILE, docs/compute.md), "
                              "or leave the GPU out")
    return None


def refusal(spec: Mapping[str, Any], *, cluster: ClusterFile | None, db: Database,
            what: str = "workspace") -> Refusal | None:
    """Why this server cannot run `spec` (the field and the message), or None. Apps ask the same
    of their resources (`what="app"`, the spec's `resources` their limits or requests)."""
    image = spec.get("container_image")
    if isinstance(image, str):
        return Refusal("container_image", f"container_image is the image name {image!r}, but this server "
                                          "runs workspaces as processes on its own machine, in virtual "
                                          "environments: give ImageSpec fields (packages: [...]) instead, or "
                                          "leave container_image out for the server's own environment")
    if cluster is not None and cluster.pools:
        from .placement import choose

        ask = _ask(spec, what)
        if choose(cluster.pools, ask, environment=False) is None:
            listed = "; ".join(p.describe() for p in cluster.pools)
            return Refusal("resources", f"{what} {spec.get('name')} asks for {ask.describe()}, which no "
                                        f"pool of {cluster.source} offers; the pools: {listed}. Lower the "
                                        "request, or declare a pool that fits")
    else:
        problem = _machine_problem(spec)
        if problem is not None:
            return problem
    wanted = [str(s.get("key")) for s in spec.get("secrets") or []]
    if wanted:
        from ..store import queries

        with db.session(readonly=True) as s:
            have = queries.secret_names(s, str(spec.get("project")), str(spec.get("domain")))
        for key in wanted:
            if key not in have:
                return Refusal("secrets", f"secrets: `{key}` is not in the secret store of project "
                                          f"`{spec.get('project')}`, domain `{spec.get('domain')}`; create it "
                                          f"with `plait create secret {key} --project {spec.get('project')}` "
                                          "or remove it from the workspace")
    return None


def _pool(spec: Mapping[str, Any], cluster: ClusterFile | None) -> Pool | None:
    if cluster is None or not cluster.pools:
        return None
    from .placement import choose

    return choose(cluster.pools, _ask(spec), environment=False)


def prepare(spec: Mapping[str, Any], *, project: str, domain: str, db: Database, home: Path,
            cluster: ClusterFile | None) -> dict[str, Any]:
    """What a start needs: `env` (secrets, GPU visibility, the environment's variables),
    `path_first`, `cpus`, `mem_limit` (bytes), `pool` (its name)."""
    from plait.environments import resolve

    from ..secrets import decrypt, scope_text
    from ..store import queries

    env: dict[str, str] = {}
    path_first = str(Path(sys.executable).parent)  # the server's environment: its python and plait first
    image = spec.get("container_image")
    if isinstance(image, Mapping):
        built = resolve(ImageSpec(**image), home=home)
        variables = built.variables()
        path_first = str(built.path / "bin")
        env.update({k: v for k, v in variables.items() if k != "PATH"})
    mounts = [(str(s.get("key")), str(s.get("env_var") or s.get("key"))) for s in spec.get("secrets") or []]
    if mounts:
        with db.session(readonly=True) as s:
            tokens = queries.secret_tokens(s, project, domain, [key for key, _ in mounts])
        for key, var in mounts:
            found = tokens.get(key)
            if found is None:
                raise LookupError(f"secret `{key}` is no longer in the store of project `{project}`, domain "
                                  f"`{domain}`; create it again or remove it from the workspace")
            token, scope = found
            env[var] = decrypt(token, key, scope_text(project, scope), home)
    resources = spec.get("resources") or {}
    cpus = math.ceil(parse_cpu(resources["cpu"], name="cpu")) if resources.get("cpu") else None
    mem = parse_memory(resources["mem"], name="mem") if resources.get("mem") else None
    pool = _pool(spec, cluster)
    gpu = parse_cpu(resources["gpu"], name="gpu") if resources.get("gpu") else 0
    if gpu or spec.get("accelerator"):
        devices = pool_devices(pool) if pool is not None else []
        env["CUDA_VISIBLE_DEVICES"] = ",".join(devices[:max(math.ceil(gpu), 1)])
    else:
        env["CUDA_VISIBLE_DEVICES"] = ""  # no GPU asked: none visible
    return {"env": env, "path_first": path_first, "cpus": cpus, "mem_limit": mem,
            "pool": pool.name if pool is not None else None}


def pool_devices(pool: Pool) -> list[str]:
    """The GPU ids a pool's workers may use: its `CUDA_VISIBLE_DEVICES`, else 0..gpus-1."""
    env = getattr(pool, "env", None) or {}
    visible = env.get("CUDA_VISIBLE_DEVICES") if isinstance(env, Mapping) else None
    if visible:
        return [d for d in str(visible).split(",") if d]
    count = int(getattr(pool.resources, "gpu", 0) or 0)
    return [str(i) for i in range(count)]
