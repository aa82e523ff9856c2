"""code-server as a managed process: its command line, environment, limits and stop.

    binary = code_server_binary()          # CodeServerMissing says how to install it
    proc = launch(binary, layout, port, env, cpus=2)
    wait_healthy(port, proc, timeout_s=30)
    stop_group(proc.pid)                   # SIGTERM to its process group, SIGKILL after a grace

code-server listens on 127.0.0.1 only, with its own authentication off: the
server's proxy (backend/proxy) is the door, and it checks the token or the
session cookie first. It runs in its own session (process group), because a
SIGTERM to the main process alone can leave its extension host behind; its
settings, extensions and XDG folders live in the workspace's folder, never
under the user's `~/.config`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from plait.model.home import pid_alive

VERSION = "4.100.3"
STOP_GRACE_S = 5.0


class CodeServerMissing(RuntimeError):
    """No code-server binary was found where the server looks for one."""


def code_server_binary() -> Path:
    """`$PLAIT_CODE_SERVER`, else the one `make install` puts in the virtual environment
    (`<venv>/code-server`), else `code-server` on PATH."""
    configured = os.environ.get("PLAIT_CODE_SERVER")
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise CodeServerMissing(f"PLAIT_CODE_SERVER={configured} is not a file; point it at a "
                                    "code-server binary, or unset it")
        return path
    beside = Path(sys.prefix) / "code-server" / "node_modules" / ".bin" / "code-server"
    if beside.is_file():
        return beside
    found = shutil.which("code-server")
    if found:
        return Path(found)
    raise CodeServerMissing(
        f"code-server is not installed: workspaces need it. Install it with `make install` (which "
        f"runs scripts/ensure-code-server.sh {sys.prefix}), or set PLAIT_CODE_SERVER to a "
        f"code-server {VERSION} binary")


@dataclass(frozen=True)
class Layout:
    """A workspace's folders on this machine: `root` holds everything; `home` is the HOME of
    its processes; `workdir` (inside home) is what persists; code-server's own state is in
    `state`, the log is `log`."""

    root: Path

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def state(self) -> Path:
        return self.root / "code-server"

    @property
    def log(self) -> Path:
        return self.root / "workspace.log"

    def workdir(self, relative: str) -> Path:
        return self.home / relative

    def make(self, relative: str) -> None:
        for folder in (self.home, self.state / "data", self.state / "extensions", self.state / "config",
                       self.workdir(relative)):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_environment(layout: Layout, extra: Mapping[str, str], *, path_first: str | None = None) -> dict[str, str]:
    """What the workspace's processes see: a clean HOME and XDG folders in the workspace, the
    server's PATH (with the workspace environment's bin first), and `extra` (plait's endpoint,
    secrets, GPU visibility)."""
    keep = ("PATH", "LANG", "LC_ALL", "TERM", "TZ", "SHELL", "USER", "LOGNAME", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    path = env.get("PATH", "/usr/bin:/bin")
    if path_first:
        path = f"{path_first}{os.pathsep}{path}"
    env.update({
        "HOME": str(layout.home), "PATH": path, "SHELL": env.get("SHELL", "/bin/bash"),
        "XDG_CONFIG_HOME": str(layout.state / "config"), "XDG_DATA_HOME": str(layout.state / "data"),
        "XDG_CACHE_HOME": str(layout.root / "cache"),
    })
    env.update(extra)
    return env


def command(binary: Path, layout: Layout, port: int, folder: Path) -> list[str]:
    return [str(binary), "--config", "/dev/null", "--bind-addr", f"127.0.0.1:{port}", "--auth", "none",
            "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust",
            "--disable-getting-started-override", "--ignore-last-opened",
            "--user-data-dir", str(layout.state / "data"),
            "--extensions-dir", str(layout.state / "extensions"), str(folder)]


def _limit_cpus(cpus: int | None) -> None:
    """In the child before exec: at most `cpus` cores (the CPU share), the same for its children."""
    if cpus is None or not hasattr(os, "sched_setaffinity"):
        return
    allowed = sorted(os.sched_getaffinity(0))
    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, allowed[:max(cpus, 1)])


def launch(binary: Path, layout: Layout, port: int, env: Mapping[str, str], folder: Path, *,
           cpus: int | None = None) -> subprocess.Popen[bytes]:
    """Start code-server in its own session, its output appended to the workspace's log."""
    with open(layout.log, "ab") as log:
        return subprocess.Popen(command(binary, layout, port, folder), cwd=folder, env=dict(env),
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, preexec_fn=lambda: _limit_cpus(cpus))  # noqa: PLW1509


def healthy(port: int, timeout_s: float = 1.0) -> bool:
    """Whether code-server answers its health check on `port`."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=timeout_s) as answer:
            return int(answer.status) == 200
    except OSError:
        return False


def wait_healthy(port: int, proc: subprocess.Popen[bytes] | None, *, timeout_s: float = 30.0) -> str | None:
    """None once it answers; else why not (it exited, or it did not answer in time)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return f"code-server exited with code {proc.returncode} while starting"
        if healthy(port, timeout_s=0.5):
            return None
        time.sleep(0.05)
    return f"code-server did not answer on 127.0.0.1:{port} within {timeout_s:g} s"


def alive(pid: int | None) -> bool:
    """Whether `pid` runs: `pid_alive`, and not a zombie child that was not reaped yet."""
    if not pid or not pid_alive(pid):
        return False
    with contextlib.suppress(OSError):  # a zombie child of ours counts as gone
        if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"):
            return False
    return True


def is_ours(pid: int, layout: Layout) -> bool:
    """Whether `pid` is this workspace's code-server (its command line names its folder): a
    restarted server adopts only its own processes, never a reused pid."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return str(layout.state / "data").encode() in cmdline


def group_rss(pid: int) -> int:
    """Resident memory of the process and its descendants, in bytes (0 when it is gone)."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            total += proc.memory_info().rss
    return total


def stop_group(pid: int, proc: subprocess.Popen[bytes] | None = None, *, grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM to the process group, SIGKILL to what is left after `grace_s`."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if proc is not None:
            if proc.poll() is not None:
                break
        elif not alive(pid):
            break
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    if proc is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=2)
