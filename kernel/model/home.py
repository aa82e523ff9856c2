"""`$PLAIT_HOME`: the one folder plait keeps its state in, and the name of each file there.

    ~/.plait/                 (or $PLAIT_HOME)
        token                 the backend's bearer token (mode 0600)
        server.json           {"url": ..., "pid": ...} of the running `plait server`
        executor.json         the running executor's Dask addresses, for its API processes
        plait.db              the backend's SQLite database (by default)
        data/                 the backend's object store (by default)
        data/local/<exe>/<node>/   what local runs write (files, executed notebooks)
        local-cache/          the local engine's cache
        artifacts/            the local artifact store
        logs/server.log       the output of a server that `plait.Remote` started

The client finds a server here, the backend writes here, the local engine
caches here: all of them ask this module, so the layout changes in one place.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

HOME_ENV: Final = "PLAIT_HOME"
TOKEN: Final = "token"
SERVER: Final = "server.json"
EXECUTOR: Final = "executor.json"
DATABASE: Final = "plait.db"
DATA: Final = "data"
LOCAL_CACHE: Final = "local-cache"
ARTIFACTS: Final = "artifacts"
LOGS: Final = "logs"  # logs/server.log: the server a client started
SERVER_LOCK: Final = "server.lock"  # held by a client while it starts a server


def plait_home(env: os._Environ[str] | dict[str, str] | None = None) -> Path:
    """`$PLAIT_HOME`, or `~/.plait` when it is not set (`~` expanded in both)."""
    env = os.environ if env is None else env
    return Path(env.get(HOME_ENV) or Path.home() / ".plait").expanduser()


def local_data_dir(execution: str, node: str) -> Path:
    """Where a local run's node writes its files: `data/local/<execution>/<node or root>`."""
    return plait_home() / DATA / "local" / execution / (node or "root")


# ------------------------------------------------------------------ the token


def read_token(home: str | os.PathLike[str]) -> str | None:
    """The token in `<home>/token`, or None if there is none yet (or it cannot be read).

    Narrows the file's mode to 0600 when it is readable by group or others.
    """
    path = Path(home) / TOKEN
    try:
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        token = path.read_text().strip()
    except OSError:
        return None
    return token or None


# ------------------------------------------------------------------ the running server


@dataclass(frozen=True)
class Endpoint:
    url: str
    pid: int


def endpoint_file(home: str | os.PathLike[str]) -> Path:
    """`<home>/server.json`: `{"url": ..., "pid": ...}` of the running server."""
    return Path(home) / SERVER


def read_endpoint(home: str | os.PathLike[str]) -> Endpoint | None:
    """The running server's endpoint, or None if none is recorded or its process is gone."""
    try:
        data = json.loads(endpoint_file(home).read_text())
        endpoint = Endpoint(url=str(data["url"]), pid=int(data["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return endpoint if pid_alive(endpoint.pid) else None


def write_endpoint(home: str | os.PathLike[str], url: str, pid: int | None = None) -> Path:
    """Record that a server (this process by default) serves `url`; atomic."""
    path = endpoint_file(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps({"url": url, "pid": os.getpid() if pid is None else pid})
    fd, tmp = tempfile.mkstemp(prefix=".server-", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(data + "\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def remove_endpoint(home: str | os.PathLike[str], pid: int | None = None) -> None:
    """Forget the endpoint, only if it is this process's (or `pid`'s)."""
    path = endpoint_file(home)
    pid = os.getpid() if pid is None else pid
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return
    if isinstance(data, dict) and data.get("pid") == pid:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def pid_alive(pid: int) -> bool:
    """Is process `pid` running (on this machine)?"""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
