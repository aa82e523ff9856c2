"""`plait server`: the API under uvicorn, with an executor on Dask.

    plait server                         # 127.0.0.1:8742, SQLite and data under ~/.plait,
                                         # an embedded LocalCluster
    plait server --port 0 --dask-scheduler tcp://10.0.0.5:8786
    plait server --cluster cluster.yaml  # the compute of a cluster file (docs/compute.md): its
                                         # Dask cluster on Kubernetes, or its pools on this machine
    plait server --dask-scheduler tls://10.0.0.5:8786 --dask-tls-ca-file ca.pem \
        --dask-tls-cert client.pem --dask-tls-key client-key.pem
    plait server openapi -o openapi.json # the OpenAPI document, without starting anything

On start it sets the umask to 0o077 and makes `$PLAIT_HOME` private (warning
about, and narrowing, what it finds open to others), makes sure the token
exists, migrates the database, starts the executor (the embedded cluster with
TLS, its certificates in `$PLAIT_HOME/tls`), binds the socket, then records
`{url, pid}` in `$PLAIT_HOME/server.json` for clients. SIGTERM or SIGINT stops uvicorn, then
the executor and any cluster it started, and removes that file.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import sys
from pathlib import Path
from types import FrameType
from typing import Any


class _Stop(BaseException):
    """A stop signal arrived while uvicorn was not yet (or no longer) handling signals."""


DEFAULT_API_WORKERS = 2


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signum)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 picks a free port.

    Its connections send at once (TCP_NODELAY): without it a response written in
    two pieces (headers, then body) waits for the client's delayed ACK, 40 ms on
    Linux, on every request of a kept-alive connection. asyncio sets the option
    on accepted sockets only when the listener's protocol is IPPROTO_TCP (a plain
    `socket()` says 0), and Linux copies it from the listener to what it accepts:
    both are set here.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SystemExit(f"plait server: cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    return sock  # not inheritable (PEP 446): Dask's worker processes do not hold it


def serve(
    *,
    host: str | None = None,
    port: int | None = None,
    database_url: str | None = None,
    storage_url: str | None = None,
    dask_scheduler: str | None = None,
    dask_tls_ca_file: str | None = None,
    dask_tls_cert: str | None = None,
    dask_tls_key: str | None = None,
    home: str | None = None,
    api_workers: int | None = None,
    cluster: str | None = None,
    echo: Any = print,
) -> None:
    """Run the server until SIGTERM or SIGINT; everything it started is stopped on the way out."""
    import uvicorn
    from plait.model.home import remove_endpoint, write_endpoint

    from .api import create_app
    from .config import Settings, ensure_token
    from .execution.executor import Executor
    from .secrets import SecretKeyError
    from .secrets import use_home as use_secrets_home
    from .storage import ObjectStore
    from .store import Database, queries

    os.umask(0o077)  # what the server and its workers write is private to its user
    try:
        settings = Settings.from_env(
            home=home, host=host, port=port, database_url=database_url, storage_url=storage_url,
            dask_scheduler=dask_scheduler, dask_tls_ca_file=dask_tls_ca_file,
            dask_tls_cert=dask_tls_cert, dask_tls_key=dask_tls_key, cluster_file=cluster,
        )
        compute = cluster_options(settings.cluster, storage_url=str(settings.storage_url))
    except ValueError as exc:
        raise SystemExit(f"plait server: {exc}") from None
    make_home_private(settings.home, echo)
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    db = executor = sock = notifier = workspaces = apps = None
    try:
        token = ensure_token(settings.home)
        try:
            use_secrets_home(settings.home)  # the secret store's key: made at the first start
        except SecretKeyError as exc:
            raise SystemExit(f"plait server: {exc}") from None
        db = Database(settings.database_url)
        db.migrate()
        with db.session() as s:
            queries.ensure_project(s, "default")
        storage = ObjectStore(settings.storage_url)
        sock = bind(settings.host, settings.port)  # before the cluster: a taken port fails fast
        bound_port = sock.getsockname()[1]
        try:
            security = settings.dask_security(create=True)
        except ValueError as exc:
            raise SystemExit(f"plait server: {exc}") from None
        executor = Executor(db, storage, dask_address=settings.dask_scheduler, security=security,
                            max_active_runs=settings.max_active_runs, home=settings.home, **compute)
        executor.start()
        url = f"http://{'[' + settings.host + ']' if ':' in settings.host else settings.host}:{bound_port}"
        from .notify import DeliveryService

        notifier = DeliveryService.from_settings(settings, db, server_url=url).start()  # sends what ends
        workspaces = start_workspaces(settings, db, storage, server_url=url, token=token)
        from .apps.manager import AppManager

        apps = AppManager(db, storage, settings.home, server_url=url, token=token).start()  # serves /apps/
        workers = api_workers if api_workers is not None else DEFAULT_API_WORKERS
        if workers > 1:
            # API processes serve requests from the database; this one runs the executor.
            from .execution.proxy import write_info

            write_info(settings.home, executor.info())
            executor.on_info = lambda info: write_info(settings.home, info)
            os.environ.update({"PLAIT_SERVER_PID": str(os.getpid()),  # they exit with this process
                               "PLAIT_HOME": str(settings.home), "PLAIT_DATABASE_URL": settings.database_url,
                               "PLAIT_STORAGE_URL": str(settings.storage_url)})
            os.environ.update({var: str(getattr(settings, name)) for name, var in DASK_SETTINGS.items()
                               if getattr(settings, name)})  # the dashboard proxy's certificates
            if settings.cluster is not None:  # which the certificates are for
                os.environ["PLAIT_CLUSTER_FILE"] = settings.cluster.source
            config = uvicorn.Config("plait.backend.execution.proxy:app_from_env", factory=True, workers=workers,
                                    log_level="warning", access_log=False, lifespan="off",
                                    timeout_graceful_shutdown=5)
            from uvicorn.supervisors import Multiprocess

            runner: Any = Multiprocess(config, sockets=[sock])
        else:
            app = create_app(settings, db, storage, executor, token=token)
            config = uvicorn.Config(app, log_level="info", access_log=False, lifespan="off",
                                    timeout_graceful_shutdown=5)
            runner = uvicorn.Server(config)
        write_endpoint(settings.home, url)
        echo(f"plait server: {url} ({workers} API process{'es' if workers > 1 else ''})")
        echo(f"  token: {settings.token_file} (send it as `Authorization: Bearer <token>`)")
        echo(f"  database: {db!r}; storage: {storage.url}")
        if settings.cluster is not None and settings.cluster.kind == "hosts":
            echo(f"  scheduler: {executor.scheduler_address}; on each host: plait worker --cluster FILE "
                 "--pool NAME --scheduler tls://<this host>:<port> (docs/compute.md)")
        sys.stdout.flush()
        if workers > 1:
            runner.run()
        else:
            runner.run(sockets=[sock])
    except _Stop:
        pass
    finally:
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)  # a second signal must not cut the cleanup short
        try:
            remove_endpoint(settings.home)
            if sock is not None:
                sock.close()
            if notifier is not None:
                notifier.stop()
            if workspaces is not None:
                workspaces.stop()  # saves and stops them; they start again with the server
            if apps is not None:
                apps.stop()  # their replicas; apps keep their wishes and start again with the server
            if executor is not None:
                executor.stop()
            if db is not None:
                db.dispose()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    echo("plait server: stopped")


def start_workspaces(settings: Any, db: Any, storage: Any, *, server_url: str, token: str) -> Any:
    """The workspace manager (plait.workspaces) on its thread of this process: it starts, watches
    and stops the code-servers that users' wishes in the table ask for."""
    from plait.workspaces.manager import WorkspaceManager

    from .compute.workspaces import prepare

    def prepare_record(record: Any) -> dict[str, Any]:
        return prepare(record.spec, project=record.project, domain=record.domain, db=db, home=settings.home,
                       cluster=settings.cluster)

    return WorkspaceManager(db, storage, settings.home, server_url=server_url, token=token,
                            prepare=prepare_record).start()


def cluster_options(cluster: Any, *, storage_url: str | None = None) -> dict[str, Any]:
    """The Executor's options for a cluster file (`--cluster`; none without one: the embedded
    cluster runs `compute.default_local()`): for kind kubernetes the file itself, the executor
    makes its Dask cluster there; for kind local its pools, whose workers join the embedded
    scheduler (compute/pools.py). A local pool whose environment is an image name is refused:
    a local pool runs a virtual environment built from ImageSpec fields. For kind hosts its
    pools too, with the embedded scheduler listening where the file's `scheduler:` says; the
    pools' workers are `plait worker` processes on other hosts, which the server never starts,
    and which reach the object store (`storage_url`) themselves: a folder or memory of this
    machine is refused (ValueError)."""
    if cluster is None:
        return {}
    if cluster.kind == "kubernetes":
        return {"kubernetes": cluster}
    if cluster.kind == "hosts":
        protocol = storage_url.split("://", 1)[0] if storage_url and "://" in storage_url else "file"
        if protocol in ("file", "local", "memory"):
            raise ValueError(
                f"{cluster.source} is of kind hosts, whose workers run on other hosts and share "
                f"nothing with this one but the network, and the object store is {storage_url}, "
                "which only this machine has: give --storage-url (PLAIT_STORAGE_URL) an object "
                "store every host reaches, such as s3://bucket/plait")
        listen = cluster.scheduler
        return {"pools": cluster,
                "cluster_options": {"scheduler_kwargs": {"host": listen.host, "port": listen.port}}}
    from .compute.pools import check_local

    check_local(cluster)
    return {"pools": cluster}


# What API worker processes need to know of the Dask cluster besides executor.json.
DASK_SETTINGS = {"dask_scheduler": "PLAIT_DASK_SCHEDULER", "dask_tls_ca_file": "PLAIT_DASK_TLS_CA_FILE",
                 "dask_tls_cert": "PLAIT_DASK_TLS_CERT", "dask_tls_key": "PLAIT_DASK_TLS_KEY"}


def make_home_private(home: Path, echo: Any = print) -> None:
    """Create the home 0700, or warn about what of it group or others may read, and narrow
    what is this user's (its entries; what is deeper is out of their reach then)."""
    from plait.model import home as layout

    found = layout.open_paths(home)
    layout.ensure_private(home)
    for item in found:
        what = "folder" if stat.S_ISDIR(item.mode) else "file"
        head = (f"plait server: warning: the {what} {item.path} is open to group or others "
                f"(mode {stat.S_IMODE(item.mode):04o}); plait's state (token, database, Dask "
                "certificates, logs) must be private to its user")
        if layout.narrow(item):
            echo(f"{head}: narrowed it to {item.private_mode:04o}, as `chmod go-rwx {item.path}` "
                 f"would (if others may have read the token meanwhile, delete {home / layout.TOKEN} "
                 "and restart for a new one)")
        else:
            echo(f"{head}, and it belongs to uid {item.uid}: ask its owner to run "
                 f"`chmod go-rwx {item.path}`, or choose another --home")


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the API, built without a database, store or cluster."""
    from .api import create_app

    # The document needs none of the parts: routes only run when requests come.
    app = create_app(None, None, None, None, token="unused-for-the-document")  # type: ignore[arg-type]
    return app.openapi()


def write_openapi(path: str | os.PathLike[str]) -> Path:
    """Write the OpenAPI document as JSON (sorted keys, so diffs stay small)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n")
    return target
