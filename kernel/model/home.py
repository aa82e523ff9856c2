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
        tls/                  the embedded Dask cluster's CA and certificate (ca.pem, dask.pem,
                              dask-key.pem), made at the server's first start
        secrets.key           the key the secret store encrypts values with (mode 0600), made at
                              the server's first start unless PLAIT_SECRETS_KEY gives one
        envs/<hash>/          environments built from ImageSpecs (plait.environments), with
                              <hash>.lock beside each and <hash>.failed.log after a failed build

The client finds a server here, the backend writes here, the local engine
caches here: all of them ask this module, so the layout changes in one place.

Everything here is private to its user (folders 0700, files 0600): whoever
creates a folder of it calls `ensure_private`, and the server narrows what it
finds open at start (`open_paths`, `narrow`).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
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
TLS: Final = "tls"  # the embedded Dask cluster's certificates
TLS_CA: Final = "ca.pem"
TLS_CERT: Final = "dask.pem"
TLS_KEY: Final = "dask-key.pem"
SECRETS_KEY: Final = "secrets.key"  # the secret store's encryption key (plait.backend.secrets)
ENVS: Final = "envs"  # envs/<hash>/: an environment built from an ImageSpec (plait.environments)


def plait_home(env: os._Environ[str] | dict[str, str] | None = None) -> Path:
    """`$PLAIT_HOME`, or `~/.plait` when it is not set (`~` expanded in both)."""
    env = os.environ if env is None else env
    return Path(env.get(HOME_ENV) or Path.home() / ".plait").expanduser()


def local_data_dir(execution: str, node: str) -> Path:
    """Where a local run's node writes its files: `data/local/<execution>/<node or root>`.

    `data/` is made private (0700) here if it is missing; the caller creates the rest.
    """
    data = plait_home() / DATA
    if not data.is_dir():
        ensure_private(data)
    return data / "local" / execution / (node or "root")


# ------------------------------------------------------------------ private state

PRIVATE_DIR: Final = 0o700
PRIVATE_FILE: Final = 0o600


def ensure_private(folder: str | os.PathLike[str]) -> Path:
    """`folder`, created with its missing parents as 0700 (whatever the umask), or narrowed
    to 0700 if it exists, is this user's and is open to group or others."""
    path = Path(folder)
    missing = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for made in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            made.mkdir(mode=PRIVATE_DIR)
            os.chmod(made, PRIVATE_DIR)  # mkdir's mode is masked by the umask
    try:
        st = path.stat()
    except FileNotFoundError:  # pragma: no cover - removed between the two calls
        return ensure_private(path)
    if not stat.S_ISDIR(st.st_mode):
        raise NotADirectoryError(f"{path} should be a folder for plait's state, but it is a file")
    if st.st_mode & 0o077 and st.st_uid == os.geteuid():
        os.chmod(path, PRIVATE_DIR)
    return path


def open_file_private(path: str | os.PathLike[str], flags: int = os.O_WRONLY | os.O_CREAT | os.O_APPEND) -> int:
    """`os.open` of a file that is created 0600 (whatever the umask); a file descriptor."""
    fd = os.open(path, flags, PRIVATE_FILE)
    with contextlib.suppress(OSError):  # not ours (the owner keeps its mode): read it anyway
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, PRIVATE_FILE)
    return fd


@dataclass(frozen=True)
class OpenPath:
    """A path of `$PLAIT_HOME` that group or others may read: its mode, and its owner's uid."""

    path: Path
    mode: int
    uid: int

    @property
    def ours(self) -> bool:
        return self.uid == os.geteuid()

    @property
    def private_mode(self) -> int:
        return PRIVATE_DIR if stat.S_ISDIR(self.mode) else PRIVATE_FILE


def open_paths(home: str | os.PathLike[str]) -> list[OpenPath]:
    """The home and the entries directly in it (links are not followed) that group or others
    may use. What is deeper is out of their reach once these are private."""
    home = Path(home)
    found = []
    for path in [home, *(sorted(home.iterdir()) if home.is_dir() else [])]:
        try:
            st = path.lstat()
        except FileNotFoundError:
            continue
        if not stat.S_ISLNK(st.st_mode) and st.st_mode & 0o077:
            found.append(OpenPath(path, st.st_mode, st.st_uid))
    return found


def narrow(found: OpenPath) -> bool:
    """Narrow an open path to 0700 (folders) or 0600 (files) if it is ours; whether it was."""
    if not found.ours:
        return False
    os.chmod(found.path, found.private_mode)
    return True


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
    ensure_private(path.parent)
    data = json.dumps({"url": url, "pid": os.getpid() if pid is None else pid})
    fd, tmp = tempfile.mkstemp(prefix=".server-", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(data + "\n")
        os.replace(tmp, path)  # mkstemp made it 0600
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
