"""The executor as seen from an API worker process.

With several API processes (`plait server --api-workers N`), the executor runs
only in the main process. It writes what the API needs to know about the
cluster to `$PLAIT_HOME/executor.json` and listens on a loopback UDP port for
pokes: `claim <id>` when an execution was created, `abort <id>` when one was
aborted. Everything else goes through the database.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plait.model.home import EXECUTOR as INFO_FILE

if TYPE_CHECKING:
    from fastapi import FastAPI

REFRESH_S = 5.0


def write_info(home: str | Path, info: dict[str, Any]) -> None:
    path = Path(home) / INFO_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(info))
    tmp.replace(path)


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

    def _poke(self, message: str) -> None:
        port = self._current().get("poke_port")
        if port:
            self._sock.sendto(message.encode(), ("127.0.0.1", int(port)))

    def submit(self, execution_id: str) -> None:
        self._poke(f"claim {execution_id}")  # the executor also claims on its own every few seconds

    def abort(self, execution_id: str) -> None:
        self._poke(f"abort {execution_id}")

    def worker_python(self) -> str:
        return str(self._current().get("worker_python") or "")

    def worker_resources(self) -> dict[str, float]:
        return dict(self._current().get("worker_resources") or {})

    @property
    def scheduler_address(self) -> str | None:
        return self._current().get("scheduler")

    @property
    def dashboard_link(self) -> str | None:
        return self._current().get("dashboard")


def app_from_env() -> FastAPI:
    """The API app of one worker process (uvicorn factory), configured from the environment."""
    from plait.model.home import read_token

    from ..api.app import create_app
    from ..config import Settings
    from ..storage import ObjectStore
    from ..store import Database

    settings = Settings.from_env()
    token = read_token(settings.home)
    if not token:
        raise SystemExit(f"plait server: no token in {settings.token_file}")
    return create_app(settings, Database(settings.database_url), ObjectStore(settings.storage_url),
                      ExecutorProxy(settings.home), token=token)
