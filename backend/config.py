"""Where the backend keeps its state, which address it serves, and its token.

`Settings.from_env()` reads the `PLAIT_*` variables once, when a server or a
test asks for them; nothing here runs at import time. Defaults put everything
under `$PLAIT_HOME` (default `~/.plait`):

    plait.db      SQLite metadata (WAL)          PLAIT_DATABASE_URL
    data/         object store                   PLAIT_STORAGE_URL
    token         bearer token, mode 0600
    server.json   {"url", "pid"} of the server that is running, for clients

The names of these files, and reading and writing `server.json`, belong to
`plait.model.home`, which the client side (`plait.Remote`, which never
imports `plait.backend`) reads too.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plait.model import home as layout
from plait.model.home import endpoint_file, read_token
from plait.model.home import (
    read_endpoint as read_endpoint,
)
from plait.model.home import (
    remove_endpoint as remove_endpoint,
)
from plait.model.home import (
    write_endpoint as write_endpoint,
)

# 8742 is unassigned at IANA and clear of Jupyter (8888), Dask (8786/8787),
# code-server (8080), Panel (5006) and the usual dev servers.
DEFAULT_PORT = 8742
DEFAULT_HOST = "127.0.0.1"

_ENV = {
    "home": "PLAIT_HOME",
    "database_url": "PLAIT_DATABASE_URL",
    "storage_url": "PLAIT_STORAGE_URL",
    "dask_scheduler": "PLAIT_DASK_SCHEDULER",
    "host": "PLAIT_HOST",
    "port": "PLAIT_PORT",
}


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
        home = Path(values.get("home") or layout.plait_home({})).expanduser()
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
            database_url=str(values.get("database_url") or f"sqlite:///{home / layout.DATABASE}"),
            storage_url=str(values.get("storage_url") or home / layout.DATA),
            dask_scheduler=values.get("dask_scheduler"),
            host=str(values.get("host") or DEFAULT_HOST),
            port=port,
        )

    @property
    def token_file(self) -> Path:
        return self.home / layout.TOKEN

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
    path = home / layout.TOKEN
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
