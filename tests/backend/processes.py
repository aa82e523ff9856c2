"""Real processes for end-to-end backend tests: a Dask scheduler, Dask workers, `plait server`.

    with Processes(tmp_path / "procs") as procs:
        address = procs.scheduler()
        worker = procs.worker(address, "w1")
        server = procs.server(home, address)
        ...
        server.process.kill()          # kill -9 of the server's whole process group

Every process starts in its own session (so its own process group) with its
output in `<root>/<name>.log`; `stop_all()` (also on leaving the `with`) stops
each group, SIGTERM then SIGKILL, and waits until no live process of the group
is left. A test can kill one group on purpose without touching the others.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

BIN = Path(sys.executable).parent
START_TIMEOUT_S = 60.0
SERVER_SETTINGS = ("PLAIT_ENDPOINT", "PLAIT_TOKEN", "PLAIT_DATABASE_URL", "PLAIT_STORAGE_URL",
                   "PLAIT_DASK_SCHEDULER", "PLAIT_HOST", "PLAIT_PORT", "PLAIT_DASK_TLS_CA_FILE",
                   "PLAIT_DASK_TLS_CERT", "PLAIT_DASK_TLS_KEY")


class ProcessFailed(AssertionError):
    """A process exited or did not become ready; the message ends with its log."""


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def members(self) -> list[int]:
        """Live (not zombie) processes of this process group."""
        found = []
        for proc in psutil.process_iter(["pid", "status"]):
            try:
                if os.getpgid(proc.pid) == self.pid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                    found.append(proc.pid)
            except (ProcessLookupError, psutil.Error):
                continue
        return found

    def signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            pass

    def kill(self, timeout: float = 10.0) -> None:
        """`kill -9` the whole group and wait until none of it is left."""
        self.signal_group(signal.SIGKILL)
        self._reap(timeout)

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM the group, then SIGKILL whatever is left after `grace` seconds."""
        if self.popen.poll() is None:
            self.signal_group(signal.SIGTERM)
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    def _reap(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        while self.members():
            if time.monotonic() > deadline:
                raise ProcessFailed(f"{self.name}: processes {self.members()} outlived SIGKILL")
            self.signal_group(signal.SIGKILL)
            time.sleep(0.05)

    def text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.text().splitlines()[-lines:])

    def fail(self, why: str) -> ProcessFailed:
        return ProcessFailed(f"{self.name} {why}; its log ends with:\n{self.tail()}")

    def wait_for(self, ready: Any, what: str, timeout: float = START_TIMEOUT_S) -> Any:
        """Poll `ready()` until it returns something truthy; fail if the process exits first."""
        deadline = time.monotonic() + timeout
        while True:
            found = ready()
            if found:
                return found
            if self.popen.poll() is not None:
                raise self.fail(f"exited with {self.popen.returncode} before {what}")
            if time.monotonic() > deadline:
                raise self.fail(f"did not {what} within {timeout:g} s")
            time.sleep(0.05)


@dataclass
class Server:
    """A running `plait server`: its process, home, URL and token."""

    process: Process
    home: Path
    url: str
    token: str

    def remote(self, timeout: float = 30.0) -> Any:
        from plait.remote import Remote

        return Remote(self.url, token=self.token, autostart=False, timeout=timeout)


class Processes:
    """Starts processes under `root` and stops every one of them at the end."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.started: list[Process] = []
        self._count = 0

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop_all()

    def start(self, name: str, argv: list[str], env: dict[str, str | None] | None = None) -> Process:
        """Start `argv` in a new session; `env` adds variables to ours (None removes one)."""
        self._count += 1
        merged = {**os.environ, **(env or {})}
        log = self.root / f"{self._count:02d}-{name}.log"
        with open(log, "wb") as out:
            popen = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                env={k: v for k, v in merged.items() if v is not None}, cwd=self.root,
                start_new_session=True,
            )
        process = Process(name, popen, log)
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        """Stop the groups in reverse order of start; raise if any outlived SIGKILL."""
        errors = []
        for process in reversed(self.started):
            try:
                process.stop()
            except ProcessFailed as exc:
                errors.append(str(exc))
        self.started.clear()
        if errors:
            raise ProcessFailed("; ".join(errors))

    # ------------------------------------------------------------------ Dask

    def scheduler(self) -> str:
        """Start `dask scheduler` on a free port of 127.0.0.1; return its address."""
        info = self.root / f"scheduler-{self._count + 1}.json"
        # As plait's docs ask of a scheduler it uses: report a lost worker's task to the
        # client at once (plait records a SYSTEM failure and retries it) instead of
        # quietly re-running it elsewhere.
        process = self.start("scheduler", [
            str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
            "--no-dashboard", "--scheduler-file", str(info),
        ], env={"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"})

        def address() -> str | None:
            try:
                return str(json.loads(info.read_text())["address"])
            except (OSError, ValueError, KeyError):
                return None

        return str(process.wait_for(address, "write its scheduler file"))

    def worker(self, address: str, name: str, *, wait: bool = True) -> Process:
        """Start `dask worker --nworkers 1 --nthreads 1`; wait until it registered unless told not to."""
        process = self.start(name, [
            str(BIN / "dask"), "worker", address, "--nworkers", "1", "--nthreads", "1",
            "--name", name, "--no-dashboard", "--local-directory", str(self.root / name),
        ])
        if wait:
            self.wait_registered(process)
        return process

    def wait_registered(self, process: Process) -> None:
        process.wait_for(lambda: "Registered to:" in process.text(), "register with the scheduler")

    # ------------------------------------------------------------------ plait

    def server(self, home: Path, address: str, *, database_url: str | None = None,
               name: str = "server", extra_args: tuple[str, ...] = (),
               env: dict[str, str] | None = None) -> Server:
        """Start `plait server --port 0 --dask-scheduler ADDRESS` on `home`; wait until it serves.
        `env` adds variables (a switch such as PLAIT_SCHEDULER=0)."""
        argv = [sys.executable, "-m", "plait", "server", "--port", "0", "--dask-scheduler", address,
                *extra_args]
        if database_url:
            argv += ["--database-url", database_url]
        # Only the arguments configure it, whatever the environment of the test run says.
        unset: dict[str, str | None] = dict.fromkeys(SERVER_SETTINGS)
        process = self.start(name, argv, env={**unset, **(env or {}), "PLAIT_HOME": str(home)})

        def endpoint() -> str | None:
            try:
                data = json.loads((home / "server.json").read_text())
            except (OSError, ValueError):
                return None
            # A server killed with -9 leaves its file behind: wait for this one's.
            return str(data["url"]) if data.get("pid") == process.pid else None

        url = str(process.wait_for(endpoint, "write server.json"))
        token = (home / "token").read_text().strip()
        return Server(process, home, url, token)
