"""The executor: claims executions, drives them on Dask, records every transition.

One loop thread owns all run state; Dask completion callbacks only put events
on a queue. Executions are claimed with a lease in the database, so after a
crash another (or a restarted) executor takes them over and resumes them.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import queue
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plait.model.specs import TaskSpec

from ..store import queries as q
from .cluster import ClusterShape, Route
from .journal import Journal
from .run import ExecutionRun

if TYPE_CHECKING:
    from plait.model.specs import Spec
    from sqlalchemy.orm import Session

    from ..compute.pools import PoolManager
    from ..storage import ObjectStore
    from ..store import Database
    from .maps import MapState
    from .ports import Event, SpecKey
    from .presubmit import QueuedAttempt

log = logging.getLogger(__name__)

LEASE_S = 15.0
CLAIM_EVERY_S = 2.0
CLAIM_GAP_S = 0.05  # claims asked for (launches, runs that ended) are made at most this often
MAX_ACTIVE_RUNS = 32  # launched executions driven at once (PLAIT_MAX_ACTIVE_RUNS); children come on top
MAX_CHILD_CLAIMS = 100
FLUSH_EVERY_S = 0.05  # longest a noted transition waits for its commit while events keep coming
GATHER_EVERY_S = 0.05  # longest an answer nothing waits for (Dask runs what follows) waits for its gather
POLL_EVERY_S = 0.05  # how often the loop looks for ended attempts it watches without a callback
RESERVATION_TTL_S = 30.0
STALLED_S = 30.0  # a loop turn longer than this (or a stopped loop) makes health "degraded"
DASHBOARD_LINK = "/api/v1/dask/status"  # the API's proxy of the Dask dashboard (api/routes_dask.py)


_CANCELLED = object()


_UNSET_ANSWER = object()


class _Pending:
    """A finished future whose answer the loop fetches (in batches) before handling it."""

    __slots__ = ("future", "answer")

    def __init__(self, future: Any) -> None:
        self.future = future
        self.answer: Any = _UNSET_ANSWER


def _answer(fut: Any) -> Any:
    """A future's answer when no gather fetched it: its error, its cancellation, or (when the
    gather failed) the result fetched on its own."""
    if fut.cancelled():
        return _CANCELLED
    if fut.status == "lost":  # its worker died after it ended: result() would wait for a re-run
        return RuntimeError("the worker that held this attempt's answer was lost")
    try:
        return fut.result()
    except Exception as exc:  # noqa: BLE001 - handed to the loop as a SYSTEM failure
        return exc


def _answer_of(pending: _Pending) -> Any:
    """The answer a gather fetched, or the future's own (an error, a cancellation, a retry)."""
    return pending.answer if pending.answer is not _UNSET_ANSWER else _answer(pending.future)


def _system_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class Executor:
    """Claims executions and drives each as an `ExecutionRun` on Dask.

    To the API routes it is an `ExecutorPort`; to its runs, their `RunHost`
    (both in ports.py).
    """

    def __init__(
        self,
        db: Database,
        storage: ObjectStore,
        *,
        dask_address: str | None = None,
        owner: str | None = None,
        cluster_options: dict[str, Any] | None = None,
        max_dynamic_depth: int = 32,
        security: Any = None,
        max_active_runs: int = MAX_ACTIVE_RUNS,
        kubernetes: Any = None,
        pools: Any = None,
        home: str | os.PathLike[str] | None = None,
    ) -> None:
        """`security`: the `distributed.security.Security` of the cluster (the embedded one's,
        `config.dask_security(home)`; an external tls:// scheduler's client certificates);
        None for the embedded cluster uses the default home's, for a tcp:// scheduler none.
        `kubernetes`: a cluster file (`compute.ClusterFile`) of kind kubernetes, whose Dask
        cluster the executor makes on start (`security`: its client certificates).
        `pools`: a cluster file of kind local whose pools run the embedded cluster's workers
        (default `compute.default_local()`); `home`: where their environments are built
        (default `$PLAIT_HOME`)."""
        self.db = db
        self.storage = storage
        self.storage_url: str = getattr(storage, "url", None) or str(storage)
        self.dask_address = dask_address
        self.owner = owner or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.cluster_options = cluster_options or {}
        self.max_dynamic_depth = max_dynamic_depth
        self.max_active_runs = max_active_runs
        self._claim_due = False  # a claim was asked for: made at the end of the turn
        self._turn_at = time.monotonic()  # when the loop last began a turn
        self._run_seq = itertools.count()  # claim order: older executions' attempts go first
        self.reservation_ttl = RESERVATION_TTL_S
        self.spec_cache: dict[SpecKey, Spec] = {}  # entity versions, parsed once for every run
        self.runs: dict[str, ExecutionRun] = {}
        self.events: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self.client: Any = None
        self.cluster: Any = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        if kubernetes is not None:
            routed = kubernetes
        elif dask_address:
            routed = None  # an external scheduler: its workers are what they are
        else:
            from ..compute import default_local

            routed = pools if pools is not None else default_local()
        self.home = home
        self.pools: PoolManager | None = None  # the embedded cluster's pools (started in start)
        self._building: dict[str, list[tuple[Any, ...]]] = {}  # pool -> attempts waiting for its build
        self.shape = ClusterShape(routed)  # what the cluster offers (connected in start)
        self.journal = Journal(db)
        self._finished = False  # an execution ended since the last commit
        self._key_token = uuid.uuid4().hex[:8]
        self._key_seq = itertools.count()
        self._awaiting: list[tuple[Any, ...]] = []  # finished attempts' events, in order, waiting for answers
        self._gathering = False  # a gather is on its way; the next one waits for it (keeps the order)
        self._awaiting_since = 0.0
        self._polled: dict[Any, tuple[str, str, int, Any]] = {}  # Dask key -> (execution, path, attempt, future)
        self._polled_at = 0.0
        self.on_info: Any = None  # called with info() now and then (the server publishes it)
        self.security = security
        self.poke_key = secrets.token_bytes(32)  # signs pokes; published in executor.json (0600)
        self._dashboard_upstream: str | None = None
        self.kubernetes = kubernetes

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Connect to the Dask scheduler (or start a local cluster) and start the loop thread."""
        from distributed import Client

        if self.dask_address:
            # Plain tcp:// as given, or tls:// with the client's certificates (server.py checks).
            self.client = Client(self.dask_address, timeout=30, security=self.security)
        elif self.kubernetes is not None:
            self._start_kubernetes()
        else:
            self._start_cluster()
        self.shape.client = self.client
        from .worker import WorkerSetup

        # Every worker, now and when it joins later: a clean environment for tasks (worker.py).
        self.client.register_plugin(WorkerSetup(self.storage_url, own_cluster=self.cluster is not None),
                                    name="plait-worker-setup")
        if self.shape.cluster is not None and self.shape.cluster.kind == "local":
            self._start_pools()
        self._dashboard_upstream = self._find_dashboard()
        self._pokes = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._pokes.bind(("127.0.0.1", 0))
        self._pokes.settimeout(0.5)
        threading.Thread(target=self._listen, name="plait-pokes", daemon=True).start()
        self._thread = threading.Thread(target=self._loop, name="plait-executor", daemon=True)
        self._thread.start()
        if os.environ.get("PLAIT_SCHEDULER", "1") != "0":  # fires active scheduled launch plans
            from .scheduler import Scheduler

            self.scheduler = Scheduler(self.db, self.submit, cluster=self.shape.cluster, storage=self.storage)
            self.scheduler.start()

    def _start_cluster(self) -> None:
        """The embedded cluster, with TLS (both sides show a certificate of the home's CA) for
        its comms and its dashboard: its scheduler on loopback, or on the address of a `kind:
        hosts` cluster file (workers of other hosts join it); its dashboard on loopback."""
        import dask
        from distributed import Client, LocalCluster

        if self.security is None:
            from ..config import dask_security

            self.security = dask_security(None, create=True)
        tls = self.security
        # A lost worker's task comes back to the executor as a failure at once, to be
        # recorded and retried as SYSTEM, instead of being re-run quietly by Dask.
        dask.config.set({"distributed.scheduler.allowed-failures": 0})
        dashboard_tls = {"distributed.scheduler.dashboard.tls.ca-file": tls.tls_ca_file,
                         "distributed.scheduler.dashboard.tls.cert": tls.tls_scheduler_cert,
                         "distributed.scheduler.dashboard.tls.key": tls.tls_scheduler_key}
        # No workers of its own: the pools' workers join it (compute/pools.py, `_start_pools`).
        options: dict[str, Any] = {"dashboard_address": "127.0.0.1:0", "silence_logs": logging.WARNING}
        options.update(self.cluster_options)
        options["n_workers"] = 0
        if options.pop("subprocess_scheduler", False):
            # The scheduler in its own process does not share the GIL with the executor. Its
            # options cross as JSON: the TLS settings go as Dask configuration in its environment.
            from distributed.deploy.subprocess import SubprocessCluster

            os.environ.update(_dask_environment({
                "distributed.comm.require-encryption": True,
                "distributed.comm.tls.ca-file": tls.tls_ca_file,
                **{f"distributed.comm.tls.{role}.{part}": getattr(tls, f"tls_{role}_{part}")
                   for role in ("scheduler", "worker", "client") for part in ("cert", "key")},
                **dashboard_tls}))
            self.cluster = SubprocessCluster(host="127.0.0.1", scheduler_kwargs={"protocol": "tls"},
                                             worker_kwargs={"protocol": "tls"}, security=tls, **options)
        else:
            options.pop("in_process", None)
            with dask.config.set(dashboard_tls):
                self.cluster = LocalCluster(processes=True, host="127.0.0.1", protocol="tls://",
                                            security=tls, **options)
        self.client = Client(self.cluster, security=tls)
        # Dask's dashboard asks no certificate of its clients: from now on it does, so only a
        # process that can read the home's TLS files (the API's proxy) opens it.
        self.client.run_on_scheduler(_require_client_certificates)

    def _start_pools(self) -> None:
        """The pools of the local cluster file: worker processes that the manager starts and
        scales (compute/pools.py), with the cluster's TLS files."""
        from ..compute.pools import PoolManager
        from ..security import TlsFiles

        tls = None
        if self.security is not None and getattr(self.security, "tls_ca_file", None):
            tls = TlsFiles(Path(self.security.tls_ca_file), Path(self.security.tls_worker_cert
                                                                  or self.security.tls_client_cert),
                           Path(self.security.tls_worker_key or self.security.tls_client_key))
        events = self.events
        self.pools = PoolManager(self.shape.cluster, self.client, str(self.client.scheduler.address),
                                 tls=tls, home=self.home,
                                 on_built=lambda name, error: events.put(("pool", name, error)))
        self.shape.manager = self.pools
        from plait.model.home import plait_home

        from ..compute.contexts import ImageContexts

        self.shape.contexts = ImageContexts(self.storage, Path(self.home or plait_home()) / "image-contexts")
        self.pools.start()

    def _start_kubernetes(self) -> None:
        """The cluster file's Dask cluster on Kubernetes (compute/kubernetes.py): a DaskCluster
        and a DaskWorkerGroup per pool made through the dask-kubernetes operator; the client
        reaches its scheduler over TLS with the certificates of the cluster's secret."""
        from distributed import Client

        from ..compute.kubernetes import KubernetesCluster

        cluster = KubernetesCluster(self.kubernetes)
        address = cluster.start()
        self.cluster = cluster  # closed by stop(): the operator removes the pods
        try:
            self.client = Client(address, security=self.security, timeout=cluster.timeout_s)
        except BaseException:
            self.cluster = None
            cluster.close()
            raise

    def _find_dashboard(self) -> str | None:
        """Where the dashboard listens, for the API's proxy (None: the cluster has none)."""
        try:
            port = self.client.scheduler_info().get("services", {}).get("dashboard")
        except Exception:  # noqa: BLE001 - no answer: no dashboard
            return None
        if not port:
            return None
        if self.cluster is not None:  # the embedded one's (loopback, TLS), or one on Kubernetes
            return getattr(self.cluster, "dashboard_upstream", None) or f"https://127.0.0.1:{port}"
        try:
            link = str(self.client.dashboard_link)
        except Exception:  # noqa: BLE001 - no dashboard (bokeh missing)
            return None
        return link[: -len("/status")] if link.endswith("/status") else link.rstrip("/")

    @property
    def poke_port(self) -> int:
        """Loopback UDP port where API processes announce new and aborted executions."""
        return int(self._pokes.getsockname()[1])

    def _listen(self) -> None:
        """Turn pokes from API processes into claim and abort events; only those signed with
        this executor's key (in executor.json, private to the user) count."""
        from .proxy import read_poke

        while not self._stopping.is_set():
            try:
                data = self._pokes.recv(512)
            except (TimeoutError, OSError):
                continue
            poke = read_poke(self.poke_key, data)
            if poke is not None:
                self.events.put(poke)

    def info(self) -> dict[str, Any]:
        """What API processes need to know (see execution/proxy.py)."""
        return {"worker_python": self.worker_python(), "worker_resources": self.worker_resources(),
                "scheduler": self.scheduler_address, "dashboard": self.dashboard_link,
                "dashboard_upstream": self.dashboard_upstream,
                "poke_port": self.poke_port, "poke_key": self.poke_key.hex(), "pid": os.getpid(),
                "heartbeat_at": time.time(), "problem": self.problem(), "pools": self.pool_states()}

    def pool_states(self) -> list[dict[str, Any]]:
        """The pools attempts are routed to, each with its environment, whether it is being
        built, and its live workers (none without a cluster file's pools)."""
        if self.pools is not None:
            return self.pools.describe()
        cluster = self.shape.cluster
        if cluster is None:
            return []
        # Workers that others start (kind hosts, Kubernetes): as the scheduler sees them.
        names: dict[str, list[str]] = {}
        for info in self.shape.workers().values():
            pool = next((k[5:] for k in info.get("resources") or {} if k.startswith("pool-")), None)
            if pool is not None:
                names.setdefault(pool, []).append(str(info.get("name")))
        return [{"name": p.name, "environment": p.environment.describe(), "status": "ready",
                 "on_demand": False, "workers": sorted(names.get(p.name, []))} for p in cluster.pools]

    def stop(self) -> None:
        """Stop the loop, give the leases back and close the cluster this executor started."""
        self._stopping.set()
        if getattr(self, "scheduler", None) is not None:
            self.scheduler.stop()
        self.events.put(("stop",))
        if self._thread is not None:
            self._thread.join(timeout=10)
        try:
            with self.db.session() as s:
                q.release_lease(s, self.owner, list(self.runs))
        except Exception:  # noqa: BLE001 - best effort on the way out
            log.exception("releasing leases failed")
        if self.pools is not None:
            self.pools.stop()  # its worker processes first: the scheduler is still there to retire them
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        pokes = getattr(self, "_pokes", None)
        if pokes is not None:
            pokes.close()

    @property
    def scheduler_address(self) -> str | None:
        return str(self.client.scheduler.address) if self.client is not None else None

    @property
    def dashboard_link(self) -> str | None:
        """The dashboard as users open it: through the API's authenticating proxy (a path
        of the server's URL), or None without a dashboard."""
        return DASHBOARD_LINK if self.dashboard_upstream else None

    @property
    def dashboard_upstream(self) -> str | None:
        """The dashboard's own base URL, for the API's proxy only (the embedded cluster's
        listens on loopback and asks for the home's client certificate)."""
        return self._dashboard_upstream

    def problem(self) -> str | None:
        """Why executions are not being driven now, or None: the loop stopped, or a turn hangs."""
        if self._thread is None or not self._thread.is_alive():
            return "the executor is not running: executions stay QUEUED; restart `plait server`"
        stalled = time.monotonic() - self._turn_at
        if stalled > STALLED_S:
            return (f"the executor has not moved for {stalled:.0f} s (a database or the Dask "
                    "scheduler may not answer); executions wait until it does")
        return None

    def submit(self, execution_id: str) -> None:
        """Claim and run a committed QUEUED execution (the loop also claims on its own)."""
        self.events.put(("claim", execution_id))

    def post(self, event: Event) -> None:
        """Put an event on the loop's queue, to be handled on a later turn."""
        self.events.put(event)

    def abort(self, execution_id: str) -> None:
        """Stop an execution whose abort was requested (the API records the request)."""
        self.events.put(("abort", execution_id))

    # ------------------------------------------------------------------ the cluster (cluster.py)
    def worker_python(self) -> str:
        """The `major.minor` Python version of the Dask workers."""
        return self.shape.worker_python()

    def worker_resources(self) -> dict[str, float]:
        """What the workers offer in total: `cpu`, `mem` (bytes) and their custom resources."""
        return self.shape.worker_resources()

    def dask_resources(self, spec: TaskSpec, overrides: dict[str, Any]) -> dict[str, float]:
        """The Dask resources a task's attempts ask for (without pools; see `route`)."""
        return self.shape.dask_resources(spec, overrides)

    def unsatisfiable(self, spec: TaskSpec, overrides: dict[str, Any], *, run: ExecutionRun | None = None) -> str | None:
        """Why no worker could ever run this task, or None (Dask would wait forever)."""
        return self.shape.unsatisfiable(spec, overrides, **_interruptible_of(run))

    def route(self, run: ExecutionRun | None, spec: TaskSpec, overrides: dict[str, Any], *,
              interruptible: bool | None = None) -> Route:
        """The pool an attempt of this task goes to (cluster.py), and what it asks of Dask.
        `interruptible` overrides the run's and the task's setting (a last retry)."""
        return self.shape.route(spec, overrides, interruptible=interruptible, **_interruptible_of(run))

    def _sent(self, route: Route, waiting: tuple[Any, ...] | None = None) -> None:
        """An attempt went to `route`'s pool: let the pool scale now; remember the attempt
        (`waiting`: how to fail it) if the pool's environment is still being built."""
        if route.pool is None or self.pools is None:
            return
        if route.building and waiting is not None:
            self._building.setdefault(route.pool, []).append(waiting)
        self.pools.poke(route.pool)

    def _pool_built(self, name: str, error: BaseException | None) -> None:
        """A pool's environment was built, or its build failed: then the attempts waiting for
        it fail, as USER errors with the builder's message (its last lines)."""
        waiting = self._building.pop(name, [])
        if error is None:
            return
        from plait.errors import UserError

        failure = {"kind": "USER" if isinstance(error, UserError) else "SYSTEM",
                   "type": type(error).__name__, "message": str(error), "traceback": "", "recoverable": False}
        answer = {"status": "FAILED", "error": failure, "pool": name}
        for kind, run_id, path, what, fut in waiting:
            fut.cancel()
            if kind == "attempt":
                self.events.put(("attempt", run_id, path, what, answer))
            else:
                self.events.put(("items", run_id, path, what, {"items": [[i, answer] for i in what],
                                                               "pool": name}))

    def map_window(self, concurrency: int) -> int:
        """How many batches of a map may be on Dask at once."""
        return self.shape.map_window(concurrency)

    def map_batch_size(self, count: int, concurrency: int) -> int:
        """How many of a map's `count` items go into one batch."""
        return self.shape.map_batch_size(count, concurrency)

    # ------------------------------------------------------------------ Dask submission
    def attempt_key(self, execution_id: str, path: str, number: int) -> str:
        # Keys must not repeat across executors (a restarted one resubmits what a killed one
        # had running): this executor's token and a counter, cheaper than a uuid per key.
        return f"{execution_id}/{path}/{number}-{self._key_token}{next(self._key_seq)}"

    def submit_future(self, run: ExecutionRun, path: str, payload: dict[str, Any],
                      spec: TaskSpec, overrides: dict[str, Any], *, interruptible: bool | None = None) -> Any:
        """Hand one attempt to Dask (not watched), routed to its pool (`interruptible` False: to
        one that is not interruptible); its future."""
        from .worker import run_attempt

        number = payload["attempt"]
        route = self.route(run, spec, overrides, interruptible=interruptible)
        key = self.attempt_key(run.id, path, number)
        # An eager body waits for the nodes it awaits: it holds no pool slot they may need (eager.py).
        resources = None if spec.task_type == "eager" else route.resources or None
        fut = self.client.submit(run_attempt, payload, key=key, pure=False, priority=run.priority,
                                 resources=resources)
        if route.pool is not None:
            self.journal.note_attempt(run.id, path, number, "RUNNING", pool=route.pool)
        self._sent(route, ("attempt", run.id, path, number, fut))
        return fut

    def submit_queued(self, queued: list[QueuedAttempt], *, priority: int = 0) -> list[Any]:
        """Hand attempts queued behind others to Dask: one graph per stretch of equal resources.

        `queued` is in submission order (each after what it waits for); its futures, in order.
        `priority` is the run's (see `_claim`).
        """
        from dask.task_spec import Task

        from .worker import run_attempt

        futures: list[Any] = []
        start = 0
        while start < len(queued):
            resources = queued[start].resources
            end = start + 1
            while end < len(queued) and queued[end].resources == resources:
                end += 1
            graph = {e.key: Task(e.key, run_attempt, e.payload, *e.upstream) for e in queued[start:end]}
            futures += self.client.get(_untokenized(graph), list(graph), sync=False, priority=priority,
                                       resources=resources or None, fifo_timeout="100 ms")
            if self.pools is not None and queued[start].pool is not None:
                self.pools.poke(queued[start].pool)
            start = end
        return futures

    def watch_attempt(self, run: ExecutionRun, path: str, number: int, fut: Any, *, poll: bool = False) -> None:
        """Have the loop learn when an attempt ends: from Dask's done callback, at once; or,
        with `poll` (an attempt whose followers Dask already has, so nothing waits for the
        executor), from its status every POLL_EVERY_S, without a callback and a wake-up each."""
        if poll:
            self._polled[fut.key] = (run.id, path, number, fut)
        else:
            fut.add_done_callback(lambda f: self.events.put(("attempt", run.id, path, number, _Pending(f))))

    def submit_attempt(self, run: ExecutionRun, path: str, number: int, payload: dict[str, Any],
                       spec: TaskSpec, overrides: dict[str, Any], *, interruptible: bool | None = None) -> Any:
        """Hand an attempt to Dask and watch it; its future."""
        fut = self.submit_future(run, path, payload, spec, overrides, interruptible=interruptible)
        self.watch_attempt(run, path, number, fut)
        return fut

    # ------------------------------------------------------------------ the journal
    # Transitions are noted during a turn of the loop and written at its end (journal.py).

    def write(self, op: Callable[[Session], object]) -> None:
        """Queue any database write (a function of a session), run after the notes."""
        self.journal.write(op)

    def note_node(self, execution_id: str, path: str, phase: str, **fields: Any) -> None:
        """A node moves to `phase` (with its fields)."""
        self.journal.note_node(execution_id, path, phase, **fields)

    def note_attempt(self, execution_id: str, path: str, number: int, phase: str = "RUNNING", **fields: Any) -> None:
        """An attempt starts (RUNNING) or ends (any other phase, with its fields)."""
        self.journal.note_attempt(execution_id, path, number, phase, **fields)

    def flush(self) -> None:
        """Commit the turn's notes and writes."""
        self._finished = False
        self.journal.flush()

    def submit_items(self, run: ExecutionRun, state: MapState, indices: list[int]) -> None:
        """Hand a batch of a task map's items to Dask as one attempt; its end is an "items" event."""
        from .worker import run_items

        spec = state.target
        assert isinstance(spec, TaskSpec), "the items of a launch plan map are child executions"
        route = self.route(run, spec, state.overrides)
        payload = run.task_payload(state.path, spec, {}, 1)
        payload["items"] = [[i, state.items[i]] for i in indices]
        payload["output_prefix"] = f"{run.output_root}/{state.path}"  # the raw output prefix's, if any
        key = f"{run.id}/{state.path}/{indices[0]}-{indices[-1]}/{self._key_token}{next(self._key_seq)}"
        fut = self.client.submit(run_items, payload, key=key, pure=False, priority=run.priority,
                                 resources=route.resources or None)
        fut.add_done_callback(lambda f: self.events.put(("items", run.id, state.path, indices, _Pending(f))))
        self._sent(route, ("items", run.id, state.path, indices, fut))

    def run_inline_attempt(self, run: ExecutionRun, path: str, spec: TaskSpec, inputs: dict[str, Any]) -> dict[str, Any]:
        """Run one attempt in its pool and wait for its answer (a workflow's failure handler)."""
        from .worker import run_attempt

        route = self.route(run, spec, {})
        if route.building and self.pools is not None and route.pool is not None:
            state = self.pools.wait_built(route.pool, timeout=300)
            if state.error is not None:
                raise state.error
        payload = run.task_payload(path, spec, inputs, 1)
        fut = self.client.submit(run_attempt, payload, pure=False, priority=run.priority,
                                 resources=route.resources or None)
        self._sent(route)
        return fut.result(timeout=300)  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ the loop
    def _loop(self) -> None:
        """The loop thread: every run's state changes here, one event at a time.

        Each turn claims executions now and then, renews leases, waits for events
        (no longer than the next commit, gather or poll is due), handles what
        arrived (answers of finished attempts wait for a batched gather first),
        and commits the journal.
        """
        last_claim = 0.0
        last_renew = time.monotonic()
        while not self._stopping.is_set():
            now = self._turn_at = time.monotonic()
            if now - last_claim >= (CLAIM_GAP_S if self._claim_due else CLAIM_EVERY_S):
                self._claim()
                last_claim = now
            if now - last_renew >= LEASE_S / 3:
                self._renew()
                last_renew = now
            wait = 0.1
            if self._claim_due:
                wait = min(wait, max(0.0, last_claim + CLAIM_GAP_S - time.monotonic()))
            if self.journal:
                # Noted transitions wait for the next event at most until their commit is due.
                wait = min(wait, max(0.0, self.journal.flushed_at + FLUSH_EVERY_S - time.monotonic()))
            if self._awaiting and not self._gathering:
                wait = min(wait, max(0.0, self._awaiting_since + GATHER_EVERY_S - time.monotonic()))
            if self._polled:
                wait = min(wait, max(0.0, self._polled_at + POLL_EVERY_S - time.monotonic()))
            try:
                event = self.events.get(timeout=wait) if wait > 0 else self.events.get_nowait()
            except queue.Empty:
                event = None
            if event is not None:
                batch = [event]
                while True:  # drain what arrived meanwhile
                    try:
                        batch.append(self.events.get_nowait())
                    except queue.Empty:
                        break
                for item in batch:
                    if item[0] == "answers":
                        self._gathering = False
                        for answered in item[1]:
                            self._handle_safely((*answered[:-1], _answer_of(answered[-1])))
                    elif item[0] in ("attempt", "items") and isinstance(item[-1], _Pending):
                        if not self._awaiting:
                            self._awaiting_since = time.monotonic()
                        self._awaiting.append(item)
                    else:
                        self._handle_safely(item)
            try:
                self._poll_watched()
                self._fetch_answers()
                for run in list(self.runs.values()):
                    if run.cache.waiting:
                        run.retry_cache_waits()
                    if run.gates.due():  # gates: a sleep over, a signal set, a timeout
                        run.gates.poll()
                        if run.done:
                            self._forget(run)
                    if not run.done and run.eager.due():  # calls the eager bodies made (eager.py)
                        run.eager.poll()
            except Exception:  # noqa: BLE001 - one bad event must not stop the executor
                log.exception("executor event failed")
            # Commit at most every FLUSH_EVERY_S while events keep coming (each commit
            # then carries several transitions), at once when things go quiet, and at once
            # when an execution ended (its caller is waiting for that).
            if event is None or self._finished or time.monotonic() - self.journal.flushed_at >= FLUSH_EVERY_S:
                self.flush()
        self.flush()

    def _poll_watched(self) -> None:
        """The attempts watched by polling that ended: queued for their answers, in the order
        they were watched (each after the attempts it waited for)."""
        now = time.monotonic()
        if not self._polled or now - self._polled_at < POLL_EVERY_S:
            return
        self._polled_at = now
        ended = [key for key, watched in self._polled.items() if watched[3].status != "pending"]
        if ended and not self._awaiting:
            self._awaiting_since = now - GATHER_EVERY_S  # they waited for the poll: no more
        for key in ended:
            run_id, path, number, fut = self._polled.pop(key)
            self._awaiting.append(("attempt", run_id, path, number, _Pending(fut)))

    def _fetch_answers(self) -> None:
        """Fetch the answers of finished attempts without waiting for them.

        One gather at a time runs on Dask's event loop for all the attempts that finished
        since the last one; its answers come back as one ("answers", events) event, handled
        in the order the attempts finished. The loop meanwhile goes on with other events.
        Each gather costs a few messages through the scheduler, which also runs the work:
        while every finished attempt is followed by attempts Dask already has (a chain),
        its answer is only to be recorded, and waits up to GATHER_EVERY_S for company.
        """
        if self._gathering or not self._awaiting:
            return
        if (time.monotonic() - self._awaiting_since < GATHER_EVERY_S
                and not any(self._needed(e) for e in self._awaiting)):
            return
        batch, self._awaiting = self._awaiting, []
        self._gathering = True
        finished = [e[-1] for e in batch if e[-1].future.status == "finished"]
        if not finished:
            self.events.put(("answers", batch))
            return
        client, events = self.client, self.events

        async def gather() -> None:
            # Answers left unset are fetched one by one on the executor's thread.
            try:
                answers = await client.gather([p.future for p in finished], asynchronous=True)
                for p, answer in zip(finished, answers, strict=True):
                    p.answer = answer
            except (Exception, asyncio.CancelledError):  # noqa: BLE001 - one was lost or cancelled meanwhile
                pass
            finally:
                events.put(("answers", batch))

        client.loop.add_callback(gather)

    def _needed(self, event: tuple[Any, ...]) -> bool:
        """Whether the executor must act on this answer for the execution to go on."""
        if event[0] != "attempt" or event[-1].future.status != "finished":
            return True
        run = self.runs.get(event[1])
        return run is None or not run.presubmit.followed_on_dask(event[2])

    def _handle_safely(self, event: tuple[Any, ...]) -> None:
        try:
            self._handle(event)
        except Exception:  # noqa: BLE001 - one bad event must not stop the executor
            log.exception("executor event failed")

    def _handle(self, event: tuple[Any, ...]) -> None:
        """Hand one event to the run it concerns: claim, abort, attempt, child or items."""
        kind = event[0]
        if kind == "stop":
            return
        if kind == "claim":
            self._claim_due = True  # one claim for all the launches of this turn
        elif kind == "pool":
            self._pool_built(event[1], event[2])
        elif kind == "abort":
            run = self.runs.get(event[1])
            if run is not None and self._abort_requested(run.id):
                run.abort()
                self._forget(run)
        elif kind == "attempt":
            _, run_id, path, number, fut = event
            run = self.runs.get(run_id)
            if run is None or run.presubmit.keep_early(path, number, event):
                return
            run.futures.pop(path, None)
            result, error = self._outcome(fut)
            if error == "cancelled":
                return
            run.on_attempt_done(path, number, result, error)
            if run.done:
                self._forget(run)
        elif kind == "child":
            _, parent_id, child_id, phase, outputs, error = event
            parent = self.runs.get(parent_id)
            if parent is not None:
                parent.children.on_done(child_id, phase, outputs, error)
                if parent.done:
                    self._forget(parent)
        elif kind == "items":
            _, run_id, path, indices, fut = event
            run = self.runs.get(run_id)
            if run is None:
                return
            result, error = self._outcome(fut)
            if error == "cancelled":
                return
            if error is not None:
                run.maps.on_items_done(path, [(i, None, error) for i in indices])
            else:
                run.maps.on_items_done(path, [(i, r, None) for i, r in (result or {}).get("items", [])], batch=result)
            if run.done:
                self._forget(run)

    def _abort_requested(self, execution_id: str) -> bool:
        """The database is the source of truth: an abort event stops only an execution whose
        abort was recorded there (by the API, or by an aborted parent)."""
        try:
            with self.db.session() as s:
                return bool(q.get_execution(s, execution_id).abort_requested)
        except Exception:  # noqa: BLE001 - unknown or unreadable now: not aborted
            log.exception("reading the abort request of %s failed", execution_id)
            return False

    @staticmethod
    def _outcome(answer: Any) -> tuple[dict[str, Any] | None, str | None]:
        if answer is _CANCELLED:
            return None, "cancelled"
        if isinstance(answer, BaseException):  # a lost worker or a killed process: SYSTEM
            return None, _system_error(answer)
        return answer, None

    def _claim(self) -> None:
        """Take the leases of executions nobody runs and start (or resume) them, oldest first;
        one whose start fails ends FAILED (SYSTEM) without stopping the others.

        Fairness under a burst of launches: at most `max_active_runs` launched
        executions run at once, so those started make progress while more
        arrive (the rest wait QUEUED, in creation order, and the API refuses
        launches past its queue limit). Executions started by another's node are
        claimed on top of that, first, since their parents wait for them. Each
        run's attempts go to Dask with a priority by claim order, so a running
        execution's next node goes before a newer execution's first.
        """
        self._claim_due = False
        self.flush()
        top_level = sum(1 for run in self.runs.values() if not run.record.parent_execution_id)
        try:
            with self.db.session() as s:
                claimed = q.claim_executions(s, self.owner, LEASE_S, limit=MAX_CHILD_CLAIMS, children=True)
                room = self.max_active_runs - top_level
                if room > 0:
                    claimed += q.claim_executions(s, self.owner, LEASE_S, limit=room, children=False)
        except Exception:  # noqa: BLE001 - the database may be briefly busy
            log.exception("claiming executions failed")
            return
        for record in claimed:
            eid = record.id
            if eid in self.runs:
                continue
            run = ExecutionRun(self, record, priority=-next(self._run_seq))
            self.runs[eid] = run
            try:
                run.start()
            except Exception as exc:  # noqa: BLE001 - a broken spec fails its execution only
                log.exception("starting %s failed", eid)
                with self.db.session() as s:
                    run.finish_execution(s, "FAILED", error={"kind": "SYSTEM", "message": f"{type(exc).__name__}: {exc}"})
            if run.done:
                self._forget(run)

    def _renew(self) -> None:
        """Heartbeat: publish the executor's info, extend cache reservations and leases."""
        if self.on_info is not None:
            try:
                self.on_info(self.info())
            except Exception:  # noqa: BLE001 - the next renewal tries again
                log.exception("publishing executor info failed")
        if not self.runs:
            return
        for run in list(self.runs.values()):
            run.extend_reservations()
        try:
            with self.db.session() as s:
                q.renew_lease(s, self.owner, list(self.runs), LEASE_S)
        except Exception:  # noqa: BLE001
            log.exception("renewing leases failed")

    def _forget(self, run: ExecutionRun) -> None:
        """A run ended: drop it, give its lease back, and let a waiting execution take its place."""
        self.runs.pop(run.id, None)
        self._claim_due = True
        owner, eid = self.owner, run.id
        self.write(lambda s: q.release_lease(s, owner, [eid]))

    def execution_finished(self, run: ExecutionRun, phase: str, outputs: Any, error: Any) -> None:
        """Tell the parent (if any) on a later turn of the loop, outside the caller's transaction."""
        self._finished = True
        parent_id = getattr(run.record, "parent_execution_id", None)
        if parent_id:
            self.events.put(("child", parent_id, run.id, phase, outputs, error))


def _interruptible_of(run: Any) -> dict[str, Any]:
    """A run's say in whether its tasks are interruptible: the launch's setting (None when not
    set) and its workflow's default."""
    if run is None:
        return {}
    root = getattr(run, "root_spec", None)
    return {"execution": (getattr(run, "settings", None) or {}).get("interruptible"),
            "workflow": bool(getattr(root, "interruptible", False))}


def _require_client_certificates(dask_scheduler: Any) -> None:
    """On the scheduler: its dashboard's TLS asks every client for a certificate of the CA."""
    import ssl

    context = getattr(getattr(dask_scheduler, "http_server", None), "ssl_options", None)
    if not isinstance(context, ssl.SSLContext):
        raise RuntimeError("the embedded scheduler's dashboard does not serve TLS; refusing to "
                           "leave it open to every local user")
    context.verify_mode = ssl.CERT_REQUIRED


def _dask_environment(config: dict[str, Any]) -> dict[str, str]:
    """Dask configuration as the DASK_* variables a Dask process reads at start."""
    return {"DASK_" + key.upper().replace(".", "__").replace("-", "_"): str(value)
            for key, value in config.items()}


def _untokenized(graph: dict[str, Any]) -> Any:
    """The graph as Client.submit wraps its one task: named by a random token, so Dask does
    not hash every payload to name it (its keys are unique already)."""
    try:
        from dask._expr import LLGExpr
    except ImportError:  # another Dask: a plain graph works, tokenized
        return graph
    return LLGExpr(graph, _determ_token=uuid.uuid4().hex)
