"""`panel serve` of a written dashboard, on this machine, until it is stopped.

The server is a child process (`python -m panel serve`), bound to 127.0.0.1,
so a preview is never reachable from another host. `Preview.wait_ready`
polls the page until it answers, so a caller prints a link that works.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import PlatformError
from .runtime import WORKDIR_ENV

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class Preview:
    """A running `panel serve`: its URL, and `stop()` to end it."""

    app: Path
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    started: float = field(default_factory=time.monotonic)

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}/{self.app.stem}"

    def wait_ready(self, timeout: float = 60.0) -> str:
        """Block until the page answers HTTP 200; raise with the server's output if it exits or times out."""
        deadline = time.monotonic() + timeout
        local = f"http://{HOST}:{self.port}/{self.app.stem}"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise PlatformError(f"panel serve {self.app} exited with code {self.process.returncode}:\n"
                                    f"{self.output()}")
            try:
                with urllib.request.urlopen(local, timeout=5) as response:
                    if response.status == 200:
                        return self.url
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        self.stop()
        raise PlatformError(f"panel serve {self.app} did not answer on port {self.port} within {timeout:.0f} s:\n"
                            f"{self.output()}")

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def preview(app: str | Path, *, port: int | None = None, workdir: str | Path | None = None) -> Preview:
    """Start `panel serve app` on `port` (a free one by default); the notebook's paths resolve in `workdir`."""
    app = Path(app).resolve()
    port = port or free_port()
    log = app.parent / ".panel-serve.log"
    env = dict(os.environ)
    if workdir is not None:
        env[WORKDIR_ENV] = str(Path(workdir).resolve())
    origins = [f"localhost:{port}", f"{HOST}:{port}"]
    command = [sys.executable, "-m", "panel", "serve", str(app), "--address", HOST, "--port", str(port),
               *[a for o in origins for a in ("--allow-websocket-origin", o)]]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env,
                                   cwd=str(app.parent), start_new_session=True)
    return Preview(app, port, process, log)
