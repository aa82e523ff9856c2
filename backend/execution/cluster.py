"""What the Dask cluster offers, as the executor asks: its workers' Python, resources and slots.

A task's resource settings become Dask resources (GPUs, accelerators); a request
that no worker could ever meet is refused up front, since Dask would wait for
such a worker forever. The workers' list is asked of the scheduler at most
every WORKERS_TTL_S for the questions asked per node.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plait.model.specs import TaskSpec

WORKERS_TTL_S = 5.0


def _python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


class ClusterShape:
    """Questions about the cluster behind a Dask client (`client` is None until connected)."""

    def __init__(self) -> None:
        self.client: Any = None
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

    def unsatisfiable(self, spec: TaskSpec, overrides: dict[str, Any]) -> str | None:
        """Why no worker could ever run this task, or None (Dask would wait forever)."""
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
