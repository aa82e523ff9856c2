"""A real JupyterLab process for the extension's tests.

    with running_lab(tmp_path / "lab", plait_home=server.home) as lab:
        httpx.get(lab.url("plait/api/workflows"), headers=lab.auth)

It starts `jupyter lab` from this interpreter's environment (so it loads the
installed `plait-jupyterlab` extension and the `plait.lab` server extension)
on a free port with a known Jupyter token, with `PLAIT_HOME` set to the
backend's home so the server extension finds it the way a user's lab does.
Stopping it stops its process group and fails if anything is left behind.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class LabProcess:
    base: str
    token: str
    root: Path
    log: Path
    process: subprocess.Popen[bytes]

    @property
    def data_dir(self) -> Path:
        """JUPYTER_DATA_DIR of this lab: where its notebook-signing secret lives."""
        return self.root.parent / f"{self.root.name}-jupyter-config" / "data"

    def trust(self, notebook: Path) -> None:
        """Sign `notebook` as this lab's user would by running it: its HTML outputs stay as written."""
        import nbformat
        from nbformat.sign import NotebookNotary

        nb = nbformat.read(str(notebook), as_version=4)
        notary = NotebookNotary(data_dir=str(self.data_dir))
        notary.sign(nb)
        notary.store.close()

    def url(self, path: str = "") -> str:
        return f"{self.base}/{path.lstrip('/')}"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def log_tail(self, lines: int = 60) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_lab(root: Path, *, plait_home: Path, env: dict[str, str] | None = None) -> Iterator[LabProcess]:
    """JupyterLab serving `root`, talking to the plait backend that lives in `plait_home`."""
    root.mkdir(parents=True, exist_ok=True)
    config = root.parent / f"{root.name}-jupyter-config"
    config.mkdir(exist_ok=True)
    token, port = secrets.token_hex(16), free_port()
    log = root.parent / f"{root.name}-lab.log"
    settings = config / "lab-settings"
    news = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True, exist_ok=True)
    news.write_text('{"fetchNews": "false", "checkForUpdates": false}')  # clean screenshots
    clean = {k: v for k, v in os.environ.items() if k not in ("PLAIT_ENDPOINT", "PLAIT_TOKEN")}
    lab_env = {**clean, "PLAIT_HOME": str(plait_home), "JUPYTER_CONFIG_DIR": str(config),
               "JUPYTER_RUNTIME_DIR": str(config / "runtime"), "JUPYTER_DATA_DIR": str(config / "data"),
               "JUPYTERLAB_SETTINGS_DIR": str(settings), "JUPYTERLAB_WORKSPACES_DIR": str(config / "ws"),
               **(env or {})}
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip", "127.0.0.1", f"--port={port}",
        f"--ServerApp.token={token}", "--ServerApp.password=", "--ServerApp.open_browser=False",
        f"--ServerApp.root_dir={root}",
    ]
    if os.getuid() == 0:
        command.append("--allow-root")
    with open(log, "ab") as out:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                   env=lab_env, start_new_session=True, cwd=root)
    lab = LabProcess(f"http://127.0.0.1:{port}", token, root, log, process)
    try:
        _wait_until_ready(lab)
        yield lab
    finally:
        _stop(process)


def _wait_until_ready(lab: LabProcess) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if lab.process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with code {lab.process.returncode}:\n{lab.log_tail()}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(lab.url("api/status"), headers=lab.auth, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"jupyter lab did not answer within {START_TIMEOUT_S:.0f} s:\n{lab.log_tail()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    try:
        family = [process.pid, *(c.pid for c in psutil.Process(process.pid).children(recursive=True))]
    except psutil.NoSuchProcess:
        family = [process.pid]
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # Jupyter asks for confirmation on the first SIGINT...
        time.sleep(0.2)
        process.send_signal(signal.SIGTERM)  # ...and stops at once on SIGTERM
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    left = []
    for pid in family:
        with contextlib.suppress(psutil.NoSuchProcess, ProcessLookupError):
            p = psutil.Process(pid)
            # An embedded plait backend runs in a session of its own on purpose (it outlives
            # the lab that started it); the lab's kernels and helpers are in the lab's session.
            if p.status() != psutil.STATUS_ZOMBIE and os.getsid(pid) == process.pid:
                left.append(p)
    for p in left:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    if left:
        raise RuntimeError(f"processes left after jupyter lab stopped: {[p.pid for p in left]}")
