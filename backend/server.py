"""`plait server`: the API under uvicorn, with an executor on Dask.

    plait server                         # 127.0.0.1:8742, SQLite and data under ~/.plait,
                                         # an embedded LocalCluster
    plait server --port 0 --dask-scheduler tcp://10.0.0.5:8786
    plait server openapi -o openapi.json # the OpenAPI document, without starting anything

On start it makes sure the token exists (mode 0600), migrates the database,
starts the executor, binds the socket, then records `{url, pid}` in
`$PLAIT_HOME/server.json` for clients. SIGTERM or SIGINT stops uvicorn, then
the executor and any cluster it started, and removes that file.
"""

from __future__ import annotations

import json
import os
import signal
import socket
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
    """A listening socket; port 0 picks a free port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
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
    home: str | None = None,
    api_workers: int | None = None,
    echo: Any = print,
) -> None:
    """Run the server until SIGTERM or SIGINT; everything it started is stopped on the way out."""
    import uvicorn
    from plait.model.home import remove_endpoint, write_endpoint

    from .api import create_app
    from .config import Settings, ensure_token
    from .execution.executor import Executor
    from .storage import ObjectStore
    from .store import Database, queries

    settings = Settings.from_env(
        home=home, host=host, port=port, database_url=database_url, storage_url=storage_url,
        dask_scheduler=dask_scheduler,
    )
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    db = executor = sock = None
    try:
        token = ensure_token(settings.home)
        db = Database(settings.database_url)
        db.migrate()
        with db.session() as s:
            queries.ensure_project(s, "default")
        storage = ObjectStore(settings.storage_url)
        sock = bind(settings.host, settings.port)  # before the cluster: a taken port fails fast
        bound_port = sock.getsockname()[1]
        executor = Executor(db, storage, dask_address=settings.dask_scheduler)
        executor.start()
        url = f"http://{'[' + settings.host + ']' if ':' in settings.host else settings.host}:{bound_port}"
        workers = api_workers if api_workers is not None else DEFAULT_API_WORKERS
        if workers > 1:
            # API processes serve requests from the database; this one runs the executor.
            from .execution.proxy import write_info

            write_info(settings.home, executor.info())
            executor.on_info = lambda info: write_info(settings.home, info)
            os.environ.update({"PLAIT_HOME": str(settings.home), "PLAIT_DATABASE_URL": settings.database_url,
                               "PLAIT_STORAGE_URL": str(settings.storage_url)})
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
            if executor is not None:
                executor.stop()
            if db is not None:
                db.dispose()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    echo("plait server: stopped")


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
