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
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..errors import InputError, PlaitError, PlatformError, TypeMismatchError, UserError
from ..model import home as layout
from ..model.vocab import ENDED, KIND_PATHS, NODE_ENDED, stored_kind

API = "/api/v1"
START_TIMEOUT_S = 60.0


# ------------------------------------------------------------------ errors


class AuthenticationError(PlaitError):
    """The server refused the token (HTTP 401)."""


class RemoteUserError(UserError):
    """The server refused a request for a reason the user can fix (404, 409, 422)."""

    def __init__(self, message: str, *, status: int, detail: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


class ServerError(PlatformError):
    """The server failed (5xx) or could not be reached."""


class ExecutionFailed(PlaitError):
    """Outputs were asked of an execution that did not succeed."""

    def __init__(self, message: str, *, execution_id: str, phase: str, error: Any = None) -> None:
        super().__init__(message)
        self.execution_id = execution_id
        self.phase = phase
        self.error = error


class WaitTimeout(PlaitError, TimeoutError):
    """`RemoteExecution.wait(timeout=...)` ran out before the execution ended."""


# ------------------------------------------------------------------ discovery


@dataclass(frozen=True)
class Connection:
    """Where the server is and how we know: the sources name an argument, a variable or a file."""

    endpoint: str | None
    token: str | None
    endpoint_source: str
    token_source: str
    token_file: Path


def discover(endpoint: str | None = None, token: str | None = None,
             env: Mapping[str, str] | None = None) -> Connection:
    """Arguments, then `PLAIT_ENDPOINT`/`PLAIT_TOKEN`, then `$PLAIT_HOME/server.json` and `token`."""
    env = os.environ if env is None else env
    home = layout.plait_home(env)
    token_file = home / layout.TOKEN
    if endpoint:
        endpoint_source = "the endpoint argument"
    elif env.get("PLAIT_ENDPOINT"):
        endpoint, endpoint_source = env["PLAIT_ENDPOINT"], "PLAIT_ENDPOINT"
    else:
        endpoint = running_server(home)
        endpoint_source = str(layout.endpoint_file(home)) if endpoint else "nothing (no server is running)"
    if token:
        token_source = "the token argument"
    elif env.get("PLAIT_TOKEN"):
        token, token_source = env["PLAIT_TOKEN"], "PLAIT_TOKEN"
    else:
        token = layout.read_token(home)
        token_source = str(token_file) if token else f"nothing ({token_file} does not exist)"
    return Connection(endpoint.rstrip("/") if endpoint else None, token, endpoint_source,
                      token_source, token_file)


def running_server(home: Path) -> str | None:
    """The URL in `home/server.json` if the process that wrote it is alive."""
    endpoint = layout.read_endpoint(home)
    return endpoint.url if endpoint else None


def start_server(home: Path | None = None, timeout: float = START_TIMEOUT_S) -> str:
    """Start `plait server` on a free port in its own session; return its URL once it answers."""
    home = home or layout.plait_home()
    home.mkdir(parents=True, exist_ok=True)
    log_path = home / layout.LOGS / "server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with _start_lock(home):
        url = running_server(home)
        if url is not None:  # another client started one while we waited
            return url
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "plait", "server", "--port", "0"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, env={**os.environ, "PLAIT_HOME": str(home)},
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = proc.poll()
            if code is not None:
                raise ServerError(
                    f"the plait server exited (code {code}) before it was ready; its log is "
                    f"{log_path}:\n{_tail(log_path)}"
                )
            url = _url_written_by(home, proc.pid)
            if url is not None and _answers(url):
                return url
            time.sleep(0.2)
    raise ServerError(
        f"the plait server (pid {proc.pid}) did not answer within {timeout:.0f} s; see its log "
        f"at {log_path}, or start one yourself with `plait server` and set PLAIT_ENDPOINT"
    )


@contextlib.contextmanager
def _start_lock(home: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock, a rare double start
        yield
        return
    with open(home / layout.SERVER_LOCK, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _url_written_by(home: Path, pid: int) -> str | None:
    try:
        data = json.loads(layout.endpoint_file(home).read_text())
    except (OSError, ValueError):
        return None
    return str(data["url"]) if isinstance(data, dict) and data.get("pid") == pid and "url" in data else None


def _answers(url: str) -> bool:
    """Any HTTP answer from the health route (even 401) means the server is up."""
    httpx = _httpx()
    try:
        httpx.get(f"{url.rstrip('/')}{API}/health", timeout=2.0)
    except httpx.TransportError:
        return False
    return True


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _httpx() -> Any:
    try:
        import httpx
    except ImportError:  # pragma: no cover - httpx ships with plait's remote extra
        raise PlaitError("plait.Remote needs httpx; install it with `pip install httpx`") from None
    return httpx


# ------------------------------------------------------------------ records


@dataclass(frozen=True)
class EntityId:
    kind: str
    project: str
    domain: str
    name: str
    version: str

    def __str__(self) -> str:
        return f"{self.kind} {self.project}/{self.domain}/{self.name}@{self.version}"


@dataclass(frozen=True)
class RemoteEntity:
    """A registered task, workflow or launch plan, as the server describes it."""

    kind: str
    project: str
    domain: str
    name: str
    version: str
    spec: dict[str, Any]
    record: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_record(cls, kind: str, record: dict[str, Any], project: str, domain: str) -> RemoteEntity:
        found = record.get("spec")
        spec: dict[str, Any] = found if isinstance(found, dict) else record
        return cls(
            kind=stored_kind(str(record.get("kind") or spec.get("kind") or kind)),
            project=str(record.get("project") or project),
            domain=str(record.get("domain") or domain),
            name=str(record.get("name") or spec.get("name")),
            version=str(record.get("version") or spec.get("version")),
            spec=spec,
            record=record,
        )

    @property
    def interface(self) -> dict[str, Any]:
        """The interface spec: `{"inputs": {name: {"type", "required", "default"}}, "outputs": {...}}`."""
        return dict(self.spec.get("interface") or {"inputs": {}, "outputs": {}})

    @property
    def id(self) -> EntityId:
        return EntityId(self.kind, self.project, self.domain, self.name, self.version)


@dataclass(frozen=True)
class RemoteNode:
    """One node execution: its path (`n0`, `n2-n1`, `n3-7`), phase and attempts."""

    path: str
    entity: str
    kind: str
    phase: str
    attempts: tuple[dict[str, Any], ...]
    error: Any
    record: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> RemoteNode:
        return cls(
            path=str(record.get("path", "")),
            entity=str(record.get("entity_name") or record.get("entity") or ""),
            kind=str(record.get("kind") or ""),
            phase=str(record.get("phase") or "QUEUED"),
            attempts=tuple(record.get("attempts") or ()),
            error=record.get("error"),
            record=record,
        )


def _items(data: Any, *keys: str) -> list[dict[str, Any]]:
    """A list from a response that is a list, or an object holding one under `keys`."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in (*keys, "items", "results"):
            if isinstance(data.get(key), list):
                return list(data[key])
    return []


def error_text(error: Any) -> str:
    """One line for an execution's or node's error record."""
    if not error:
        return ""
    if isinstance(error, str):
        return error
    if isinstance(error, dict):
        message = error.get("message") or error.get("detail") or json.dumps(error, default=str)
        kind = error.get("type")
        where = error.get("node") or error.get("node_path")
        text = f"{kind}: {message}" if kind and not str(message).startswith(f"{kind}:") else str(message)
        return f"{text} (node {where})" if where else text
    return str(error)


# ------------------------------------------------------------------ the client


class Remote:
    """A plait backend: register entities, launch executions, follow them."""

    def __init__(
        self,
        endpoint: str | None = None,
        project: str = "default",
        domain: str = "development",
        token: str | None = None,
        *,
        transport: Any = None,
        autostart: bool = True,
        timeout: float = 30.0,
    ) -> None:
        self.project = project
        self.domain = domain
        self._explicit = (endpoint, token)
        self._transport = transport
        self._autostart = autostart
        self._timeout = timeout
        self._conn: Connection | None = None
        self._client: Any = None
        self._registered: dict[int, tuple[Any, str]] = {}  # id(entity) -> (entity, version)
        self._local: dict[tuple[str, str], Any] = {}  # (name, version) -> local entity

    def __repr__(self) -> str:
        where = self._conn.endpoint if self._conn else "not connected"
        return f"Remote({where}, project={self.project!r}, domain={self.domain!r})"

    # --- connection --------------------------------------------------------

    @property
    def connection(self) -> Connection:
        if self._conn is None:
            conn = discover(*self._explicit)
            if conn.endpoint is None:
                if not self._autostart:
                    raise ServerError(
                        "no plait server is running: start one with `plait server`, or set "
                        "PLAIT_ENDPOINT (and PLAIT_TOKEN) to reach another"
                    )
                url = start_server(conn.token_file.parent)
                conn = discover(url, self._explicit[1])
                conn = Connection(conn.endpoint, conn.token, "a server started for this client",
                                  conn.token_source, conn.token_file)
            self._conn = conn
        return self._conn

    @property
    def endpoint(self) -> str:
        return str(self.connection.endpoint)

    def _http(self) -> Any:
        if self._client is None:
            httpx = _httpx()
            conn = self.connection
            from .. import __version__

            headers = {"User-Agent": f"plait/{__version__}"}
            if conn.token:
                headers["Authorization"] = f"Bearer {conn.token}"
            self._client = httpx.Client(
                base_url=str(conn.endpoint), headers=headers, transport=self._transport,
                timeout=httpx.Timeout(self._timeout, connect=5.0),
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> Remote:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                json_body: Any = None, content: bytes | None = None,
                headers: dict[str, str] | None = None) -> Any:
        """One HTTP call; errors become plait errors that say what to do."""
        httpx = _httpx()
        client = self._http()
        params = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = client.request(method, path, params=params, json=json_body,
                                      content=content, headers=headers)
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None
        self._check(response)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ServerError(f"{method} {path}: the server answered with something other than JSON") from None

    def _unreachable(self, exc: Exception) -> ServerError:
        conn = self.connection
        return ServerError(
            f"cannot reach the plait server at {conn.endpoint} (from {conn.endpoint_source}): "
            f"{type(exc).__name__}: {exc}. Is it running? Start one with `plait server`, or "
            "set PLAIT_ENDPOINT to the right address"
        )

    def _check(self, response: Any) -> None:
        status = response.status_code
        if status < 400:
            return
        if not response.is_closed:
            response.read()
        message = _server_message(response)
        request = f"{response.request.method} {response.request.url.path}"
        if status == 401:
            conn = self.connection
            raise AuthenticationError(
                f"the plait server at {conn.endpoint} refused the token (from {conn.token_source}). "
                f"The server's token is in {conn.token_file} on the machine it runs on: pass it "
                "as Remote(token=...) or set PLAIT_TOKEN to its contents"
            )
        if 400 <= status < 500:
            raise RemoteUserError(message, status=status, detail=message)
        raise ServerError(f"the plait server failed on {request} (HTTP {status}): {message}")

    def health(self) -> dict[str, Any]:
        return dict(self._json("GET", f"{API}/health") or {})

    # --- registration ------------------------------------------------------

    def register(self, *items: Any, version: str | None = None) -> list[EntityId]:
        """Register .py files, folders, or entity objects (with everything they use).

        Without `version`, the registration's content hash is its version, so
        registering unchanged code again changes nothing.
        """
        from .bundle import collect

        return self.register_collected(collect(items), version)

    def register_collected(self, registration: Any, version: str | None = None) -> list[EntityId]:
        """Register what `plait.remote.bundle.collect` gathered (uploads its bundle and functions first)."""
        ids, _ = self._register(registration, version)
        return ids

    def _register(self, reg: Any, version: str | None) -> tuple[list[EntityId], str]:
        if reg.bundle is not None:
            self.request("PUT", f"{API}/bundles/{reg.digest}", content=reg.bundle,
                         params={"python_version": reg.python_version},
                         headers={"Content-Type": "application/gzip"})
        for digest, blob in sorted(reg.functions.items()):
            self.request("PUT", f"{API}/functions/{digest}", content=blob,
                         headers={"Content-Type": "application/octet-stream"})
        payload = reg.payload(self.project, self.domain, version)
        answer = self._json("POST", f"{API}/register", json_body=payload)
        used = str(payload["version"])
        for entity in reg.entities.values():
            self._registered[id(entity)] = (entity, used)
            self._local[(entity.name, used)] = entity
        ids = [self._entity_id(r) for r in _items(answer, "entities", "registered")]
        if not ids:
            ids = [EntityId(stored_kind(s["kind"]), self.project, self.domain, s["name"], s["version"])
                   for s in payload["specs"]]
        return ids, used

    def _entity_id(self, record: dict[str, Any]) -> EntityId:
        return EntityId(
            stored_kind(str(record.get("kind", ""))), str(record.get("project") or self.project),
            str(record.get("domain") or self.domain), str(record.get("name")), str(record.get("version")),
        )

    def _ensure_registered(self, entity: Any) -> str:
        hit = self._registered.get(id(entity))
        if hit is not None and hit[0] is entity:
            return hit[1]
        from .bundle import collect

        _, version = self._register(collect([entity]), None)
        return version

    # --- entities ------------------------------------------------------------

    def fetch_task(self, name: str, version: str | None = None) -> RemoteEntity:
        return self.fetch("task", name, version)

    def fetch_workflow(self, name: str, version: str | None = None) -> RemoteEntity:
        return self.fetch("workflow", name, version)

    def fetch_launch_plan(self, name: str, version: str | None = None) -> RemoteEntity:
        return self.fetch("launch_plan", name, version)

    def fetch(self, kind: str, name: str, version: str | None = None) -> RemoteEntity:
        """The registered entity `name` of `kind` (task, workflow, launch_plan); latest by default."""
        record = self._json("GET", f"{API}/{_kind_path(kind)}/{quote(name, safe='')}",
                            params={"version": version, **self._scope()})
        return RemoteEntity.from_record(kind, record, self.project, self.domain)

    def list_entities(self, kind: str, *, name_contains: str | None = None, archived: bool | None = None,
                      limit: int = 100, offset: int = 0) -> list[RemoteEntity]:
        data = self._json("GET", f"{API}/{_kind_path(kind)}", params={
            **self._scope(), "name_contains": name_contains,
            "archived": None if archived is None else str(archived).lower(), "limit": limit, "offset": offset,
        })
        return [RemoteEntity.from_record(kind, r, self.project, self.domain)
                for r in _items(data, _kind_path(kind), "entities")]

    def list_versions(self, kind: str, name: str, *, limit: int = 100) -> list[RemoteEntity]:
        data = self._json("GET", f"{API}/{_kind_path(kind)}/{quote(name, safe='')}/versions",
                          params={**self._scope(), "limit": limit})
        return [RemoteEntity.from_record(kind, r, self.project, self.domain)
                for r in _items(data, "versions", _kind_path(kind))]

    def _scope(self) -> dict[str, str]:
        return {"project": self.project, "domain": self.domain}

    # --- executions ------------------------------------------------------------

    def execute(
        self,
        entity: Any,
        inputs: dict[str, Any] | None = None,
        *,
        wait: bool = False,
        name: str | None = None,
        overwrite_cache: bool = False,
        max_parallelism: int | None = None,
        envs: dict[str, str] | None = None,
        labels: Any = None,
        annotations: Any = None,
        raw_output_prefix: str | None = None,
        interruptible: bool | None = None,
        timeout: float | None = None,
    ) -> RemoteExecution:
        """Launch `entity` (a local task/workflow/launch plan, registered first if needed, or a
        RemoteEntity) with `inputs`; `wait=True` waits up to `timeout` seconds for the end."""
        from ..sdk.entity import Entity

        if isinstance(entity, RemoteEntity):
            kind, ent_name, version = entity.kind, entity.name, entity.version
            local = self._local.get((entity.name, entity.version))
            literals = _literals(local, inputs or {}) if local else _remote_literals(entity, inputs or {})
        elif isinstance(entity, Entity):
            literals = _literals(entity, inputs or {})
            kind, ent_name, version = stored_kind(entity.kind), entity.name, self._ensure_registered(entity)
            local = entity
        else:
            raise UserError(
                f"execute expects a task, workflow or launch plan (local, or fetched with "
                f"fetch_task/fetch_workflow/fetch_launch_plan), got {type(entity).__name__}"
            )
        # Only what the caller set: the rest comes from the launch plan or the server.
        settings = {
            "name": name,
            "overwrite_cache": overwrite_cache or None,
            "max_parallelism": max_parallelism,
            "envs": dict(envs) if envs else None,
            "labels": _values(labels),
            "annotations": _values(annotations),
            "raw_output_prefix": raw_output_prefix,
            "interruptible": interruptible,
        }
        body = {
            "project": self.project, "domain": self.domain, "kind": kind, "name": ent_name,
            "version": version, "inputs": literals,
            "settings": {k: v for k, v in settings.items() if v is not None},
        }
        record = self._json("POST", f"{API}/executions", json_body=body)
        run = RemoteExecution(self, record, local)
        return run.wait(timeout=timeout) if wait else run

    def fetch_execution(self, execution_id: str) -> RemoteExecution:
        record = self._json("GET", f"{API}/executions/{quote(execution_id, safe='')}")
        return RemoteExecution(self, record)

    def list_executions(self, *, name: str | None = None, phase: str | list[str] | None = None,
                        kind: str | None = None, limit: int = 50, offset: int = 0) -> list[RemoteExecution]:
        """Executions in this project and domain, newest first; `name` is the entity's."""
        data = self._json("GET", f"{API}/executions", params={
            **self._scope(), "name": name, "phase": phase, "limit": limit, "offset": offset,
            "kind": stored_kind(_KIND_ALIASES.get(kind, kind)) if kind else None,
        })
        return [RemoteExecution(self, r) for r in _items(data, "executions")]

    def abort(self, execution: str | RemoteExecution) -> RemoteExecution:
        return self._act(execution, "abort")

    def relaunch(self, execution: str | RemoteExecution, name: str | None = None) -> RemoteExecution:
        """A new execution of the same entity with the same inputs and settings."""
        return self._act(execution, "relaunch", name)

    def recover(self, execution: str | RemoteExecution, name: str | None = None) -> RemoteExecution:
        """A new execution that reuses what the failed one completed and runs the rest."""
        return self._act(execution, "recover", name)

    def _act(self, execution: str | RemoteExecution, action: str, name: str | None = None) -> RemoteExecution:
        eid = execution.id if isinstance(execution, RemoteExecution) else str(execution)
        body = {"name": name} if name else None
        record = self._json("POST", f"{API}/executions/{quote(eid, safe='')}/{action}", json_body=body)
        local = execution._local if isinstance(execution, RemoteExecution) else None
        if not isinstance(record, dict) or "id" not in record:
            record = self._json("GET", f"{API}/executions/{quote(eid, safe='')}")
        return RemoteExecution(self, record, local)

    def download(self, uri: str) -> bytes:
        """The bytes of an object-store value (an output pickle) by its ref's `uri`."""
        return bytes(self.request("GET", f"{API}/data", params={"uri": uri}).content)


_KIND_ALIASES = {
    "task": "task", "tasks": "task", "dynamic": "task", "map": "task",
    "workflow": "workflow", "workflows": "workflow",
    "launch_plan": "launch_plan", "launch_plans": "launch_plan",
    "launchplan": "launch_plan", "launchplans": "launch_plan",
}


def _kind_path(kind: str) -> str:
    """The URL segment of an entity kind: tasks, workflows, launch_plans."""
    found = _KIND_ALIASES.get(kind.lower().replace("-", "_"))
    if found is None:
        raise UserError(f"unknown entity kind {kind!r}; expected task, workflow or launch_plan")
    return KIND_PATHS[found]


def _values(labels: Any) -> dict[str, str] | None:
    if labels is None:
        return None
    return dict(getattr(labels, "values", labels))


def _literals(entity: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    """Inputs as JSON literals under the entity's own annotations."""
    from ..typesys import ValueTypeError, checker, describe, to_literal

    declared = entity.interface.inputs
    out = {}
    for key, value in inputs.items():
        if key not in declared:
            known = ", ".join(declared) or "none"
            raise InputError(f"`{entity.name}` has no input `{key}`; its inputs: {known}")
        tp = declared[key].type
        try:
            value = checker(tp)(value)
        except ValueTypeError as exc:
            raise TypeMismatchError(
                f"`{entity.name}` input `{key}` expects `{describe(tp)}`, got `{exc.found}`",
                entity=entity.name, name=key, expected=describe(tp), found=exc.found,
            ) from None
        try:
            out[key] = to_literal(tp, value)
        except ValueTypeError as exc:
            raise TypeMismatchError(
                f"`{entity.name}` input `{key}` is a {exc.found}; inputs of a remote execution "
                "travel as JSON literals (numbers, text, lists, dicts, dataclasses, dates, files "
                "by path): pass one of those, or load the value inside a task",
                entity=entity.name, name=key, expected=describe(tp), found=exc.found,
            ) from None
    missing = [n for n, p in declared.items() if p.required and n not in inputs]
    if missing:
        raise InputError(f"`{entity.name}` needs input(s) {missing}")
    return out


def _remote_literals(entity: RemoteEntity, inputs: dict[str, Any]) -> dict[str, Any]:
    from typing import Any as AnyType

    from ..typesys import ValueTypeError, to_literal

    declared = entity.interface.get("inputs") or {}
    out = {}
    for key, value in inputs.items():
        if declared and key not in declared:
            raise InputError(f"`{entity.name}` has no input `{key}`; its inputs: {', '.join(declared)}")
        try:
            out[key] = to_literal(AnyType, value)
        except ValueTypeError as exc:
            raise TypeMismatchError(
                f"`{entity.name}` input `{key}`: {exc}; remote inputs travel as JSON literals",
                entity=entity.name, name=key, found=exc.found,
            ) from None
    return out


def _server_message(response: Any) -> str:
    try:
        data = response.json()
    except ValueError:
        return str(response.text.strip() or response.reason_phrase)
    detail = data.get("detail", data.get("message", data)) if isinstance(data, dict) else data
    if isinstance(detail, str):
        return detail
    if isinstance(detail, dict):
        return str(detail.get("message") or detail.get("msg") or json.dumps(detail))
    if isinstance(detail, list):  # request validation errors
        parts = []
        for d in detail:
            if isinstance(d, dict):
                loc = ".".join(str(p) for p in d.get("loc", ()) if p != "body")
                parts.append(f"{loc}: {d.get('msg')}" if loc else str(d.get("msg")))
            else:
                parts.append(str(d))
        return "; ".join(parts)
    return json.dumps(detail)


# ------------------------------------------------------------------ executions


class RemoteExecution:
    """An execution on the server; `refresh()` re-reads it, `wait()` follows it to its end."""

    def __init__(self, remote: Remote, record: dict[str, Any], local: Any = None) -> None:
        self.remote = remote
        self.record = dict(record or {})
        self._local = local
        if "id" not in self.record:
            raise ServerError(f"the server answered without an execution id: {json.dumps(record)[:200]}")

    def __repr__(self) -> str:
        return f"RemoteExecution({self.id}, {self.phase})"

    @property
    def id(self) -> str:
        return str(self.record["id"])

    @property
    def phase(self) -> str:
        return str(self.record.get("phase") or "QUEUED")

    @property
    def is_done(self) -> bool:
        return self.phase in ENDED

    @property
    def error(self) -> Any:
        return self.record.get("error")

    @property
    def entity(self) -> dict[str, Any]:
        """`{"kind", "name", "version"}` of the task or workflow that runs."""
        return dict(self.record.get("entity") or {})

    @property
    def entity_name(self) -> str:
        return str(self.entity.get("name") or "")

    def refresh(self) -> RemoteExecution:
        self.record = dict(self.remote._json("GET", f"{API}/executions/{quote(self.id, safe='')}"))
        return self

    def wait(self, timeout: float | None = None, poll: float = 2.0) -> RemoteExecution:
        """Poll until the execution ends (0.1 s at first, slower up to `poll` s); returns self."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.1
        while not self.refresh().is_done:
            if deadline is not None and time.monotonic() >= deadline:
                raise WaitTimeout(
                    f"execution {self.id} is still {self.phase} after {timeout:g} s; call wait() "
                    "again to keep waiting, or abort() it"
                )
            pause = delay if deadline is None else max(0.0, min(delay, deadline - time.monotonic()))
            time.sleep(pause)
            delay = min(delay * 1.5, poll)
        return self

    @property
    def outputs(self) -> dict[str, Any]:
        """Output values by name, as Python values; raises unless the execution SUCCEEDED."""
        if not self.is_done:
            self.refresh()
        if self.phase != "SUCCEEDED":
            detail = error_text(self.error)
            if not self.is_done:
                raise ExecutionFailed(
                    f"execution {self.id} is {self.phase}; call .wait() before reading outputs",
                    execution_id=self.id, phase=self.phase,
                )
            raise ExecutionFailed(
                f"execution {self.id} {self.phase}" + (f": {detail}" if detail else ""),
                execution_id=self.id, phase=self.phase, error=self.error,
            )
        if "outputs" not in self.record:  # a row from a list: values come with the execution
            self.refresh()
        types = self._output_types()
        refs = self.record.get("outputs") or {}
        return {n: self._value(ref, types.get(n)) for n, ref in refs.items()}

    def _output_types(self) -> dict[str, Any]:
        local = self._local
        if local is None:
            local = self.remote._local.get((self.entity_name, str(self.entity.get("version"))))
        return dict(local.interface.outputs) if local is not None else {}

    def _value(self, ref: Any, tp: Any) -> Any:
        from typing import Any as AnyType

        from ..typesys import from_literal

        tp = AnyType if tp is None else tp
        if not isinstance(ref, dict):
            return from_literal(tp, ref)
        if "literal" in ref:
            value = from_literal(tp, ref["literal"])
        elif "uri" in ref:
            import cloudpickle

            value = cloudpickle.loads(self.remote.download(ref["uri"]))
        elif "collection" in ref:
            value = [self._value(r, AnyType) for r in ref["collection"]]
        elif "mapping" in ref:
            value = {k: self._value(r, AnyType) for k, r in ref["mapping"].items()}
        else:
            return from_literal(tp, ref)
        for step in ref.get("path", ()):
            value = value[step] if isinstance(step, int) or isinstance(value, dict) else getattr(value, step)
        return value

    def nodes(self) -> list[RemoteNode]:
        data = self.remote._json("GET", f"{API}/executions/{quote(self.id, safe='')}/nodes")
        return [RemoteNode.from_record(r) for r in _items(data, "nodes")]

    def logs(self, node: str | RemoteNode, attempt: int | None = None, follow: bool = False) -> Any:
        """The text of a node attempt's log (the latest attempt by default).

        With `follow=True`, an iterator of text pieces as they are written,
        which ends when the node has ended and its log was read to the end.
        """
        path = node.path if isinstance(node, RemoteNode) else str(node)
        if follow:
            return self._follow(path, attempt)
        parts, offset = [], 0
        while True:
            chunk = self.log_chunk(path, attempt, offset)
            parts.append(str(chunk.get("text") or ""))
            nxt = int(chunk.get("next_offset", offset))
            if nxt <= offset:
                return "".join(parts)
            offset = nxt

    def log_chunk(self, path: str, attempt: int | None, offset: int) -> dict[str, Any]:
        url = f"{API}/executions/{quote(self.id, safe='')}/nodes/{quote(path, safe='')}/logs"
        return dict(self.remote._json("GET", url, params={"attempt": attempt, "offset": offset}) or {})

    def _follow(self, path: str, attempt: int | None, poll: float = 1.0) -> Iterator[str]:
        offset, reading, delay, last_look = 0, attempt, 0.2, False
        while True:
            try:
                chunk = self.log_chunk(path, attempt, offset)
            except RemoteUserError as exc:
                if exc.status != 404 or self.refresh().is_done:
                    raise
                chunk = {"next_offset": offset}  # the node has not been created yet
            number = chunk.get("attempt")
            if attempt is None and number and reading not in (None, number):
                offset, reading = 0, number  # a retry started: read the new attempt's log
                yield f"--- attempt {number} ---\n"
                continue
            reading = number or reading
            text = str(chunk.get("text") or "")
            nxt = int(chunk.get("next_offset", offset))
            if text:
                yield text
            if nxt > offset:
                offset, delay = nxt, 0.2
                continue
            if chunk.get("complete"):
                if attempt is not None or self._node_done(path):
                    return
            elif self.refresh().is_done:
                if last_look:
                    return
                last_look = True  # read once more: the tail may have landed meanwhile
                continue
            time.sleep(delay)
            delay = min(delay * 1.5, poll)

    def _node_done(self, path: str) -> bool:
        return any(n.path == path and n.phase in NODE_ENDED for n in self.nodes())

    def abort(self) -> RemoteExecution:
        return self.remote.abort(self)

    def relaunch(self) -> RemoteExecution:
        return self.remote.relaunch(self)

    def recover(self) -> RemoteExecution:
        return self.remote.recover(self)
