"""A real `plait server` process for end-to-end tests.

    with running_server(tmp_path / "home") as server:
        remote = server.remote()
        ...

It starts `python -m plait server --port 0` in its own session with a private
`PLAIT_HOME` (SQLite, the object store under it, an embedded Dask
LocalCluster), waits until `server.json` names it and the health route
answers, and on the way out sends SIGTERM, then SIGKILL to its process group
if it has not stopped in time. Leaving processes behind (the Dask workers,
the multiprocessing resource tracker) is an error: the stop fails the test
with their command lines.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
from plait.model.home import ensure_private, open_file_private
from plait.remote import Remote

START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 30.0


class ServerDidNotStart(RuntimeError):
    pass


class ServerLeftProcesses(RuntimeError):
    pass


@dataclass(frozen=True)
class ServerProcess:
    """A started server: where it listens, its token, its home and its process."""

    url: str
    token: str
    home: Path
    process: subprocess.Popen[bytes]

    @property
    def log(self) -> Path:
        return self.home / "server.log"

    def remote(self, project: str = "default", domain: str = "development") -> Remote:
        """A client for this server that never starts one of its own."""
        return Remote(self.url, project=project, domain=domain, token=self.token, autostart=False,
                      timeout=60.0)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@contextlib.contextmanager
def running_server(home: Path, *extra_args: str, env: dict[str, str] | None = None,
                   private_home: bool = True) -> Iterator[ServerProcess]:
    """Start `plait server` with `home` as PLAIT_HOME; stop it and everything it started.

    `env` adds variables to the server's environment. The home is made private first (as
    `plait.Remote` makes it) unless `private_home` is False (the server then warns about it).
    """
    if private_home:
        ensure_private(home)
    else:
        home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **(env or {}), "PLAIT_HOME": str(home)}
    for name in ("PLAIT_ENDPOINT", "PLAIT_TOKEN", "PLAIT_DATABASE_URL", "PLAIT_STORAGE_URL",
                 "PLAIT_DASK_SCHEDULER", "PLAIT_PORT", "PLAIT_HOST", "PLAIT_DASK_TLS_CA_FILE",
                 "PLAIT_DASK_TLS_CERT", "PLAIT_DASK_TLS_KEY"):
        env.pop(name, None)
    with os.fdopen(open_file_private(home / "server.log"), "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "plait", "server", "--port", "0", *extra_args],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,
        )
    server: ServerProcess | None = None
    try:
        server = _wait_until_ready(home, process)
        yield server
    finally:
        stop(process, home)


def _wait_until_ready(home: Path, process: subprocess.Popen[bytes]) -> ServerProcess:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            raise ServerDidNotStart(f"plait server exited with code {code}:\n{_tail(home)}")
        try:
            data = json.loads((home / "server.json").read_text())
            token = (home / "token").read_text().strip()
        except (OSError, ValueError):
            time.sleep(0.1)
            continue
        if data.get("pid") == process.pid and token:
            url = str(data["url"])
            with contextlib.suppress(httpx.TransportError):
                answer = httpx.get(f"{url}/api/v1/health", timeout=2.0,
                                   headers={"Authorization": f"Bearer {token}"})
                if answer.status_code == 200:
                    return ServerProcess(url, token, home, process)
        time.sleep(0.1)
    raise ServerDidNotStart(f"plait server did not answer within {START_TIMEOUT_S:.0f} s:\n{_tail(home)}")


def stop(process: subprocess.Popen[bytes], home: Path) -> None:
    """SIGTERM, wait, then SIGKILL the process group; raise if any of its processes is left."""
    try:
        family = [process.pid, *(c.pid for c in psutil.Process(process.pid).children(recursive=True))]
    except psutil.NoSuchProcess:
        family = [process.pid]
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # its own session: pgid == pid
            process.wait(timeout=10)
            raise ServerLeftProcesses(
                f"plait server (pid {process.pid}) ignored SIGTERM for {STOP_TIMEOUT_S:.0f} s and "
                f"was killed:\n{_tail(home)}"
            ) from None
    left = _survivors(family, process.pid, deadline=time.monotonic() + 10)
    if left:
        described = "\n".join(f"  {p.pid}: {' '.join(p.cmdline())}" for p in left)
        for p in left:
            with contextlib.suppress(psutil.NoSuchProcess):
                p.kill()
        raise ServerLeftProcesses(f"processes left after the server stopped (killed now):\n{described}")


def _survivors(pids: list[int], session: int, deadline: float) -> list[psutil.Process]:
    """Processes of `pids` or of the server's session still alive once `deadline` passes.

    Zombies count as gone. The session catches workers that were reparented.
    """
    while True:
        alive = []
        for pid in sorted({*pids, *_in_session(session)}):
            with contextlib.suppress(psutil.NoSuchProcess):
                proc = psutil.Process(pid)
                if proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(proc)
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.1)


def _in_session(session: int) -> list[int]:
    found = []
    for pid in psutil.pids():
        with contextlib.suppress(OSError):
            if os.getsid(pid) == session:
                found.append(pid)
    return found


def _tail(home: Path, lines: int = 40) -> str:
    try:
        return "\n".join((home / "server.log").read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
