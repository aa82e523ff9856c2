"""`plait.Remote`: register code on a plait backend and run it there, over HTTP.

    remote = plait.Remote()                       # finds (or starts) the local server
    remote.register("./workflows")
    run = remote.execute(my_workflow, {"a": 1}, wait=True)
    run.outputs                                   # {"o0": 42}

Where the server is: the `endpoint` and `token` arguments, else `PLAIT_ENDPOINT`
and `PLAIT_TOKEN`, else `$PLAIT_HOME/server.json` and `$PLAIT_HOME/token`, which
a running server writes. When none names a live server, `Remote` starts one
(`python -m plait server --port 0`, detached, logging to
`$PLAIT_HOME/logs/server.log`). httpx is imported on first use, so
`import plait` stays light; the backend is never imported here.

Inputs travel as literals (`typesys.to_literal`); outputs come back as value
refs: literals, or pickles in the object store that are downloaded and
unpickled here (the client trusts what its own tasks produced).

The package, by module:
- `discovery`: find the server, or start one;
- `client`: `Remote`, the HTTP client;
- `flyte`: `UnionRemote` / `FlyteRemote` and `Config`, Remote under Union's and flytekit's names;
- `artifacts`: its artifact catalog calls (`get_artifact`, `list_artifacts`, ...);
- `views`: `RemoteEntity`, `RemoteNode`, `RemoteExecution`, `EntityId`;
- `errors`: what can go wrong, split by blame;
- `bundle`: code bundles and `Registration`.
"""

from __future__ import annotations

from .client import Remote
from .discovery import API, START_TIMEOUT_S, Connection, discover, running_server, start_server
from .errors import (
    AuthenticationError,
    BackendBusy,
    ExecutionFailed,
    RemoteUserError,
    ServerError,
    WaitTimeout,
)
from .flyte import Config, FlyteRemote, UnionRemote
from .views import EntityId, RemoteEntity, RemoteExecution, RemoteNode, error_text

__all__ = [
    "API",
    "START_TIMEOUT_S",
    "AuthenticationError",
    "BackendBusy",
    "Config",
    "Connection",
    "EntityId",
    "ExecutionFailed",
    "FlyteRemote",
    "Remote",
    "RemoteEntity",
    "RemoteExecution",
    "RemoteNode",
    "RemoteUserError",
    "ServerError",
    "UnionRemote",
    "WaitTimeout",
    "discover",
    "error_text",
    "running_server",
    "start_server",
]
