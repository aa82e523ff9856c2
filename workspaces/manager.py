"""The workspace manager: a thread of the server's main process that makes phases follow wishes.

Users (the API, in any API process) write what they want: `desired` ACTIVE or
STOPPED. Every POLL_S the manager reads the table and acts:

    desired ACTIVE, phase STOPPED   -> STARTING: restore the working directory, build or find
                                       its environment, run on_startup, start code-server,
                                       wait for its health check -> ACTIVE (or FAILED, why)
    desired STOPPED, phase running  -> STOPPING: save the working directory, stop the process
                                       group -> STOPPED
    ACTIVE, idle past its TTL       -> desired STOPPED with the reason, then as above
    ACTIVE, process gone            -> FAILED with its exit and the log's last lines
    ACTIVE, above its memory limit  -> FAILED, saying how much it used of what it may

Starts and stops run on a small thread pool, so one slow start (an environment
to build) does not hold the others. At the manager's start, workspaces the
table says are running are adopted when their code-server still answers (the
server was killed, the workspace was not), and marked STOPPED otherwise; they
start again because their wish is still ACTIVE. A server that stops cleanly
saves and stops its workspaces and leaves their wish as it was, so they come
back with it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import process
from .process import Layout

if TYPE_CHECKING:
    from plait.backend.storage import ObjectStore
    from plait.backend.store import Database
    from plait.backend.store.queries.workspaces import WorkspaceRecord

log = logging.getLogger("plait.workspaces")

POLL_S = 0.5
SAVE_EVERY_S = 60.0
STARTUP_TIMEOUT_S = 600.0
HEALTH_TIMEOUT_S = 30.0
MAX_TTL_S = 86400
LOG_TAIL = 20


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def max_ttl_s() -> int:
    """The global cap of a workspace's idle TTL: `PLAIT_WORKSPACE_MAX_TTL` seconds, default a day."""
    try:
        return max(int(os.environ.get("PLAIT_WORKSPACE_MAX_TTL", MAX_TTL_S)), 1)
    except ValueError:
        return MAX_TTL_S


def storage_prefix(project: str, domain: str, name: str) -> str:
    return f"workspaces/{project}/{domain}/{name}"


def url_path(project: str, domain: str, name: str) -> str:
    return f"/workspaces/{project}/{domain}/{name}/"


def log_tail(path: Path, lines: int = LOG_TAIL) -> list[str]:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(size - 64 * 1024, 0))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return []
    return text.splitlines()[-lines:]


@dataclass
class Running:
    """A workspace this manager runs (or adopted after a restart: then `proc` is None)."""

    record_id: int
    pid: int
    port: int
    layout: Layout
    workdir: Path
    mem_limit: int | None
    proc: subprocess.Popen[bytes] | None = None
    sync: Any = None
    started: float = field(default_factory=time.monotonic)


class WorkspaceManager:
    """Starts, watches and stops the server's workspaces (see the module's docstring)."""

    def __init__(self, db: Database, storage: ObjectStore, home: Path, *, server_url: str, token: str,
                 prepare: Callable[[WorkspaceRecord], Mapping[str, Any]] | None = None,
                 poll_s: float = POLL_S, save_every_s: float = SAVE_EVERY_S) -> None:
        self.db, self.storage, self.home = db, storage, Path(home)
        self.server_url, self.token = server_url, token
        self.prepare = prepare  # the backend's part of a start: environment, secrets, pool
        self.poll_s, self.save_every_s = poll_s, save_every_s
        self._running: dict[int, Running] = {}
        self._busy: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="plait-workspace")

    # ------------------------------------------------------------------ lifecycle of the manager

    def start(self) -> WorkspaceManager:
        self.recover()
        self._thread = threading.Thread(target=self._loop, name="plait-workspaces", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the loop, then save and stop every running workspace (their wishes stay)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._pool.shutdown(wait=True, cancel_futures=True)
        for running in list(self._running.values()):
            self._halt(running, reason="the server stopped; it starts again with the server",
                       keep_wish=True)

    def layout(self, record_id: int) -> Layout:
        return Layout(self.home / "workspaces" / str(record_id))

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                self.turn()
            except Exception:  # noqa: BLE001 - one bad turn must not end the manager
                log.exception("workspace manager: a turn failed")

    # ------------------------------------------------------------------ one turn

    def turn(self, now: dt.datetime | None = None) -> None:
        from plait.backend.store.queries import workspaces as wq

        now = now or utcnow()
        with self.db.session(readonly=True) as s:
            records = wq.workspaces_in(s)
        for record in records:
            with self._lock:
                if record.id in self._busy:
                    continue
            running = self._running.get(record.id)
            if record.desired == "ACTIVE" and record.phase == "STOPPED" and not record.archived:
                self._submit(record.id, self._start, record)
            elif record.desired == "STOPPED" and record.phase in ("STARTING", "ACTIVE") and running:
                self._submit(record.id, self._stop_one, running, record.reason)
            elif record.desired == "STOPPED" and record.phase in ("STARTING", "ACTIVE", "STOPPING"):
                self._mark(record.id, "STOPPED", reason=record.reason, pid=None, port=None, stopped_at=now)
            elif record.phase == "ACTIVE" and running is not None:
                self._watch(record, running, now)

    def _submit(self, record_id: int, fn: Callable[..., None], *args: Any) -> None:
        with self._lock:
            self._busy.add(record_id)

        def run() -> None:
            try:
                fn(*args)
            except Exception as exc:  # noqa: BLE001 - recorded as the workspace's failure
                log.exception("workspace %s: %s failed", record_id, fn.__name__)
                self._fail(record_id, f"{type(exc).__name__}: {exc}")
            finally:
                with self._lock:
                    self._busy.discard(record_id)

        self._pool.submit(run)

    def _watch(self, record: WorkspaceRecord, running: Running, now: dt.datetime) -> None:
        alive = running.proc.poll() is None if running.proc is not None else process.alive(running.pid)
        if not alive:
            code = running.proc.returncode if running.proc is not None else "unknown"
            self._running.pop(record.id, None)
            self._save(running, final=True)
            tail = "\n".join(log_tail(running.layout.log, 8))
            self._fail(record.id, f"code-server exited with code {code}; the log's last lines:\n{tail}")
            return
        if running.mem_limit is not None:
            used = process.group_rss(running.pid)
            if used > running.mem_limit:
                self._note(running.layout, f"memory {used / 2**20:.0f} MiB is above the limit "
                                           f"{running.mem_limit / 2**20:.0f} MiB: stopping")
                self._running.pop(record.id, None)
                process.stop_group(running.pid, running.proc)
                self._save(running, final=True)
                self._fail(record.id, f"used {used / 2**20:.0f} MiB of memory, above its limit "
                                      f"{running.mem_limit / 2**20:.0f} MiB (resources.mem); raise "
                                      "resources.mem with `plait update workspace FILE` and start it again")
                return
        ttl = min(int(record.spec.get("ttl_seconds") or 1200), max_ttl_s())
        last = record.last_activity or record.started_at or now
        idle = (now - last).total_seconds()
        if idle > ttl:
            from plait.backend.store.queries import workspaces as wq

            with self.db.session() as s:
                wq.set_desired(s, record.project, record.domain, record.name, "STOPPED",
                               reason=f"stopped after {int(idle)} s without activity (ttl_seconds {ttl})")
            self._note(running.layout, f"idle for {int(idle)} s (ttl_seconds {ttl}): stopping")

    # ------------------------------------------------------------------ start

    def _start(self, record: WorkspaceRecord) -> None:
        spec = record.spec
        layout = self.layout(record.id)
        relative = str(spec.get("working_dir") or "workspace")
        workdir = layout.workdir(relative)
        self._mark(record.id, "STARTING", reason=None, spec_started=spec, started_at=None, stopped_at=None)
        layout.make(relative)
        self._note(layout, f"starting workspace {record.name}")
        binary = process.code_server_binary()
        sync = self._sync(record, workdir)
        if sync is not None:
            started = time.monotonic()
            report = sync.restore(background=True)
            self._note(layout, f"restored the working directory in {time.monotonic() - started:.2f} s "
                               f"({_describe(report)})")
        prepared = dict(self.prepare(record)) if self.prepare is not None else {}
        env = process.base_environment(layout, {
            "PLAIT_ENDPOINT": self.server_url, "PLAIT_TOKEN": self.token,
            "PLAIT_PROJECT": record.project, "PLAIT_DOMAIN": record.domain,
            "PLAIT_WORKSPACE": record.name, **prepared.get("env", {})},
            path_first=prepared.get("path_first"))
        for number, line in enumerate(spec.get("on_startup") or [], start=1):
            self._note(layout, f"on_startup {number}: {line}")
            with open(layout.log, "ab") as out:
                code = subprocess.run(["/bin/bash", "-c", line], cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                                      stdout=out, stderr=subprocess.STDOUT, timeout=STARTUP_TIMEOUT_S,
                                      check=False).returncode
            if code != 0:
                self._fail(record.id, f"on_startup command {number} (`{line}`) exited with code {code}; "
                                      "see the log", layout=layout)
                if sync is not None:
                    sync.wait()
                return
        port = process.free_port()
        proc = process.launch(binary, layout, port, env, workdir, cpus=prepared.get("cpus"))
        problem = process.wait_healthy(port, proc, timeout_s=HEALTH_TIMEOUT_S)
        if problem is not None:
            process.stop_group(proc.pid, proc)
            tail = "\n".join(log_tail(layout.log, 8))
            self._fail(record.id, f"{problem}; the log's last lines:\n{tail}", layout=layout)
            return
        running = Running(record.id, proc.pid, port, layout, workdir, prepared.get("mem_limit"), proc, sync)
        self._running[record.id] = running
        if sync is not None:
            sync.start_periodic(self.save_every_s)
        now = utcnow()
        self._mark(record.id, "ACTIVE", pid=proc.pid, port=port, pool=prepared.get("pool"), started_at=now,
                   last_activity=now)
        self._note(layout, f"ACTIVE: code-server pid {proc.pid} on 127.0.0.1:{port}")

    def _sync(self, record: WorkspaceRecord, workdir: Path) -> Any:
        try:
            from .sync import WorkspaceSync
        except ImportError:  # pragma: no cover - sync.py ships with the package
            return None
        return WorkspaceSync(self.storage, storage_prefix(record.project, record.domain, record.name), workdir)

    # ------------------------------------------------------------------ stop

    def _stop_one(self, running: Running, reason: str | None) -> None:
        self._halt(running, reason=reason, keep_wish=False)

    def _halt(self, running: Running, *, reason: str | None, keep_wish: bool) -> None:
        self._mark(running.record_id, "STOPPING")
        self._note(running.layout, "stopping: saving the working directory")
        process.stop_group(running.pid, running.proc)
        self._running.pop(running.record_id, None)
        saved = self._save(running, final=True)
        now = utcnow()
        self._mark(running.record_id, "STOPPED", reason=reason, pid=None, port=None, stopped_at=now,
                   **({"saved_at": now} if saved else {}))
        self._note(running.layout, f"STOPPED{': ' + reason if reason else ''}")

    def _save(self, running: Running, *, final: bool) -> bool:
        """Save the working directory; after the final save of a stop, the local copy goes (the
        next start restores it from the object store, on this machine or another)."""
        sync = running.sync or self._sync_for(running)
        if sync is None:
            return False
        try:
            if final:
                sync.stop()
                sync.wait()
            report = sync.save()
        except Exception as exc:  # noqa: BLE001 - the files stay where they are
            self._note(running.layout, f"saving the working directory failed ({type(exc).__name__}: {exc}); "
                                       f"the files stay in {running.workdir}")
            return False
        self._note(running.layout, f"saved the working directory ({_describe(report)})")
        if final:
            shutil.rmtree(running.workdir, ignore_errors=True)
        return True

    def _sync_for(self, running: Running) -> Any:
        from plait.backend.store.queries import workspaces as wq

        with self.db.session(readonly=True) as s:
            record = wq.workspace_by_id(s, running.record_id)
        return None if record is None else self._sync(record, running.workdir)

    # ------------------------------------------------------------------ after a restart

    def recover(self) -> None:
        """Adopt the code-servers that outlived the previous server; mark the others STOPPED."""
        from plait.backend.store.queries import workspaces as wq

        with self.db.session(readonly=True) as s:
            records = wq.workspaces_in(s, wq.RUNNING)
        for record in records:
            layout = self.layout(record.id)
            relative = str(record.spec.get("working_dir") or "workspace")
            if (record.phase == "ACTIVE" and record.pid and record.port and process.alive(record.pid)
                    and process.is_ours(record.pid, layout) and process.healthy(record.port)):
                mem = self.prepare(record).get("mem_limit") if self.prepare is not None else None
                running = Running(record.id, record.pid, record.port, layout, layout.workdir(relative), mem)
                running.sync = self._sync(record, running.workdir)
                if running.sync is not None:
                    running.sync.start_periodic(self.save_every_s)
                self._running[record.id] = running
                self._note(layout, f"found again after a server restart: pid {record.pid}")
                continue
            if record.pid and process.alive(record.pid) and process.is_ours(record.pid, layout):
                process.stop_group(record.pid)
            self._mark(record.id, "STOPPED", pid=None, port=None, stopped_at=utcnow(),
                       reason="the server restarted while it was " + record.phase.lower())
            self._note(layout, "marked STOPPED: the server restarted and its code-server was gone")

    # ------------------------------------------------------------------ records and the log

    def _mark(self, record_id: int, phase: str, **values: Any) -> None:
        from plait.backend.store.queries import workspaces as wq

        with self.db.session() as s:
            wq.set_runtime(s, record_id, phase=phase, **values)

    def _fail(self, record_id: int, reason: str, *, layout: Layout | None = None) -> None:
        self._mark(record_id, "FAILED", reason=reason, pid=None, port=None, stopped_at=utcnow())
        self._note(layout or self.layout(record_id), f"FAILED: {reason}")

    def _note(self, layout: Layout, line: str) -> None:
        with contextlib.suppress(OSError):
            layout.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            with open(layout.log, "a", encoding="utf-8") as out:
                out.write(f"[plait {utcnow():%Y-%m-%d %H:%M:%S}] {line}\n")



def _size(count: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024  # type: ignore[assignment]
    return f"{count} B"  # pragma: no cover


def _describe(report: Any) -> str:
    """A save's or a restore's report in words, for the workspace's log."""
    if report is None:
        return "nothing to do"
    notes = f"; {len(report.notes)} skipped: {', '.join(report.notes[:3])}" if report.notes else ""
    if hasattr(report, "written"):
        later = (f"; {len(report.deferred)} large files ({_size(report.deferred_bytes)}) follow in the background"
                 if report.deferred else "")
        return f"{report.written} files written ({_size(report.written_bytes)}), {report.unchanged} unchanged{later}{notes}"
    return (f"{report.files} files ({_size(report.bytes)}), {report.uploaded} of them sent "
            f"({_size(report.uploaded_bytes)}){notes}")
