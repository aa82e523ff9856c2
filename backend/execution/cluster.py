"""What the Dask cluster offers, as the executor asks: its pools, workers' Python, resources, slots.

With a cluster file (the embedded default's `default_local()`, a `kind: local` file
whose pools `compute.pools.PoolManager` runs, or `kind: kubernetes`), every attempt
is routed to a pool (`route`): the one `compute.placement.choose` picks for the
task's environment, resources, accelerator and interruptible setting, made on
demand for a new environment on `kind: local`. The attempt asks Dask for one slot
of that pool (its `pool-<name>` resource, which only the pool's workers have) and
its GPUs, so it never lands on a worker that does not match. A request that no
pool could meet is refused up front (`unsatisfiable`, as the API's launch check
says), since Dask would wait for such a worker forever.

Without one (an external scheduler, `--dask-scheduler`), a task's GPUs and
accelerator become Dask resources, and a request that no worker of the cluster
offers now is refused. The workers' list is asked of the scheduler at most every
WORKERS_TTL_S for the questions asked per node.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from plait.errors import UserError

from ..compute import placement

if TYPE_CHECKING:
    from plait.model.specs import TaskSpec

    from ..compute.cluster_file import ClusterFile
    from ..compute.contexts import ImageContexts
    from ..compute.pools import PoolManager

WORKERS_TTL_S = 5.0


class NoPool(UserError, LookupError):
    """No pool can run the task (the message names the task, what it asked and the pools)."""


@dataclass(frozen=True)
class Route:
    """Where an attempt goes: its pool (None without pools), the Dask resources it asks for,
    and whether the pool's environment is still being built (Dask holds the attempt until
    the pool has a worker; the executor fails it if the build fails)."""

    pool: str | None
    resources: dict[str, float]
    building: bool = False


def _python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


class ClusterShape:
    """Questions about the cluster behind a Dask client (`client` is None until connected)."""

    def __init__(self, cluster: ClusterFile | None = None) -> None:
        self.client: Any = None
        self.cluster = cluster  # the cluster file whose pools attempts are routed to, if any
        self.manager: PoolManager | None = None  # runs the pools of a local cluster file
        self.contexts: ImageContexts | None = None  # shipped image files (compute/contexts.py)
        self._cached: dict[str, Any] = {}

    def worker_python(self) -> str:
        """The `major.minor` Python of the workers (the executor's own without a client)."""
        if self.client is None:
            return _python()
        versions = self.client.run(lambda: f"{sys.version_info.major}.{sys.version_info.minor}")
        found = sorted(set(versions.values()))
        return found[0] if found else _python()

    def worker_resources(self) -> dict[str, float]:
        """What the workers offer in total: `cpu` (threads), `mem` (bytes) and custom resources."""
        total: dict[str, float] = {}
        for w in self.workers().values():
            for k, v in (w.get("resources") or {}).items():
                total[k] = total.get(k, 0.0) + float(v)
            total["cpu"] = total.get("cpu", 0.0) + float(w.get("nthreads", 0))
            total["mem"] = total.get("mem", 0.0) + float(w.get("memory_limit", 0) or 0)
        return total

    def workers(self) -> dict[str, Any]:
        """The scheduler's view of its workers, now (empty if it cannot be asked)."""
        if self.client is None:
            return {}
        try:
            return dict(self.client.scheduler_info().get("workers", {}))
        except Exception:  # noqa: BLE001 - the scheduler may be restarting
            return {}

    def _workers_cached(self) -> dict[str, Any]:
        now = time.monotonic()
        if not self._cached or now - self._cached.get("_at", 0) > WORKERS_TTL_S:
            self._cached = {"_at": now, "workers": self.workers()}
        return self._cached["workers"]  # type: ignore[no-any-return]

    @staticmethod
    def dask_resources(spec: TaskSpec, overrides: dict[str, Any]) -> dict[str, float]:
        """The Dask resources a task's attempts ask for (GPUs, accelerators), node overrides first."""
        settings = spec.settings
        limits = overrides.get("limits") or settings.get("limits") or {}
        requests = overrides.get("requests") or settings.get("requests") or {}
        accelerator = overrides.get("accelerator") or settings.get("accelerator")
        wanted: dict[str, float] = {}
        gpu = (limits or {}).get("gpu") or (requests or {}).get("gpu")
        if gpu:
            wanted["GPU"] = float(gpu)
        if accelerator:
            device = accelerator.get("device") if isinstance(accelerator, dict) else str(accelerator)
            wanted[f"accelerator-{device}"] = 1.0
        return wanted

    def ask(self, spec: TaskSpec, overrides: dict[str, Any], *, execution: bool | None = None,
            workflow: bool = False, interruptible: bool | None = None) -> placement.Ask:
        # An actor's replicas are a pool of their own where pools are made on demand (kind local);
        # elsewhere its tasks go to the pool that fits them, as other tasks do.
        local = self.cluster is not None and self.cluster.kind == "local"
        actor = spec.extra.get("actor") if local else None
        root = None
        if local and self.contexts is not None and spec.code.get("image_files") and spec.code.get("bundle"):
            root = str(self.contexts.root(str(spec.code["bundle"])))  # the files its ImageSpec reads
        return placement.ask_of(spec.name, spec.settings, overrides, execution=execution,
                                workflow=workflow, interruptible=interruptible, actor=actor, root=root)

    def route(self, spec: TaskSpec, overrides: dict[str, Any], *, execution: bool | None = None,
              workflow: bool = False, interruptible: bool | None = None) -> Route:
        """The pool an attempt of this task goes to, and what it asks of Dask.

        `execution` is the launch's interruptible setting, `workflow` the workflow's default,
        `interruptible` a choice that overrides both and the task's (a last retry that must
        not run on an interruptible pool). Raises NoPool naming the pools when none fits
        (`unsatisfiable` says so before an attempt is made)."""
        if self.cluster is None:
            return Route(None, self.dask_resources(spec, overrides))
        ask = self.ask(spec, overrides, execution=execution, workflow=workflow, interruptible=interruptible)
        if self.manager is not None:
            state = self.manager.place(ask)
            if state is None:
                raise NoPool(str(placement.problem(self.cluster, ask, self.manager.pools())))
            from ..compute.pools import READY

            return Route(state.name, placement.dask_resources(state.pool, ask), state.status != READY)
        pool = placement.choose(self.cluster.pools, ask)
        if pool is None:
            raise NoPool(str(placement.problem(self.cluster, ask)))
        return Route(pool.name, placement.dask_resources(pool, ask))

    def unsatisfiable(self, spec: TaskSpec, overrides: dict[str, Any], *, execution: bool | None = None,
                      workflow: bool = False) -> str | None:
        """Why no worker could ever run this task, or None (Dask would wait forever): a GPU
        in requests only or unequal to its limit, or, with pools, what `placement.problem`
        says (the API's launch check asks the same); without, no worker offering it now."""
        gpu = placement.gpu_problem(spec.name, spec.settings, overrides)
        if gpu is not None:
            return gpu
        if self.cluster is not None:
            ask = self.ask(spec, overrides, execution=execution, workflow=workflow)
            pools = self.manager.pools() if self.manager is not None else None
            return placement.problem(self.cluster, ask, pools)
        wanted = self.dask_resources(spec, overrides)
        settings = spec.settings
        requests = overrides.get("requests") or settings.get("requests") or {}
        if not wanted and not (requests or {}).get("mem"):
            return None
        workers = self._workers_cached()
        if not workers:
            return None
        for w in workers.values():
            have = w.get("resources") or {}
            if all(float(have.get(k, 0)) >= v for k, v in wanted.items()):
                mem = (requests or {}).get("mem")
                if mem and w.get("memory_limit") and _bytes(mem) > float(w["memory_limit"]):
                    continue
                return None
        need = ", ".join(f"{k}={v:g}" for k, v in wanted.items()) or f"mem={requests.get('mem')}"
        offered = sorted({k for w in workers.values() for k in (w.get("resources") or {})}) or ["none"]
        return (
            f"task `{spec.name}` needs {need} but no Dask worker offers it (worker resources: "
            f"{', '.join(offered)}); start workers with e.g. `dask worker ... --resources GPU=1`, "
            "or lower the request"
        )

    def map_window(self, concurrency: int) -> int:
        """How many batches of a map may be on Dask at once: `concurrency`, or twice the slots."""
        slots = sum(int(w.get("nthreads", 1)) for w in self._workers_cached().values()) or 2
        return concurrency or max(2, slots * 2)

    def map_batch_size(self, count: int, concurrency: int) -> int:
        """Items per batch: one with a concurrency limit, else about four batches per slot."""
        if concurrency:
            return 1
        slots = sum(int(w.get("nthreads", 1)) for w in self._workers_cached().values()) or 2
        return max(1, min(500, count // (slots * 4) or 1))


def _bytes(quantity: Any) -> float:
    try:
        from plait.config.resources import parse_memory

        return float(parse_memory(quantity))
    except Exception:  # noqa: BLE001
        return 0.0
