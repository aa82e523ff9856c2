"""The local pool runtime: Dask workers of each pool as processes of this machine, scaled.

    manager = PoolManager(cluster, client, scheduler_address, tls=tls_files, home=home,
                          on_built=lambda name, error: ...)
    manager.start()
    state = manager.place(ask)        # the pool that runs it (made on demand for a new environment)
    manager.poke(state.name)          # an attempt was sent there: look at the load now
    manager.stop()                    # every worker process it started is stopped

For a `kind: local` cluster file (and the embedded default, `default_local()`), the
executor's scheduler runs in the server process as before, with no workers of its
own; the manager starts each pool's workers as

    <environment python> -m distributed.cli.dask_worker tls://127.0.0.1:PORT --name <pool>-<n>
        --nthreads T --resources pool-<pool>=T,GPU=... --memory-limit <mem> --no-nanny
        --no-dashboard --tls-ca-file ... --tls-cert ... --tls-key ...

in the pool's environment: the server's own Python for the default environment, the
virtual environment that `plait.environments.resolve` builds for an ImageSpec (its
variables, and its root as the working directory). The executor registers its
worker plugin (execution/worker.py `WorkerSetup`) on the client: every worker runs it
when it joins. Workers inherit the server's environment (the plugin opens the object
store with it, then cleans it); `PLAIT_KEEP_ENV` names the environment's own
variables that the cleaning keeps.

Scaling: every SCALE_EVERY_S (and at once when poked) the manager asks the
scheduler how many attempts each pool runs or waits for (`_pool_load`: tasks
processing on its workers, tasks that no worker can take yet), and keeps
ceil(load / threads) workers, between `min_workers` and `max_workers`; processes
that have not registered yet count, so a burst never starts more than
`max_workers`. A worker idle for `idle_timeout` is retired (its data moved to
another worker first) down to the load or `min_workers`. A pool poked while it has
no worker starts one at once, before the scheduler has seen the attempt.

Pools for environments no pool has are made on demand (`place`): the shape of the
pool `placement.choose` picks ignoring the environment, named after the
environment, with no workers until an attempt comes. Building an environment takes
seconds: it happens on a thread of its own, and `on_built(name, error)` says when it
is done (the executor fails the attempts waiting for a build that failed).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .cluster_file import ClusterFile, ClusterFileError, Environment, Pool
from .placement import Ask, can_make, choose, pool_env_key

log = logging.getLogger(__name__)

SCALE_EVERY_S = 0.5  # how often the load is looked at without a poke
MIN_GAP_S = 0.05  # the shortest time between two looks (a burst of pokes is one look)
POKE_HINT_S = 5.0  # a pool poked this recently with no worker gets one before the scheduler says so
RETIRE_WAIT_S = 10.0  # a retired worker's process that has not exited by then is terminated
STOP_WAIT_S = 5.0  # on stop, SIGTERM then this long before SIGKILL
_NAME_PART = re.compile(r"[^a-z0-9]+")

READY, BUILDING, FAILED = "ready", "building", "failed"


@dataclass
class WorkerProcess:
    """One worker process of a pool."""

    name: str
    popen: subprocess.Popen[bytes]
    folder: str
    started: float
    address: str | None = None  # once registered with the scheduler
    idle_since: float | None = None
    retired_at: float | None = None
    slot: int = 0  # which of the pool's GPU slices it has (GPU pools)

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None


@dataclass
class PoolState:
    """A pool as the manager runs it: its environment (built or not) and its workers."""

    pool: Pool
    env_key: str
    on_demand: bool = False
    status: str = READY
    environment: Any = None  # plait.environments.Environment; None for the default environment
    error: BaseException | None = None
    workers: dict[str, WorkerProcess] = field(default_factory=dict)
    seq: int = 0
    poked_at: float = 0.0
    ever: int = 0  # worker processes started in all

    @property
    def name(self) -> str:
        return self.pool.name

    def live(self) -> list[WorkerProcess]:
        return [w for w in self.workers.values() if w.alive]


@dataclass(frozen=True)
class WorkerCommand:
    """How to start one Dask worker of a pool: its command line, variables and working folder
    (None: the starter's own)."""

    argv: list[str]
    env: dict[str, str]
    cwd: str | None


def worker_command(pool: Pool, scheduler: str, *, name: str, folder: str, environment: Any = None,
                   tls: Any = None, host: str | None = None,
                   base_env: Mapping[str, str] | None = None) -> WorkerCommand:
    """The command of one Dask worker of `pool` joining `scheduler`, named `name`, with `folder`
    as its local directory: the pool's threads, memory limit and Dask resources, in the pool's
    `environment` (a built `plait.environments.Environment`: its Python, variables and root as
    working folder; None: this Python), with the cluster's `tls` files (`security.TlsFiles`;
    None for tcp://). `host` is the address it listens on and gives the scheduler (None: the
    one Dask picks; its HTTP server stays on loopback); `base_env` the variables it starts from
    (default `os.environ`). The pool runtime here (`PoolManager`) and `plait worker` on other
    hosts both start workers so."""
    base = dict(os.environ if base_env is None else base_env)
    python = str(environment.python) if environment is not None else sys.executable
    resources = ",".join(f"{k}={v:g}" for k, v in pool.dask_resources().items())
    scheme = scheduler.split("://", 1)[0] if "://" in scheduler else "tcp"
    argv = [python, "-m", "distributed.cli.dask_worker", scheduler, "--name", name,
            "--nthreads", str(pool.threads), "--resources", resources, "--no-nanny",
            "--no-dashboard", "--dashboard-address", "127.0.0.1:0",
            "--protocol", scheme, "--local-directory", folder, "--death-timeout", "60"]
    if host is not None:
        argv += ["--host", host]
    if pool.resources.mem_bytes:
        argv += ["--memory-limit", str(pool.resources.mem_bytes)]
    variables = {**base, **dask_config(tls), "PLAIT_POOL": pool.name}
    cwd = None
    if environment is not None:
        own = environment.variables(base)
        variables.update(own)
        variables["PLAIT_KEEP_ENV"] = ",".join(sorted(own))
        cwd = str(environment.workdir)
    if tls is not None:
        argv += ["--tls-ca-file", str(tls.ca_file), "--tls-cert", str(tls.cert), "--tls-key", str(tls.key)]
    return WorkerCommand(argv, variables, cwd)


def gpu_slice(pool: Pool, slot: int, visible: str | None) -> str | None:
    """CUDA_VISIBLE_DEVICES of the worker in `slot` of a GPU pool on this machine, so that its
    workers never share a device: the slot's consecutive `gpu` devices of the machine's own
    CUDA_VISIBLE_DEVICES (or of 0, 1, ...). None for a pool without GPUs, or of one worker (it
    sees what the machine gives it)."""
    per_worker = int(pool.resources.gpu or 0)
    if not per_worker or pool.max_workers < 2:
        return None
    given = [d.strip() for d in (visible or "").split(",") if d.strip()]
    devices = given or [str(i) for i in range(per_worker * pool.max_workers)]
    chosen = devices[slot * per_worker:(slot + 1) * per_worker]
    return ",".join(chosen) if len(chosen) == per_worker else None


def dask_config(tls: Any) -> dict[str, str]:
    """Dask configuration of a pool's workers, as variables: TLS required (the scheduler's),
    their HTTP server with the cluster's certificate too, and quiet logs."""
    config = {"DASK_LOGGING__DISTRIBUTED": "warning"}
    if tls is not None:
        config.update({
            "DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION": "True",
            "DASK_DISTRIBUTED__SCHEDULER__DASHBOARD__TLS__CA_FILE": str(tls.ca_file),
            "DASK_DISTRIBUTED__SCHEDULER__DASHBOARD__TLS__CERT": str(tls.cert),
            "DASK_DISTRIBUTED__SCHEDULER__DASHBOARD__TLS__KEY": str(tls.key),
        })
    return config


def check_local(cluster: ClusterFile) -> None:
    """Refuse what a local pool cannot run: an environment named by a container image."""
    for i, pool in enumerate(cluster.pools):
        if pool.environment.image is not None:
            raise ClusterFileError(
                cluster.source, f"pools[{i}].environment", "default or ImageSpec fields on kind: local "
                "(a local pool runs a virtual environment built from them)", repr(pool.environment.image),
                "describe the environment with ImageSpec fields (packages: [...]), or run this pool "
                "with kind: kubernetes")


def _pool_load(dask_scheduler: Any) -> dict[str, Any]:
    """On the scheduler: per pool, its workers {name: (address, tasks processing)} and the
    number of tasks restricted to it that no worker could take yet."""
    out: dict[str, Any] = {}
    for ws in list(dask_scheduler.workers.values()):
        pool = next((k[5:] for k in ws.resources if k.startswith("pool-")), None)
        if pool is None:
            continue
        entry = out.setdefault(pool, {"workers": {}, "waiting": 0})
        entry["workers"][str(ws.name)] = (ws.address, len(ws.processing))
    for ts in list(dask_scheduler.unrunnable):
        for key in ts.resource_restrictions or ():
            if key.startswith("pool-"):
                out.setdefault(key[5:], {"workers": {}, "waiting": 0})["waiting"] += 1
    return out


def on_demand_name(template: Pool, env: Environment, taken: set[str]) -> str:
    """A pool name for `env` made on demand: `<image name>-<hash>` (the template's name first
    when it is not the plain CPU pool), a DNS label of at most 40 characters."""
    spec = env.image_spec
    base = _NAME_PART.sub("-", (spec.name if spec is not None else "default").lower()).strip("-") or "env"
    tag = spec.tag(env.root)[:8] if spec is not None else "env"
    prefix = "" if not (template.resources.gpu or template.interruptible) else f"{template.name}-"
    name = f"{prefix}{base}"[: 40 - len(tag) - 1].rstrip("-") + f"-{tag}"
    n, found = 1, name
    while found in taken:
        n += 1
        found = f"{name[: 40 - len(str(n)) - 1]}-{n}"
    return found


def actor_pool(template: Pool, ask: Ask, taken: set[str]) -> Pool:
    """The pool of an ActorEnvironment's replicas: `actor-<name>`, `replicas` workers of one
    thread in the actor's environment with the template's shape, kept `ttl_s` (else the
    template's idle timeout) after their last task."""
    base = "actor-" + (_NAME_PART.sub("-", str(ask.actor).lower()).strip("-") or "actor")
    name, n = base[:40], 1
    while name in taken:
        n += 1
        name = f"{base[: 40 - len(str(n)) - 1]}-{n}"
    return replace(template, name=name, environment=ask.environment, min_workers=0,
                   max_workers=ask.replicas, threads=1, pod_template=None, actor=ask.actor,
                   idle_timeout_s=ask.ttl_s if ask.ttl_s is not None else template.idle_timeout_s)


class PoolManager:
    """Starts, scales and stops the worker processes of a local cluster file's pools."""

    def __init__(self, cluster: ClusterFile, client: Any, scheduler: str, *, tls: Any = None,
                 home: str | os.PathLike[str] | None = None,
                 on_built: Callable[[str, BaseException | None], None] | None = None) -> None:
        """`client`: a Dask client of the scheduler at `scheduler`; `tls`: the cluster's
        `security.TlsFiles` (None for tcp://); `home`: where environments are built
        (default `$PLAIT_HOME`); `on_built(pool, error)`: called from a build's thread."""
        check_local(cluster)
        self.cluster = cluster
        self.client = client
        self.scheduler = scheduler
        self.tls = tls
        self.home = home
        self.on_built = on_built
        self.lock = threading.RLock()
        self.states: dict[str, PoolState] = {}
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._builds: list[threading.Thread] = []
        for pool in cluster.pools:
            self.states[pool.name] = PoolState(pool, pool_env_key(pool))

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Build the declared pools' environments (in the background) and start scaling."""
        for state in list(self.states.values()):
            if state.pool.environment.image_spec is not None:
                self._build(state)
        self._thread = threading.Thread(target=self._loop, name="plait-pools", daemon=True)
        self._thread.start()
        self.poke()

    def stop(self) -> None:
        """Stop scaling and every worker process this manager started (SIGTERM, then SIGKILL)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self.lock:
            workers = [w for s in self.states.values() for w in s.workers.values()]
        for w in workers:
            if w.alive:
                with contextlib.suppress(ProcessLookupError):
                    w.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_WAIT_S
        for w in workers:
            try:
                w.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    w.popen.kill()
                w.popen.wait(timeout=10)
            shutil.rmtree(w.folder, ignore_errors=True)
        self._stop_builders()

    @staticmethod
    def _stop_builders() -> None:
        """Environment builds still running when the server stops: their uv processes go too."""
        try:
            import psutil
        except ImportError:  # pragma: no cover - psutil is a server dependency
            return
        for child in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if Path(child.exe()).name == "uv" or child.name() == "uv":
                    child.kill()

    # ------------------------------------------------------------------ placement
    def pools(self) -> list[Pool]:
        with self.lock:
            return [s.pool for s in self.states.values()]

    def state(self, name: str) -> PoolState | None:
        with self.lock:
            return self.states.get(name)

    def place(self, ask: Ask) -> PoolState | None:
        """The pool that runs `ask` (`placement.choose`), made now for an environment that no
        pool has (its build starts in the background); None when no pool can be made for it.
        A pool whose build failed is built again for the next attempt that comes."""
        with self.lock:
            states = list(self.states.values())
            chosen = choose([s.pool for s in states], ask)
            if chosen is not None:
                state = self.states[chosen.name]
                if state.status == FAILED:
                    self._build(state)
                return state
            if not can_make(ask):
                return None
            template = choose([s.pool for s in states if not s.on_demand], ask, environment=False)
            if template is None:
                return None
            if ask.actor is not None:
                pool = actor_pool(template, ask, set(self.states))
            else:
                name = on_demand_name(template, ask.environment, set(self.states))
                pool = replace(template, name=name, environment=ask.environment, min_workers=0,
                               pod_template=None)
            state = PoolState(pool, ask.env_key, on_demand=True)
            self.states[pool.name] = state
            log.info("pool %s made on demand for %s", pool.name,
                     f"actor {ask.actor}" if ask.actor else ask.environment.describe())
            if ask.environment.image_spec is not None:
                self._build(state)
            return state

    def _build(self, state: PoolState) -> None:
        """Resolve the pool's environment on a thread of its own (under the lock)."""
        state.status, state.error = BUILDING, None
        spec = state.pool.environment.image_spec

        def build() -> None:
            from plait.environments import resolve

            error: BaseException | None = None
            built = None
            try:
                built = resolve(spec, home=self.home, root=state.pool.environment.root)
            except BaseException as exc:  # noqa: BLE001 - handed to the executor, which fails the node
                error = exc
            with self.lock:
                state.environment, state.error = built, error
                state.status = READY if error is None else FAILED
            if error is not None:
                log.warning("building the environment of pool %s failed: %s", state.name, error)
            if self.on_built is not None:
                try:
                    self.on_built(state.name, error)
                except Exception:  # noqa: BLE001 - the pool's state says it anyway
                    log.exception("on_built failed")
            self.poke()

        thread = threading.Thread(target=build, name=f"plait-build-{state.name}", daemon=True)
        self._builds = [t for t in self._builds if t.is_alive()] + [thread]
        thread.start()

    def poke(self, pool: str | None = None) -> None:
        """An attempt was sent to `pool`: look at the load now (it gets a worker at once if it
        has none)."""
        if pool is not None:
            with self.lock:
                state = self.states.get(pool)
                if state is not None:
                    state.poked_at = time.monotonic()
        self._wake.set()

    def wait_built(self, name: str, timeout: float) -> PoolState:
        """Wait until pool `name` is no longer building (a failure handler waits for its pool)."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                state = self.states[name]
                if state.status != BUILDING:
                    return state
            if time.monotonic() > deadline:
                raise TimeoutError(f"the environment of pool {name} was not built within {timeout:g} s")
            time.sleep(0.05)

    # ------------------------------------------------------------------ scaling
    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(timeout=SCALE_EVERY_S)
            self._wake.clear()
            if self._stopping.is_set():
                return
            try:
                self.scale()
            except Exception:  # noqa: BLE001 - the next look tries again
                log.exception("scaling the pools failed")
            self._stopping.wait(MIN_GAP_S)

    def scale(self) -> None:
        """One look at the load: start the workers it needs, retire those idle too long."""
        load = self.client.run_on_scheduler(_pool_load)
        now = time.monotonic()
        with self.lock:
            states = list(self.states.values())
        for state in states:
            self._scale_pool(state, load.get(state.name) or {}, now)

    def _scale_pool(self, state: PoolState, load: dict[str, Any], now: float) -> None:
        pool = state.pool
        registered: dict[str, tuple[str, int]] = load.get("workers", {})
        with self.lock:
            for name, w in list(state.workers.items()):
                if not w.alive:
                    shutil.rmtree(w.folder, ignore_errors=True)
                    del state.workers[name]
                    if w.retired_at is None and not self._stopping.is_set():
                        log.warning("worker %s of pool %s exited with %s", name, state.name, w.popen.returncode)
            live = state.live()
            ready = state.status == READY
            poked = now - state.poked_at < POKE_HINT_S
        busy = 0
        for w in live:
            seen = registered.get(w.name)
            if seen is None:
                continue
            w.address, processing = seen
            busy += processing
            if processing:
                w.idle_since = None
            elif w.idle_since is None:
                w.idle_since = now
        demand = busy + int(load.get("waiting", 0))
        wanted = max(math.ceil(demand / max(pool.threads, 1)), pool.min_workers)
        if poked and not live and ready:
            # An actor's replicas start together, warm for the tasks that follow.
            wanted = max(wanted, pool.max_workers if pool.actor else 1)
        wanted = min(wanted, pool.max_workers)
        if ready and len(live) < wanted:
            for _ in range(wanted - len(live)):
                self._spawn(state)
            return
        # Retire what has been idle for idle_timeout, down to what the load needs.
        surplus = len(live) - wanted
        for w in sorted(live, key=lambda w: w.idle_since or now):
            if surplus <= 0:
                break
            if w.retired_at is not None:
                if now - w.retired_at > RETIRE_WAIT_S:
                    with contextlib.suppress(ProcessLookupError):
                        w.popen.terminate()
                surplus -= 1
                continue
            if w.address is None or w.idle_since is None or now - w.idle_since < pool.idle_timeout_s:
                continue
            if self._retire(w):
                surplus -= 1
            else:
                w.idle_since = now  # it holds data no other worker can take: try again later

    def _retire(self, w: WorkerProcess) -> bool:
        try:
            retired = self.client.retire_workers(workers=[w.address], close_workers=True, remove=True)
        except Exception:  # noqa: BLE001 - the scheduler may be closing
            log.exception("retiring worker %s failed", w.name)
            return False
        if not retired:
            return False
        w.retired_at = time.monotonic()
        log.info("retired idle worker %s", w.name)
        return True

    # ------------------------------------------------------------------ worker processes
    def _spawn(self, state: PoolState) -> WorkerProcess:
        pool = state.pool
        with self.lock:
            name = f"{pool.name}-{state.seq}"
            state.seq += 1
        folder = tempfile.mkdtemp(prefix=f"plait-worker-{name}-")
        command = worker_command(pool, self.scheduler, name=name, folder=folder,
                                 environment=state.environment, tls=self.tls, host="127.0.0.1")
        with self.lock:
            taken = {w.slot for w in state.live()}
        slot = min(set(range(pool.max_workers + len(taken))) - taken)
        devices = gpu_slice(pool, slot, os.environ.get("CUDA_VISIBLE_DEVICES"))
        if devices is not None:
            command.env["CUDA_VISIBLE_DEVICES"] = devices
        popen = subprocess.Popen(command.argv, env=command.env, cwd=command.cwd, stdin=subprocess.DEVNULL)
        worker = WorkerProcess(name, popen, folder, time.monotonic(), slot=slot)
        with self.lock:
            state.workers[name] = worker
            state.ever += 1
        log.info("started worker %s of pool %s (pid %s)", name, pool.name, popen.pid)
        return worker

    def describe(self) -> list[dict[str, Any]]:
        """Each pool: name, environment, status and its live worker processes (for health)."""
        with self.lock:
            return [{"name": s.name, "environment": s.pool.environment.describe(), "status": s.status,
                     "on_demand": s.on_demand, "workers": sorted(w.name for w in s.live())}
                    for s in self.states.values()]
