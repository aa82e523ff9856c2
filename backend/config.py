"""Where the backend keeps its state, which address it serves, and its token.

`Settings.from_env()` reads the `PLAIT_*` variables once, when a server or a
test asks for them; nothing here runs at import time. Defaults put everything
under `$PLAIT_HOME` (default `~/.plait`):

    plait.db      SQLite metadata (WAL)          PLAIT_DATABASE_URL
    data/         object store                   PLAIT_STORAGE_URL
    token         bearer token, mode 0600
    server.json   {"url", "pid"} of the server that is running, for clients

The client side (`plait.Remote`, which never imports `plait.backend`) reads
`token` and `server.json` by these names, so they are part of the contract.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plait.remote import pid_alive

# 8742 is unassigned at IANA and clear of Jupyter (8888), Dask (8786/8787),
# code-server (8080), Panel (5006) and the usual dev servers.
DEFAULT_PORT = 8742
DEFAULT_HOST = "127.0.0.1"

TOKEN_FILE = "token"
ENDPOINT_FILE = "server.json"

_ENV = {
    "home": "PLAIT_HOME",
    "database_url": "PLAIT_DATABASE_URL",
    "storage_url": "PLAIT_STORAGE_URL",
    "dask_scheduler": "PLAIT_DASK_SCHEDULER",
    "host": "PLAIT_HOST",
    "port": "PLAIT_PORT",
}


def default_home() -> Path:
    return Path(os.path.expanduser("~")) / ".plait"


@dataclass(frozen=True)
class Settings:
    """The backend's configuration; build it with `Settings.from_env()`.

    `dask_scheduler` None means an embedded `LocalCluster`.
    """

    home: Path
    database_url: str
    storage_url: str
    dask_scheduler: str | None = None
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from `PLAIT_*` variables; keyword overrides win over them.

        An override that is None counts as not given, so a CLI can pass its
        options through untouched. The database and storage defaults follow
        `home`, whichever way it was set.
        """
        unknown = set(overrides) - set(_ENV)
        if unknown:
            raise TypeError(
                f"unknown setting(s) {sorted(unknown)}; expected some of {sorted(_ENV)}"
            )
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for name, var in _ENV.items():
            value = overrides.get(name)
            if value is None:
                value = env.get(var) or None
            if value is not None:
                values[name] = value
        home = Path(values.get("home") or default_home()).expanduser()
        port_value = values.get("port", DEFAULT_PORT)
        try:
            port = int(port_value)
        except (TypeError, ValueError):
            raise ValueError(
                f"PLAIT_PORT must be a port number (0-65535), found {port_value!r}"
            ) from None
        if not 0 <= port <= 65535:
            raise ValueError(f"PLAIT_PORT must be a port number (0-65535), found {port}")
        return cls(
            home=home,
            database_url=str(values.get("database_url") or f"sqlite:///{home / 'plait.db'}"),
            storage_url=str(values.get("storage_url") or home / "data"),
            dask_scheduler=values.get("dask_scheduler"),
            host=str(values.get("host") or DEFAULT_HOST),
            port=port,
        )

    @property
    def token_file(self) -> Path:
        return self.home / TOKEN_FILE

    @property
    def endpoint_file(self) -> Path:
        return endpoint_file(self.home)

    @property
    def url(self) -> str:
        """The base URL the server listens on (port 0 is only known once bound)."""
        return f"http://{_url_host(self.host)}:{self.port}"


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


# --- the token -----------------------------------------------------------------


def ensure_token(home: str | os.PathLike[str]) -> str:
    """The backend's bearer token, created with mode 0600 on first start.

    A token file readable by others has its mode narrowed to 0600; an empty
    one is replaced. Two servers starting at once end up with the same token.
    """
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    path = home / TOKEN_FILE
    token = read_token(home)
    if token:
        return token
    fd, tmp = tempfile.mkstemp(prefix=".token-", dir=home)  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
        try:
            os.link(tmp, path)  # fails if another process won the race
        except FileExistsError:
            if path.stat().st_size:
                pass  # theirs is complete (written before it was linked)
            else:
                os.replace(tmp, path)  # an empty token file: replace it
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    token = read_token(home)
    if not token:
        raise RuntimeError(f"could not create the backend token at {path}")
    return token


def read_token(home: str | os.PathLike[str]) -> str | None:
    """The token in `<home>/token`, or None if there is none yet.

    Narrows the file's mode to 0600 when it is readable by group or others.
    """
    path = Path(home) / TOKEN_FILE
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    if stat.S_IMODE(mode) & 0o077:
        os.chmod(path, 0o600)
    token = path.read_text().strip()
    return token or None


# --- where a running server can be found ----------------------------------------


@dataclass(frozen=True)
class Endpoint:
    url: str
    pid: int


def endpoint_file(home: str | os.PathLike[str]) -> Path:
    """`<home>/server.json`: `{"url": ..., "pid": ...}` of the running server."""
    return Path(home) / ENDPOINT_FILE


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


def read_endpoint(home: str | os.PathLike[str]) -> Endpoint | None:
    """The running server's endpoint, or None if none is recorded or its process is gone."""
    try:
        data = json.loads(endpoint_file(home).read_text())
        endpoint = Endpoint(url=str(data["url"]), pid=int(data["pid"]))
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None
    return endpoint if pid_alive(endpoint.pid) else None


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
