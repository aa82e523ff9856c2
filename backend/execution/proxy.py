"""The executor as seen from an API worker process.

With several API processes (`plait server --api-workers N`), the executor runs
only in the main process. It writes what the API needs to know about the
cluster to `$PLAIT_HOME/executor.json` (0600) and listens on a loopback UDP
port for pokes: `claim <id>` when an execution was created, `abort <id>` when
one was aborted. Everything else goes through the database.

A poke is `<hmac> <verb> <id>`, signed (HMAC-SHA256) with a key that the
executor makes at start and publishes only in executor.json: another local user
can send datagrams to the port but cannot sign them, and the executor drops
what does not verify. Even a signed `abort` stops only an execution whose
abort the database records.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plait.model.home import EXECUTOR as INFO_FILE
from plait.model.home import pid_alive

if TYPE_CHECKING:
    from fastapi import FastAPI

REFRESH_S = 5.0
STALE_S = 30.0  # an executor.json this old means the executor is not heartbeating (it renews every 5 s)


POKE_VERBS = ("claim", "abort")


def write_info(home: str | Path, info: dict[str, Any]) -> None:
    """Publish the executor's info (it holds the poke key): atomically, mode 0600."""
    path = Path(home) / INFO_FILE
    fd, tmp = tempfile.mkstemp(prefix=".executor-", dir=path.parent)  # made 0600
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps(info))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sign_poke(key: bytes, verb: str, execution_id: str) -> bytes:
    """A poke datagram: `<hmac-sha256 hex> <verb> <execution id>`."""
    message = f"{verb} {execution_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest().encode() + b" " + message


def read_poke(key: bytes, data: bytes) -> tuple[str, str] | None:
    """(verb, execution id) of a poke signed with `key`; None for anything else."""
    mac, _, message = data.partition(b" ")
    expected = hmac.new(key, message, hashlib.sha256).hexdigest().encode()
    if not hmac.compare_digest(mac, expected):
        return None
    verb, _, execution_id = message.decode(errors="replace").partition(" ")
    if verb not in POKE_VERBS or not execution_id:
        return None
    return verb, execution_id


class ExecutorProxy:
    """The `ExecutorPort` (ports.py) of a process without the executor: pokes and the info file."""

    def __init__(self, home: str | Path) -> None:
        self.path = Path(home) / INFO_FILE
        self._info: dict[str, Any] = {}
        self._read_at = 0.0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def _current(self) -> dict[str, Any]:
        now = time.monotonic()
        if not self._info or now - self._read_at > REFRESH_S:
            try:
                self._info = json.loads(self.path.read_text())
            except (OSError, ValueError):
                self._info = self._info or {}
            self._read_at = now
        return self._info

    def _poke(self, verb: str, execution_id: str) -> None:
        info = self._current()
        port, key = info.get("poke_port"), info.get("poke_key")
        if port and key:
            self._sock.sendto(sign_poke(bytes.fromhex(key), verb, execution_id), ("127.0.0.1", int(port)))

    def submit(self, execution_id: str) -> None:
        self._poke("claim", execution_id)  # the executor also claims on its own every few seconds

    def abort(self, execution_id: str) -> None:
        self._poke("abort", execution_id)

    def worker_python(self) -> str:
        return str(self._current().get("worker_python") or "")

    def worker_resources(self) -> dict[str, float]:
        return dict(self._current().get("worker_resources") or {})

    def pool_states(self) -> list[dict[str, Any]]:
        return list(self._current().get("pools") or [])

    @property
    def scheduler_address(self) -> str | None:
        return self._current().get("scheduler")

    @property
    def dashboard_link(self) -> str | None:
        return self._current().get("dashboard")

    @property
    def dashboard_upstream(self) -> str | None:
        return self._current().get("dashboard_upstream")

    def problem(self) -> str | None:
        """The executor's own problem, or that its process is gone or has stopped reporting."""
        info = self._current()
        if not info:
            return f"the executor has not published its state ({self.path} is missing): executions wait"
        pid = int(info.get("pid") or 0)
        if not pid_alive(pid):
            return (f"the executor's process (pid {pid}) has exited: executions stay QUEUED; "
                    "restart `plait server`")
        age = time.time() - float(info.get("heartbeat_at") or 0)
        if age > STALE_S:
            return (f"the executor (pid {pid}) has not reported for {age:.0f} s: executions wait "
                    "until it does")
        problem = info.get("problem")
        return str(problem) if problem else None


def app_from_env() -> FastAPI:
    """The API app of one worker process (uvicorn factory), configured from the environment."""
    from plait.model.home import read_token

    from ..api.app import create_app
    from ..config import Settings
    from ..storage import ObjectStore
    from ..store import Database

    _exit_with_parent()
    settings = Settings.from_env()
    token = read_token(settings.home)
    if not token:
        raise SystemExit(f"plait server: no token in {settings.token_file}")
    return create_app(settings, Database(settings.database_url), ObjectStore(settings.storage_url),
                      ExecutorProxy(settings.home), token=token)


PARENT_POLL_S = 1.0


def _exit_with_parent() -> None:
    """End this API process when the server process that started it is gone.

    After a kill -9 of `plait server` its API processes would go on answering
    (health included) and accepting executions that nothing runs, and keep the
    port, so a restart fails with "address already in use". A watchdog thread
    notices the parent change (the process is handed to init) within a second
    and stops this process as SIGTERM would, or at once when that hangs.
    """
    import signal
    import threading

    # The server names itself: this process may start after it has already died.
    parent = int(os.environ.get("PLAIT_SERVER_PID") or os.getppid())

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's graceful stop
        time.sleep(10.0)
        os._exit(1)

    threading.Thread(target=watch, name="plait-parent-watch", daemon=True).start()
