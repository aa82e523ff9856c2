"""`plait.Remote`: register code on a plait backend and launch executions there, over HTTP.

httpx is imported on first use, so `import plait` stays light. Inputs travel
as literals (`typesys.to_literal`) checked against the entity's own
annotations before anything is sent.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from ..errors import InputError, TypeMismatchError, UserError
from ..model.vocab import KIND_PATHS, stored_kind
from .apps import AppMethods
from .artifacts import ArtifactMethods
from .discovery import API, Connection, discover, load_httpx, start_server
from .errors import AuthenticationError, BackendBusy, RemoteUserError, ServerError
from .signals import SignalMethods
from .views import EntityId, RemoteEntity, RemoteExecution, items_of
from .workspaces import WorkspaceMethods

BUSY_BACKOFF_MAX_S = 30.0  # the longest single wait after repeated 429s
_sleep = time.sleep  # between busy retries; tests replace it here, not in the time module


class Remote(AppMethods, ArtifactMethods, SignalMethods, WorkspaceMethods):
    """A plait backend: register entities, launch executions, follow them.

    A server that admits no more launches for a while (HTTP 429, too many
    executions waiting in the project) is asked again after the `Retry-After`
    it gives, backing off on repeats, for up to `busy_timeout` seconds;
    `on_busy(message, seconds)` hears about each wait (the CLI prints it).
    The artifact catalog's calls (`get_artifact`, ...) come from `ArtifactMethods`, the
    browser workspaces' (`create_workspace`, ...) from `WorkspaceMethods`.
    """

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
        busy_timeout: float = 300.0,
        on_busy: Callable[[str, float], None] | None = None,
    ) -> None:
        self.project = project
        self.domain = domain
        self._explicit = (endpoint, token)
        self._transport = transport
        self._autostart = autostart
        self._timeout = timeout
        self._busy_timeout = busy_timeout
        self._on_busy = on_busy
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
            httpx = load_httpx()
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
        httpx = load_httpx()
        client = self._http()
        params = {k: v for k, v in (params or {}).items() if v is not None}
        deadline = time.monotonic() + self._busy_timeout
        refused = 0  # 429s in a row
        while True:
            try:
                response = client.request(method, path, params=params, json=json_body,
                                          content=content, headers=headers)
            except httpx.TransportError as exc:
                raise self._unreachable(exc) from None
            if response.status_code != 429 or _error_code(response) == "concurrency_limit":
                break  # a launch plan's concurrency limit is not waited out: the caller decides
            wait = _busy_wait(response, refused)
            message = _server_message(response)
            if time.monotonic() + wait > deadline:
                raise BackendBusy(
                    f"the plait server kept refusing {method} {path} for {self._busy_timeout:.0f} s: "
                    f"{message}"
                )
            if self._on_busy is not None:
                self._on_busy(message, wait)
            _sleep(wait)
            refused += 1
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
            raise RemoteUserError(message, status=status, detail=message, field=_server_field(response))
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
        ids = [self._entity_id(r) for r in items_of(answer, "entities", "registered")]
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
                for r in items_of(data, _kind_path(kind), "entities")]

    def list_versions(self, kind: str, name: str, *, limit: int = 100) -> list[RemoteEntity]:
        data = self._json("GET", f"{API}/{_kind_path(kind)}/{quote(name, safe='')}/versions",
                          params={**self._scope(), "limit": limit})
        return [RemoteEntity.from_record(kind, r, self.project, self.domain)
                for r in items_of(data, "versions", _kind_path(kind))]

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
        skip: dict[str, dict[str, Any]] | None = None,
    ) -> RemoteExecution:
        """Launch `entity` (a local task/workflow/launch plan, registered first if needed, or a
        RemoteEntity) with `inputs`; `wait=True` waits up to `timeout` seconds for the end.

        `skip` (`{node path: {output: value}}`) does not run those nodes: they end SKIPPED
        with the given outputs (JSON literals, checked against the node's output types)."""
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
            "skip": dict(skip) if skip else None,
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
        return [RemoteExecution(self, r) for r in items_of(data, "executions")]

    def abort(self, execution: str | RemoteExecution, reason: str | None = None) -> RemoteExecution:
        """Stop a running execution: running nodes stop, the rest do not start, and it ends
        ABORTED with `reason` (when given) in its error. A 409 if it already ended."""
        return self._act(execution, "abort", body={"reason": reason} if reason else None)

    def relaunch(self, execution: str | RemoteExecution, name: str | None = None) -> RemoteExecution:
        """A new execution of the same entity with the same inputs and settings."""
        return self._act(execution, "relaunch", name)

    def recover(self, execution: str | RemoteExecution, name: str | None = None) -> RemoteExecution:
        """A new execution that reuses what the failed one completed and runs the rest."""
        return self._act(execution, "recover", name)

    def rerun(self, execution: str | RemoteExecution, from_nodes: list[str] | tuple[str, ...] = (), *,
              inputs: dict[str, Any] | None = None, node_inputs: dict[str, dict[str, Any]] | None = None,
              map_items: dict[str, Any] | None = None, version: str | None = None, name: str | None = None,
              wait: bool = False) -> RemoteExecution:
        """A new execution that runs `from_nodes` (node paths: `n3`, `n2-n1`) and what depends on
        them again, and takes every other node's outputs from `execution` (REUSED).

        `inputs` override workflow inputs (the nodes that read them run again), `node_inputs`
        the inputs of chosen nodes (`{path: {input: value}}`), `map_items` re-run only some
        items of a map node (`{path: "failed"}` or `{path: [0, 3]}`); `version` re-runs a newer
        version of the workflow whose interface and reused nodes are unchanged. Values are
        JSON literals, as `execute` takes them.
        """
        body: dict[str, Any] = {"from_nodes": list(from_nodes)}
        for key, value in (("inputs", inputs), ("node_inputs", node_inputs), ("map_items", map_items),
                           ("version", version), ("name", name)):
            if value:
                body[key] = value
        run = self._act(execution, "rerun", body=body)
        return run.wait() if wait else run

    def _act(self, execution: str | RemoteExecution, action: str, name: str | None = None, *,
             body: dict[str, Any] | None = None) -> RemoteExecution:
        eid = execution.id if isinstance(execution, RemoteExecution) else str(execution)
        body = body or ({"name": name} if name else None)
        record = self._json("POST", f"{API}/executions/{quote(eid, safe='')}/{action}", json_body=body)
        local = execution._local if isinstance(execution, RemoteExecution) else None
        if not isinstance(record, dict) or "id" not in record:
            record = self._json("GET", f"{API}/executions/{quote(eid, safe='')}")
        return RemoteExecution(self, record, local)

    def download(self, uri: str) -> bytes:
        """The bytes of an object-store value (an output pickle) by its ref's `uri`."""
        return bytes(self.request("GET", f"{API}/data", params={"uri": uri}).content)

    # --- secrets ---------------------------------------------------------------

    def create_secret(self, name: str, value: str, *, project: str | None = None, domain: str | None = None,
                      overwrite: bool = False) -> dict[str, Any]:
        """Store secret `name` (`KEY` or `group/key`, as a task's `Secret` requests it) in
        `project` (default: this Remote's) for `domain`, or for every domain of the project
        when `domain` is None. An existing one is an error unless `overwrite`. Answers its
        name, scope and dates: no route ever returns a value."""
        if not isinstance(value, str):
            raise TypeMismatchError(
                f"create_secret({name!r}): expected the value as str, got {type(value).__name__}; "
                "decode bytes first (e.g. value.decode())",
                entity="create_secret", name="value", expected="str", found=type(value).__name__,
            )
        body = {"name": name, "value": value, "project": project or self.project, "domain": domain}
        return dict(self._json("PUT" if overwrite else "POST", f"{API}/secrets", json_body=body))

    def list_secrets(self, *, project: str | None = None, domain: str | None = None) -> list[dict[str, Any]]:
        """The secrets of `project` (default: this Remote's): name, domain (None: every
        domain), created_at, updated_at. With `domain`, those its tasks can read."""
        data = self._json("GET", f"{API}/secrets", params={"project": project or self.project, "domain": domain})
        return list(items_of(data, "secrets"))

    def delete_secret(self, name: str, *, project: str | None = None, domain: str | None = None) -> None:
        """Delete secret `name` of exactly this scope (`domain` None: the one of every domain)."""
        self.request("DELETE", f"{API}/secrets",
                     params={"name": name, "project": project or self.project, "domain": domain})

    # --- launch plan activation and schedules -------------------------------------

    def launch_plan_state(self, name: str, version: str | None = None) -> dict[str, Any]:
        """Which version of launch plan `name` is active (`active_version`, None when none is),
        its schedule in words and its next five ticks (`schedule`), and the newest tick handled."""
        return dict(self._json("GET", f"{API}/launch_plans/{_quoted(name)}/state",
                               params={**self._scope(), "version": version}))

    def activate_launch_plan(self, name: str, version: str, *, catch_up: str | None = None,
                             project: str | None = None, domain: str | None = None) -> dict[str, Any]:
        """Make `version` the active version of launch plan `name` (the one active before stops
        being active); its schedule fires from now on. `catch_up` (skip, latest, all) says what
        the scheduler does with ticks missed while the backend was down. Answers the state."""
        body = {"catch_up": catch_up} if catch_up is not None else None
        return dict(self._json("POST", f"{API}/launch_plans/{_quoted(name)}/versions/{_quoted(version)}/activate",
                               params=self._plan_scope(project, domain), json_body=body))

    def deactivate_launch_plan(self, name: str, version: str | None = None, *, project: str | None = None,
                               domain: str | None = None) -> dict[str, Any]:
        """Deactivate launch plan `name` (with `version`: only if that version is the active one);
        its schedule fires no further tick. Answers the state."""
        path = f"{API}/launch_plans/{_quoted(name)}"
        path += f"/versions/{_quoted(version)}/deactivate" if version is not None else "/deactivate"
        return dict(self._json("POST", path, params=self._plan_scope(project, domain)))

    def _plan_scope(self, project: str | None, domain: str | None) -> dict[str, str]:
        return {"project": project or self.project, "domain": domain or self.domain}

    def update_launch_plan(self, id: Any, state: str) -> dict[str, Any]:
        """Flyte's spelling: `update_launch_plan(id, "ACTIVE" | "INACTIVE")`. `id` has the plan's
        name and version: an object with `.name` and `.version` (and `.project`/`.domain`, else
        this Remote's), or a tuple (project, domain, name, version) or (name, version)."""
        project, domain, name, version = _plan_id(id, self.project, self.domain)
        wanted = str(state).rsplit(".", 1)[-1].upper()
        if wanted not in ("ACTIVE", "INACTIVE"):
            raise InputError(f"update_launch_plan({name!r}): expected the state \"ACTIVE\" or \"INACTIVE\", "
                             f"got {state!r}")
        if wanted == "ACTIVE":
            return self.activate_launch_plan(name, version, project=project, domain=domain)
        return self.deactivate_launch_plan(name, version, project=project, domain=domain)

    def schedule_runs(self, name: str, *, outcome: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The ticks of launch plan `name`'s schedule, newest first: each with its `outcome`
        (launched, skipped, failed, missed), `execution_id` when launched, and `detail` (why)."""
        data = self._json("GET", f"{API}/launch_plans/{_quoted(name)}/schedule_runs",
                          params={**self._scope(), "outcome": outcome, "limit": limit})
        return list(items_of(data, "schedule runs"))


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
    """Labels or annotations as a dict: a mapping as it is, a `Labels`/`Annotations` by its values."""
    if labels is None:
        return None
    if isinstance(labels, dict):
        return dict(labels)
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


def _busy_wait(response: Any, refused: int) -> float:
    """How long to wait after the `refused`-th 429 in a row (0 for the first): the server's
    `Retry-After`, doubled on each repeat up to BUSY_BACKOFF_MAX_S, with jitter so that
    many clients do not come back at the same moment."""
    try:
        after = float(response.headers.get("Retry-After", "1"))
    except ValueError:
        after = 1.0
    base = min(BUSY_BACKOFF_MAX_S, max(after, 0.1) * 2 ** min(refused, 5))
    return base * random.uniform(1.0, 1.25)


def _error_code(response: Any) -> str | None:
    """The `error` code of a JSON error body (`busy`, `concurrency_limit`, ...), if any."""
    try:
        data = response.json()
    except ValueError:
        return None
    return str(data.get("error")) if isinstance(data, dict) and data.get("error") else None


def _server_field(response: Any) -> str:
    """The `field` of an error body (which request field the server refused), or ""."""
    try:
        data = response.json()
    except ValueError:
        return ""
    return str(data.get("field") or "") if isinstance(data, dict) else ""


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


def _quoted(part: str) -> str:
    return quote(str(part), safe="")


def _plan_id(id: Any, project: str, domain: str) -> tuple[str, str, str, str]:
    """(project, domain, name, version) of a launch plan id as Flyte's clients write it."""
    if isinstance(id, (tuple, list)):
        if len(id) == 4:
            return str(id[0]), str(id[1]), str(id[2]), str(id[3])
        if len(id) == 2:
            return project, domain, str(id[0]), str(id[1])
    elif getattr(id, "name", None) and getattr(id, "version", None):
        return (str(getattr(id, "project", None) or project), str(getattr(id, "domain", None) or domain),
                str(id.name), str(id.version))
    raise InputError(f"update_launch_plan: expected a launch plan id with a name and a version (an object "
                     f"with .name and .version, or a tuple (project, domain, name, version) or "
                     f"(name, version)), got {id!r}")
