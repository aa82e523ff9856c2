"""Where the plait server is, and starting one when none runs.

The `endpoint` and `token` arguments, else `PLAIT_ENDPOINT` and `PLAIT_TOKEN`,
else `$PLAIT_HOME/server.json` and `$PLAIT_HOME/token`, which a running server
writes. `start_server` runs `python -m plait server --port 0` detached, logging
to `$PLAIT_HOME/logs/server.log` (the home and the log private to the user),
and waits until it answers.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import PlaitError
from ..model import home as layout
from .errors import ServerError

API = "/api/v1"
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Connection:
    """Where the server is and how we know: the sources name an argument, a variable or a file."""

    endpoint: str | None
    token: str | None
    endpoint_source: str
    token_source: str
    token_file: Path


def discover(endpoint: str | None = None, token: str | None = None,
             env: Mapping[str, str] | None = None) -> Connection:
    """Arguments, then `PLAIT_ENDPOINT`/`PLAIT_TOKEN`, then `$PLAIT_HOME/server.json` and `token`."""
    env = os.environ if env is None else env
    home = layout.plait_home(env)
    token_file = home / layout.TOKEN
    if endpoint:
        endpoint_source = "the endpoint argument"
    elif env.get("PLAIT_ENDPOINT"):
        endpoint, endpoint_source = env["PLAIT_ENDPOINT"], "PLAIT_ENDPOINT"
    else:
        endpoint = running_server(home)
        endpoint_source = str(layout.endpoint_file(home)) if endpoint else "nothing (no server is running)"
    if token:
        token_source = "the token argument"
    elif env.get("PLAIT_TOKEN"):
        token, token_source = env["PLAIT_TOKEN"], "PLAIT_TOKEN"
    else:
        token = layout.read_token(home)
        token_source = str(token_file) if token else f"nothing ({token_file} does not exist)"
    return Connection(endpoint.rstrip("/") if endpoint else None, token, endpoint_source,
                      token_source, token_file)


def running_server(home: Path) -> str | None:
    """The URL in `home/server.json` if the process that wrote it is alive."""
    endpoint = layout.read_endpoint(home)
    return endpoint.url if endpoint else None


def start_server(home: Path | None = None, timeout: float = START_TIMEOUT_S) -> str:
    """Start `plait server` on a free port in its own session; return its URL once it answers."""
    home = layout.ensure_private(home or layout.plait_home())
    log_path = layout.ensure_private(home / layout.LOGS) / "server.log"
    with _start_lock(home):
        url = running_server(home)
        if url is not None:  # another client started one while we waited
            return url
        with os.fdopen(layout.open_file_private(log_path), "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "plait", "server", "--port", "0"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, env={**os.environ, "PLAIT_HOME": str(home)},
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = proc.poll()
            if code is not None:
                raise ServerError(
                    f"the plait server exited (code {code}) before it was ready; its log is "
                    f"{log_path}:\n{_tail(log_path)}"
                )
            url = _url_written_by(home, proc.pid)
            if url is not None and _answers(url):
                return url
            time.sleep(0.2)
    raise ServerError(
        f"the plait server (pid {proc.pid}) did not answer within {timeout:.0f} s; see its log "
        f"at {log_path}, or start one yourself with `plait server` and set PLAIT_ENDPOINT"
    )


@contextlib.contextmanager
def _start_lock(home: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock, a rare double start
        yield
        return
    with os.fdopen(layout.open_file_private(home / layout.SERVER_LOCK, os.O_WRONLY | os.O_CREAT), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _url_written_by(home: Path, pid: int) -> str | None:
    try:
        data = json.loads(layout.endpoint_file(home).read_text())
    except (OSError, ValueError):
        return None
    return str(data["url"]) if isinstance(data, dict) and data.get("pid") == pid and "url" in data else None


def _answers(url: str) -> bool:
    """Any HTTP answer from the health route (even 401) means the server is up."""
    httpx = load_httpx()
    try:
        httpx.get(f"{url.rstrip('/')}{API}/health", timeout=2.0)
    except httpx.TransportError:
        return False
    return True


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def load_httpx() -> Any:
    """httpx, imported on first use so that `import plait` stays light."""
    try:
        import httpx
    except ImportError:  # pragma: no cover - httpx ships with plait's remote extra
        raise PlaitError("plait.Remote needs httpx; install it with `pip install httpx`") from None
    return httpx
