"""The app manager: a thread of the server's main process that keeps each app's replicas running.

Every POLL_S it reads the apps and their replicas and decides how many replicas
each should have:

    desired STOPPED                              -> 0
    desired ACTIVE: max(min_replicas, wanted, by load), at most max_replicas, where
        wanted  = 1 while a request came (or a deploy or start asked) within scaledown_after
        by load = ceil(requests in flight / TARGET_IN_FLIGHT)

then starts the missing replicas (its revision's folder made once: the bundle's
files, the downloaded inputs), stops the extra ones and those of an older
revision (after the new one answers), and restarts a crashed replica after a
back-off that doubles up to BACKOFF_MAX_S, saying why in the app's status and
events. A replica is READY once it answers HTTP on its port; only READY
replicas get requests.

The proxy (backend/api/routes_apps.py) counts requests in flight and writes
them (`load`, `last_request`), and a request that finds no READY replica sets
`wanted_at` and waits for one: scale-to-zero costs the first request a start,
it never drops it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import replicas as rp

if TYPE_CHECKING:
    from ..storage import ObjectStore
    from ..store import Database
    from ..store.queries.apps import AppRecord

log = logging.getLogger("plait.apps")

POLL_S = 0.25
TARGET_IN_FLIGHT = 8.0
DEFAULT_SCALEDOWN_S = 600.0
BACKOFF_MAX_S = 30.0
CRASH_LOOP = 3  # crashes in a row before the status says Failed (it keeps retrying)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class Live:
    """A replica process this manager started."""

    app_id: int
    slot: int
    revision: int
    port: int
    proc: subprocess.Popen[bytes]
    log: Path
    ready: bool = False
    mem_limit: int | None = None


@dataclass
class Crashes:
    count: int = 0
    retry_at: float = 0.0
    last: str = ""
    revision: int = 0


@dataclass
class _State:
    live: dict[tuple[int, int], Live] = field(default_factory=dict)
    crashes: dict[tuple[int, int], Crashes] = field(default_factory=dict)
    busy: set[tuple[int, int]] = field(default_factory=set)
    folders: dict[tuple[int, int], Path] = field(default_factory=dict)


def scaledown_s(spec: Mapping[str, Any]) -> float:
    value = spec.get("scaledown_after")
    return float(value) if value else DEFAULT_SCALEDOWN_S


def target_replicas(app: AppRecord, now: dt.datetime) -> int:
    """How many replicas `app` should have now (see the module's docstring)."""
    if app.desired != "ACTIVE":
        return 0
    spec = app.spec
    low, high = int(spec.get("min_replicas") or 0), max(int(spec.get("max_replicas") or 1), 1)
    window = scaledown_s(spec)
    recent = [t for t in (app.wanted_at, app.last_request) if t is not None]
    wanted = 1 if recent and (now - max(recent)).total_seconds() < window else 0
    by_load = math.ceil((app.load or 0.0) / TARGET_IN_FLIGHT) if wanted else 0
    return min(max(low, wanted, by_load), high)


class AppManager:
    """Starts, watches, scales and stops the server's app replicas."""

    def __init__(self, db: Database, storage: ObjectStore, home: Path, *, server_url: str, token: str,
                 cluster: Any = None, poll_s: float = POLL_S) -> None:
        self.db, self.storage, self.home = db, storage, Path(home)
        self.server_url, self.token, self.cluster = server_url, token, cluster
        self.poll_s = poll_s
        self._s = _State()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="plait-app")

    def start(self) -> AppManager:
        self._forget_replicas()
        self._thread = threading.Thread(target=self._loop, name="plait-apps", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop every replica (apps keep their wishes: the next server starts them again)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._pool.shutdown(wait=True, cancel_futures=True)
        for live in list(self._s.live.values()):
            self._halt(live, why=None)
        self._forget_replicas()

    def _forget_replicas(self) -> None:
        """Replicas in the table belong to a previous server (whose processes went with it)."""
        from ..store.queries import apps as aq

        with self.db.session() as s:
            for replica in aq.all_replicas(s):
                if replica.pid:
                    with contextlib.suppress(Exception):
                        from plait.workspaces.process import alive, stop_group

                        if alive(replica.pid) and _is_replica(replica.pid, self.home):
                            stop_group(replica.pid, grace_s=2)
                aq.drop_replica(s, replica.app_id, replica.slot)

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                self.turn()
            except Exception:  # noqa: BLE001 - one bad turn must not end the manager
                log.exception("app manager: a turn failed")

    # ------------------------------------------------------------------ one turn

    def turn(self, now: dt.datetime | None = None) -> None:
        from ..store.queries import apps as aq

        now = now or utcnow()
        with self.db.session(readonly=True) as s:
            apps = aq.list_apps(s)
        known = {app.id for app in apps}
        for key, live in list(self._s.live.items()):
            if key[0] not in known:
                self._halt(live, why=None)
        for app in apps:
            self._reconcile(app, now)

    def _reconcile(self, app: AppRecord, now: dt.datetime) -> None:
        target = target_replicas(app, now)
        mine = {slot: live for (app_id, slot), live in self._s.live.items() if app_id == app.id}
        for slot, live in mine.items():  # crashed replicas, and those above their memory limit
            if (app.id, slot) in self._s.busy:
                continue
            if live.proc.poll() is not None:
                self._crashed(app, live)
            elif live.ready and live.mem_limit is not None:
                from plait.workspaces.process import group_rss

                used = group_rss(live.proc.pid)
                if used > live.mem_limit:
                    self._halt(live, why=None, keep_row=True)
                    self._note_crash(app.id, slot, live, f"used {used / 2**20:.0f} MiB of memory, above its "
                                                         f"limit {live.mem_limit / 2**20:.0f} MiB (limits.mem)")
        mine = {slot: live for (app_id, slot), live in self._s.live.items() if app_id == app.id}
        current_ready = [lv for lv in mine.values() if lv.ready and lv.revision == app.revision]
        for slot, live in sorted(mine.items()):
            stale = live.revision != app.revision and (current_ready or target == 0)
            if slot >= target or stale:
                self._submit(app.id, slot, self._halt, live, None)
        for slot in range(target):
            key = (app.id, slot)
            live = self._s.live.get(key)
            if key in self._s.busy or (live is not None and live.revision == app.revision):
                continue
            crash = self._s.crashes.get(key)
            if crash is not None and crash.revision == app.revision and time.monotonic() < crash.retry_at:
                continue
            if live is not None and not current_ready and slot > 0:
                continue  # an old revision's replica keeps serving until the new one answers
            self._submit(app.id, slot, self._start, app, slot)
        self._status(app, target)

    def _status(self, app: AppRecord, target: int) -> None:
        ready = [lv for (app_id, _), lv in self._s.live.items()
                 if app_id == app.id and lv.ready and lv.revision == app.revision]
        crashes = [c for (app_id, _), c in self._s.crashes.items()
                   if app_id == app.id and c.count and c.revision == app.revision]
        if app.desired != "ACTIVE":
            if any(a == app.id for a, _ in self._s.live) or any(a == app.id for a, _ in self._s.busy):
                return  # Stopped once its replicas are gone
            status, reason = "Stopped", "stopped by request"
        elif ready:
            status, reason = "Started", f"{len(ready)} of {max(target, len(ready))} replicas ready"
        elif crashes and max(c.count for c in crashes) >= CRASH_LOOP:
            worst = max(crashes, key=lambda c: c.count)
            status, reason = "Failed", (f"crash-looping ({worst.count} crashes in a row; next try in "
                                        f"{max(worst.retry_at - time.monotonic(), 0):.0f} s): {worst.last}")
        elif target == 0:
            status, reason = "Scaled to zero", (f"no request for {scaledown_s(app.spec):g} s; the next "
                                                "request starts a replica")
        else:
            status = "Pending"
            reason = f"starting: {crashes[0].last}" if crashes else "starting a replica"
        if (status, reason) != (app.status, app.reason):
            from ..store.queries import apps as aq

            with self.db.session() as s:
                aq.set_status(s, app.id, status, reason)
                if status != app.status:
                    aq.add_event(s, app.id, f"{status}: {reason}")

    def _submit(self, app_id: int, slot: int, fn: Any, *args: Any) -> None:
        key = (app_id, slot)
        with self._lock:
            if key in self._s.busy:
                return
            self._s.busy.add(key)

        def run() -> None:
            try:
                fn(*args)
            except Exception as exc:  # noqa: BLE001 - the replica's failure, told in the app's events
                log.exception("app %s replica %s: %s failed", app_id, slot, getattr(fn, "__name__", fn))
                self._note_crash(app_id, slot, None, f"{type(exc).__name__}: {exc}")
            finally:
                with self._lock:
                    self._s.busy.discard(key)

        self._pool.submit(run)

    # ------------------------------------------------------------------ replicas

    def _folder(self, app: AppRecord) -> Path:
        """The revision's folder: its files and downloaded inputs (made once, shared by replicas)."""
        from .inputs import materialize

        key = (app.id, app.revision)
        found = self._s.folders.get(key)
        if found is not None and (found / ".plait-ready").exists():
            return found
        folder = rp.revision_folder(self.home, app.id, app.revision)
        if not (folder / ".plait-ready").exists():
            bundle = self.storage.get_bytes(f"bundles/{app.bundle}.tar.gz") if app.bundle else None
            rp.unpack(bundle, folder)
            materialize(app.inputs or {}, folder, self.storage)
            (folder / ".plait-ready").write_text("")
        self._s.folders[key] = folder
        return folder

    def _start(self, app: AppRecord, slot: int) -> None:
        from plait.workspaces.process import free_port

        from ..store.queries import apps as aq
        from .inputs import materialize

        folder = self._folder(app)
        prepared = prepare(app.spec, project=app.project, domain=app.domain, db=self.db, home=self.home)
        port = free_port()
        prefix = rp.prefix_of(app.project, app.domain, app.name)
        inputs = materialize(app.inputs or {}, folder, self.storage)
        extra = {**prepared["env"], **{str(k): str(v) for k, v in (app.spec.get("env") or {}).items()}, **inputs}
        env = rp.environment(os.environ, home=rp.app_root(self.home, app.id) / "home", port=port, prefix=prefix,
                             server_url=self.server_url, token=self.token, extra=extra)
        env["PYTHONPATH"] = rp.pythonpath(folder, env)
        (rp.app_root(self.home, app.id) / "home").mkdir(parents=True, exist_ok=True, mode=0o700)
        argv = rp.command(app.spec, prepared["python"], port, prefix)
        log_path = rp.app_root(self.home, app.id) / f"replica-{slot}.log"
        with open(log_path, "a", encoding="utf-8") as out:
            out.write(f"[plait {utcnow():%Y-%m-%d %H:%M:%S}] revision {app.revision}: {' '.join(argv)}\n")
        with self.db.session() as s:
            aq.put_replica(s, app.id, slot, revision=app.revision, phase="STARTING", pid=None, port=port,
                           started_at=utcnow(), ready_at=None)
        proc = rp.start(argv, folder, env, log_path, cpus=prepared.get("cpus"))
        live = Live(app.id, slot, app.revision, port, proc, log_path, mem_limit=prepared.get("mem_limit"))
        previous = self._s.live.get((app.id, slot))
        self._s.live[(app.id, slot)] = live
        with self.db.session() as s:
            aq.put_replica(s, app.id, slot, pid=proc.pid)
        problem = rp.wait_ready(port, proc)
        if problem is not None:
            self._s.live.pop((app.id, slot), None)
            if previous is not None:
                self._s.live[(app.id, slot)] = previous
            from plait.workspaces.process import stop_group

            stop_group(proc.pid, proc, grace_s=2)
            self._note_crash(app.id, slot, live, problem)
            return
        live.ready = True
        self._s.crashes.pop((app.id, slot), None)
        with self.db.session() as s:
            aq.put_replica(s, app.id, slot, phase="READY", ready_at=utcnow(), last_exit=None)
            aq.add_event(s, app.id, f"replica {slot} of revision {app.revision} ready on its port")
        if previous is not None and previous.proc is not proc:
            self._halt(previous, why=None, keep_row=True)

    def _crashed(self, app: AppRecord, live: Live) -> None:
        self._s.live.pop((app.id, live.slot), None)
        self._note_crash(app.id, live.slot, live, f"exited with code {live.proc.returncode}")

    def _note_crash(self, app_id: int, slot: int, live: Live | None, why: str) -> None:
        from ..store.queries import apps as aq

        tail = " | ".join(line for line in rp.log_tail(live.log, 6) if not line.startswith("[plait")) if live else ""
        text = f"{why}" + (f"; its log ends: {tail}" if tail else "")
        with self.db.session(readonly=True) as s:
            app = aq.app_by_id(s, app_id)
        revision = app.revision if app is not None else 0
        crash = self._s.crashes.get((app_id, slot))
        if crash is None or crash.revision != revision:
            crash = self._s.crashes[(app_id, slot)] = Crashes(revision=revision)
        crash.count += 1
        delay = min(2.0 ** (crash.count - 1), BACKOFF_MAX_S)
        crash.retry_at, crash.last = time.monotonic() + delay, text
        with self.db.session() as s:
            if app is not None:
                aq.put_replica(s, app_id, slot, phase="BACKOFF", pid=None, restarts=crash.count, last_exit=text)
                aq.add_event(s, app_id, f"replica {slot} {text}; restarting in {delay:g} s")

    def _halt(self, live: Live, why: str | None, keep_row: bool = False) -> None:
        from plait.workspaces.process import stop_group

        from ..store.queries import apps as aq

        if self._s.live.get((live.app_id, live.slot)) is live:
            self._s.live.pop((live.app_id, live.slot), None)
        if not keep_row:  # first out of the proxies' view, then stopped
            with self.db.session() as s:
                aq.drop_replica(s, live.app_id, live.slot)
        stop_group(live.proc.pid, live.proc, grace_s=3)


def _is_replica(pid: int, home: Path) -> bool:
    try:
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return False
    return cwd.startswith(str(Path(home) / "apps") + os.sep)


def prepare(spec: Mapping[str, Any], *, project: str, domain: str, db: Database, home: Path) -> dict[str, Any]:
    """What a replica needs from the server: its Python (the ImageSpec's environment, else the
    server's), the environment's variables, the secrets' values, its CPU share and memory limit."""
    from plait.config.image_spec import ImageSpec
    from plait.config.resources import parse_cpu, parse_memory
    from plait.environments import resolve

    from ..secrets import decrypt, env_name, scope_text, secret_name
    from ..store import queries

    python = sys.executable  # the server's own environment, its scripts (panel, streamlit) first on PATH
    env: dict[str, str] = {"PATH": f"{Path(python).parent}{os.pathsep}{os.environ.get('PATH', os.defpath)}"}
    image = spec.get("container_image")
    if isinstance(image, Mapping):
        built = resolve(ImageSpec.from_spec(image), home=home)
        env.update(built.variables())
        python = str(built.python)
    mounts = [(secret_name(s.get("group"), s.get("key")), s.get("env_var") or env_name(s.get("group"), s.get("key")))
              for s in spec.get("secrets") or []]
    if mounts:
        with db.session(readonly=True) as s:
            tokens = queries.secret_tokens(s, project, domain, [name for name, _ in mounts])
        for name, var in mounts:
            found = tokens.get(name)
            if found is None:
                raise LookupError(f"secret `{name}` is not in the store of project `{project}`, domain `{domain}`; "
                                  f"create it with `plait create secret {name}`")
            token, scope = found
            env[str(var)] = decrypt(token, name, scope_text(project, scope), home)
    limits = spec.get("limits") or {}
    requests = spec.get("requests") or {}
    cpu = limits.get("cpu") or requests.get("cpu")
    mem = limits.get("mem") or requests.get("mem")
    gpu = limits.get("gpu") or requests.get("gpu")
    if not gpu and not spec.get("accelerator"):
        env["CUDA_VISIBLE_DEVICES"] = ""
    return {"env": env, "python": python, "cpus": math.ceil(parse_cpu(cpu, name="cpu")) if cpu else None,
            "mem_limit": parse_memory(mem, name="mem") if mem else None}
