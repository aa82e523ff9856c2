"""Where the backend keeps its state, which address it serves, and its token.

`Settings.from_env()` reads the `PLAIT_*` variables once, when a server or a
test asks for them; nothing here runs at import time. Defaults put everything
under `$PLAIT_HOME` (default `~/.plait`):

    plait.db      SQLite metadata (WAL)          PLAIT_DATABASE_URL
    data/         object store                   PLAIT_STORAGE_URL
    token         bearer token, mode 0600
    server.json   {"url", "pid"} of the server that is running, for clients
    tls/          the embedded Dask cluster's CA and certificate (security.py)

Under load, PLAIT_MAX_QUEUED (default 200) executions of a project may wait
to start before launches get 429, and the executor drives at most
PLAIT_MAX_ACTIVE_RUNS (default 32) launched executions at once.

A cluster file (PLAIT_CLUSTER_FILE, `plait server --cluster`; compute/cluster_file.py) declares
the compute instead: loaded and checked here, so a bad file stops the start. One of kind
kubernetes makes the Dask cluster there, whose scheduler needs the client's certificate
(the PLAIT_DASK_TLS_* files below, from the cluster's secret).

An external Dask scheduler (PLAIT_DASK_SCHEDULER) at a tls:// address needs
the client's certificate: PLAIT_DASK_TLS_CA_FILE, PLAIT_DASK_TLS_CERT and
PLAIT_DASK_TLS_KEY (`plait server --dask-tls-*`). `dask_security(home)` is
the `Security` a Dask client needs to talk to a server's embedded cluster.

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
from typing import TYPE_CHECKING, Any

from plait.model import home as layout
from plait.model.home import endpoint_file, read_token

if TYPE_CHECKING:
    from .compute import ClusterFile
    from .security import TlsFiles

# Executions a project may have waiting (QUEUED) before launches get 429 and
# Retry-After: enough to keep the cluster busy, few enough that what is admitted
# starts within seconds (see benchmarks/load.py).
DEFAULT_MAX_QUEUED = 200
# Launched executions the executor drives at once; the others wait QUEUED in creation
# order (children of running executions are not counted: their parents wait for them).
DEFAULT_MAX_ACTIVE_RUNS = 32

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
    "dask_tls_ca_file": "PLAIT_DASK_TLS_CA_FILE",
    "dask_tls_cert": "PLAIT_DASK_TLS_CERT",
    "dask_tls_key": "PLAIT_DASK_TLS_KEY",
    "max_queued": "PLAIT_MAX_QUEUED",
    "max_active_runs": "PLAIT_MAX_ACTIVE_RUNS",
    "cluster_file": "PLAIT_CLUSTER_FILE",
}
_TLS_OPTIONS = {"dask_tls_ca_file": "--dask-tls-ca-file", "dask_tls_cert": "--dask-tls-cert",
                "dask_tls_key": "--dask-tls-key"}


@dataclass(frozen=True)
class UploadLimits:
    """What `PUT /api/v1/bundles/{digest}` and `PUT /api/v1/functions/{digest}` accept.

    A bundle may expand to `max_bundle_ratio` times its size (bundles that expand
    to under 1 MiB are not held to the ratio: tar pads even one small file to
    10 KiB), never to more than `max_bundle_bytes`, in at most `max_bundle_entries`
    files and folders. Each is read from `PLAIT_MAX_UPLOAD_BYTES`,
    `PLAIT_MAX_BUNDLE_BYTES`, `PLAIT_MAX_BUNDLE_RATIO` and `PLAIT_MAX_BUNDLE_ENTRIES`.
    """

    max_upload_bytes: int = 512 * 1024 * 1024
    max_bundle_bytes: int = 1024 * 1024 * 1024
    max_bundle_ratio: int = 100
    max_bundle_entries: int = 100_000

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> UploadLimits:
        values: dict[str, int] = {}
        for name in ("max_upload_bytes", "max_bundle_bytes", "max_bundle_ratio", "max_bundle_entries"):
            var = f"PLAIT_{name.upper()}"
            text = env.get(var) or None
            if text is None:
                continue
            try:
                values[name] = int(text)
            except ValueError:
                values[name] = 0
            if values[name] <= 0:
                raise ValueError(f"{var} must be a positive whole number, found {text!r}")
        return cls(**values)


@dataclass(frozen=True)
class NotifySettings:
    """Where the backend sends launch plan notifications (docs/notifications.md).

    Each channel has a sink when its variables are set, and goes to the `log`
    sink otherwise (the server log and `$PLAIT_HOME/notifications.log`), so a
    new server shows what it would have sent:

        email       PLAIT_SMTP_HOST, PLAIT_SMTP_PORT (25), PLAIT_SMTP_FROM,
                    PLAIT_SMTP_USER, PLAIT_SMTP_PASSWORD, PLAIT_SMTP_STARTTLS (0/1)
        slack       PLAIT_SLACK_WEBHOOK_URL (an incoming webhook)
        pager_duty  PLAIT_PAGERDUTY_ROUTING_KEY (the integration key of an Events v2
                    integration), PLAIT_PAGERDUTY_URL (default PagerDuty's enqueue URL)

    A message links to the execution: PLAIT_EXECUTION_URL is a template with
    `{id}`, `{project}` and `{domain}` (e.g. the lab's view), by default the API's
    `GET /api/v1/executions/{id}` on the server's URL. A failed send is tried
    again after PLAIT_NOTIFY_BACKOFF_S (2) seconds, doubling each time up to
    five minutes, PLAIT_NOTIFY_MAX_ATTEMPTS (8) times in all; the delivery thread
    looks for due messages every PLAIT_NOTIFY_POLL_S (1) seconds.
    """

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str | None = None
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    slack_webhook_url: str | None = None
    pagerduty_url: str = "https://events.pagerduty.com/v2/enqueue"
    pagerduty_routing_key: str | None = None
    execution_url: str | None = None
    backoff_s: float = 2.0
    max_attempts: int = 8
    poll_s: float = 1.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> NotifySettings:
        def text(var: str) -> str | None:
            return (env.get(var) or "").strip() or None

        def number(var: str, default: float, kind: type = float) -> Any:
            raw = text(var)
            if raw is None:
                return default
            try:
                value = kind(raw)
            except ValueError:
                value = -1
            if value <= 0:
                raise ValueError(f"{var} must be a positive number, found {raw!r}")
            return value

        starttls = (text("PLAIT_SMTP_STARTTLS") or "0").lower()
        if starttls not in ("0", "1", "true", "false", "yes", "no"):
            raise ValueError(f"PLAIT_SMTP_STARTTLS must be 0 or 1, found {starttls!r}")
        port = number("PLAIT_SMTP_PORT", 25, int)
        if port > 65535:
            raise ValueError(f"PLAIT_SMTP_PORT must be a port number (1-65535), found {port}")
        for var in ("PLAIT_SLACK_WEBHOOK_URL", "PLAIT_PAGERDUTY_URL"):
            url = text(var)
            if url is not None and not url.startswith(("http://", "https://")):
                raise ValueError(f"{var} must be an http:// or https:// URL, found {url!r}")
        return cls(
            smtp_host=text("PLAIT_SMTP_HOST"),
            smtp_port=port,
            smtp_from=text("PLAIT_SMTP_FROM"),
            smtp_user=text("PLAIT_SMTP_USER"),
            smtp_password=text("PLAIT_SMTP_PASSWORD"),
            smtp_starttls=starttls in ("1", "true", "yes"),
            slack_webhook_url=text("PLAIT_SLACK_WEBHOOK_URL"),
            pagerduty_url=text("PLAIT_PAGERDUTY_URL") or cls.pagerduty_url,
            pagerduty_routing_key=text("PLAIT_PAGERDUTY_ROUTING_KEY"),
            execution_url=text("PLAIT_EXECUTION_URL"),
            backoff_s=number("PLAIT_NOTIFY_BACKOFF_S", 2.0),
            max_attempts=number("PLAIT_NOTIFY_MAX_ATTEMPTS", 8, int),
            poll_s=number("PLAIT_NOTIFY_POLL_S", 1.0),
        )


@dataclass(frozen=True)
class Settings:
    """The backend's configuration; build it with `Settings.from_env()`.

    `dask_scheduler` None means an embedded `LocalCluster` (with TLS, its
    certificates under `home/tls`); the `dask_tls_*` files are the client's
    certificate for an external scheduler at a tls:// address.
    """

    home: Path
    database_url: str
    storage_url: str
    dask_scheduler: str | None = None
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    dask_tls_ca_file: str | None = None
    dask_tls_cert: str | None = None
    dask_tls_key: str | None = None
    upload_limits: UploadLimits = UploadLimits()
    max_queued: int = DEFAULT_MAX_QUEUED
    max_active_runs: int = DEFAULT_MAX_ACTIVE_RUNS
    cluster: ClusterFile | None = None  # the checked cluster file, if one was given
    notify: NotifySettings = NotifySettings()  # notification sinks (NotifySettings)

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
        max_queued = _positive("PLAIT_MAX_QUEUED", values.get("max_queued", DEFAULT_MAX_QUEUED))
        max_active_runs = _positive("PLAIT_MAX_ACTIVE_RUNS", values.get("max_active_runs", DEFAULT_MAX_ACTIVE_RUNS))
        tls = {name: str(values[name]) for name in _TLS_OPTIONS if values.get(name)}
        cluster = _cluster_file(values.get("cluster_file"), values.get("dask_scheduler"), tls)
        if cluster is None or cluster.embedded:
            _check_dask_tls(values.get("dask_scheduler"), tls)
        return cls(
            home=home,
            database_url=str(values.get("database_url") or f"sqlite:///{home / layout.DATABASE}"),
            storage_url=str(values.get("storage_url") or home / layout.DATA),
            dask_scheduler=values.get("dask_scheduler"),
            host=str(values.get("host") or DEFAULT_HOST),
            port=port,
            upload_limits=UploadLimits.from_env(env),
            max_queued=max_queued,
            max_active_runs=max_active_runs,
            cluster=cluster,
            notify=NotifySettings.from_env(env),
            **tls,
        )

    @property
    def embedded(self) -> bool:
        """Whether the executor runs its own cluster on this machine (no external scheduler,
        no Kubernetes; on `kind: hosts` its workers join from other hosts)."""
        return self.dask_scheduler is None and (self.cluster is None or self.cluster.embedded)

    def dask_tls(self, *, create: bool = False) -> TlsFiles | None:
        """The TLS files a Dask client of this server's cluster presents: the embedded
        cluster's (made under `home/tls` with `create`), an external tls:// scheduler's
        client certificate, or None for a plain tcp:// scheduler."""
        from .security import TlsFiles, cluster_tls, ensure_cluster_tls

        if self.embedded:
            return ensure_cluster_tls(self.home) if create else cluster_tls(self.home)
        if self.dask_tls_ca_file and self.dask_tls_cert and self.dask_tls_key:
            for name, option in _TLS_OPTIONS.items():
                if not Path(getattr(self, name)).is_file():
                    raise ValueError(f"{option} ({_ENV[name]}) names {getattr(self, name)}, "
                                     "which is not a readable file; give the path of the PEM file")
            return TlsFiles(Path(self.dask_tls_ca_file), Path(self.dask_tls_cert), Path(self.dask_tls_key))
        return None

    def dask_security(self, *, create: bool = False) -> Any:
        """The `distributed.security.Security` of the executor's client, or None (tcp://)."""
        tls = self.dask_tls(create=create)
        if tls is None:
            return None
        return tls.security(role="all" if self.embedded else "client")

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


def _cluster_file(path: str | None, scheduler: str | None, tls: dict[str, str]) -> ClusterFile | None:
    """The cluster file at `path`, checked (a ClusterFileError, a ValueError, names what is wrong),
    and whether the other settings fit it."""
    if not path:
        return None
    from .compute import load

    cluster = load(path)
    if scheduler is not None:
        raise ValueError(
            f"--cluster {path} declares the compute and --dask-scheduler ({_ENV['dask_scheduler']}) "
            f"names a scheduler to use instead: give one of them")
    if cluster.kind == "kubernetes" and len(tls) < len(_TLS_OPTIONS):
        assert cluster.kubernetes is not None
        given = [_TLS_OPTIONS[name] for name in _TLS_OPTIONS if name in tls]
        raise ValueError(
            f"--cluster {path} runs Dask on Kubernetes, whose scheduler speaks TLS only: give "
            f"{', '.join(_TLS_OPTIONS.values())} (or {', '.join(_ENV[n] for n in _TLS_OPTIONS)}), the "
            f"files of the secret {cluster.kubernetes.tls_secret} (the Deployment of `plait cluster "
            f"manifests` mounts it and sets them); found {', '.join(given) or 'none of them'}")
    return cluster


def _check_dask_tls(scheduler: str | None, tls: dict[str, str]) -> None:
    """A tls:// scheduler needs all three client files; the files need a tls:// scheduler."""
    given = [_TLS_OPTIONS[name] for name in _TLS_OPTIONS if name in tls]
    scheme = scheduler.split("://", 1)[0].lower() if scheduler and "://" in scheduler else "tcp"
    every = ", ".join(_TLS_OPTIONS.values())
    variables = ", ".join(_ENV[name] for name in _TLS_OPTIONS)
    verb = ("is", "was") if len(given) == 1 else ("are", "were")
    if scheduler is None and given:
        raise ValueError(
            f"{', '.join(given)} {verb[0]} for an external Dask scheduler at a tls:// address "
            "(--dask-scheduler); the embedded cluster makes its own certificates in "
            "$PLAIT_HOME/tls: leave them out, or give --dask-scheduler tls://HOST:PORT"
        )
    if scheduler is not None and scheme == "tls" and len(given) < len(_TLS_OPTIONS):
        raise ValueError(
            f"the Dask scheduler {scheduler} speaks TLS and needs this client's certificate: "
            f"give {every} (or {variables}); found {', '.join(given) or 'none of them'}"
        )
    if scheduler is not None and scheme != "tls" and given:
        raise ValueError(
            f"{', '.join(given)} {verb[1]} given but the Dask scheduler address {scheduler} is "
            f"{scheme}://, which does not use them: write it as tls://..., or leave them out"
        )


def dask_security(home: str | os.PathLike[str] | None, *, create: bool = False) -> Any:
    """The `distributed.security.Security` that a Dask client needs to connect to the embedded
    cluster of the server whose home is `home` (default `$PLAIT_HOME`):

        from distributed import Client
        client = Client(address, security=dask_security(home))

    The files are made by the server's first start (or here, with `create`)."""
    from .security import cluster_tls, ensure_cluster_tls

    home = Path(home) if home is not None else layout.plait_home()
    return (ensure_cluster_tls(home) if create else cluster_tls(home)).security()


def _positive(variable: str, value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number <= 0:
        raise ValueError(f"{variable} must be a positive whole number, found {value!r}")
    return number


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


# --- the token -----------------------------------------------------------------


def ensure_token(home: str | os.PathLike[str]) -> str:
    """The backend's bearer token, created with mode 0600 on first start.

    A token file readable by others has its mode narrowed to 0600; an empty
    one is replaced. Two servers starting at once end up with the same token.
    """
    home = layout.ensure_private(home)
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
