"""plait.Remote and the backend commands of the CLI, against an in-process fake of the HTTP API.

The fake (`FakeBackend`) answers the routes the client uses with the shapes of
docs/backend.md and plait.backend.api's schemas, so these tests need no server
process; end-to-end tests against the real backend live with the backend.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cloudpickle
import httpx
import pytest
from click.testing import CliRunner
from plait.cli import main
from plait.errors import PlaitError, UserError
from plait.remote import (
    AuthenticationError,
    BackendBusy,
    ExecutionFailed,
    Remote,
    RemoteEntity,
    ServerError,
    WaitTimeout,
    discover,
)

TOKEN = "s3cret"
ENDPOINT = "http://plait.test"

FLOWS = '''
import datetime as dt

import plait


class Point:
    """Not JSON: travels back as a pickle."""

    def __init__(self, x: int) -> None:
        self.x = x


@plait.task
def double(x: int) -> int:
    return 2 * x


@plait.workflow
def wf(x: int) -> int:
    return double(x=x)


@plait.task
def deadline(days: int) -> dt.datetime:
    return dt.datetime(2024, 1, 1) + dt.timedelta(days=days)


@plait.task
def point(x: int) -> Point:
    return Point(x)


@plait.task
def unbox(p: Point) -> int:
    return p.x
'''


# ------------------------------------------------------------------ the fake backend


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()


class FakeBackend:
    """Routes of /api/v1 in memory. Each GET of an execution moves it one phase on."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.blobs: dict[str, bytes] = {}  # object store: path -> bytes
        self.entities: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (kind, name) -> versions
        self.executions: dict[str, dict[str, Any]] = {}
        self.requests: list[httpx.Request] = []
        self.bodies: list[Any] = []
        self.outcomes: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
        self.logs: dict[str, list[str]] = {}  # execution id -> log pieces, one per read
        self.refuse_launches = 0  # launches answered 429 (the queue is full) before one is taken

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    @staticmethod
    def error(status: int, code: str, message: str) -> httpx.Response:
        return httpx.Response(status, json={"error": code, "message": message})

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return self.error(401, "unauthorized", "this server needs an `Authorization: Bearer <token>` header")
        parts = request.url.path.removeprefix("/api/v1/").split("/")
        body = json.loads(request.content) if request.content and request.method == "POST" else None
        self.bodies.append(body)
        q = request.url.params
        match request.method, parts:
            case "PUT", ["bundles" | "functions" as where, digest]:
                assert hashlib.sha256(request.content).hexdigest() == digest
                suffix = "tar.gz" if where == "bundles" else "pkl"
                self.blobs[f"{where}/{digest}.{suffix}"] = request.content
                return httpx.Response(200, json={"digest": digest, "size": len(request.content), "created": True})
            case "POST", ["register"]:
                return self.register(body)
            case "GET", ["tasks" | "workflows" | "launch_plans" as plural]:
                kind = plural.removesuffix("s")
                items = [{**v[-1], "version_count": len(v)} for (k, _), v in sorted(self.entities.items())
                         if k == kind]
                return httpx.Response(200, json={"items": items, "limit": 100, "offset": 0, "next_offset": None})
            case "GET", ["tasks" | "workflows" | "launch_plans" as plural, name, *rest]:
                versions = self.entities.get((plural.removesuffix("s"), name))
                if not versions:
                    return self.error(404, "not_found", f"no {plural.removesuffix('s')} `{name}` in default/development")
                if rest == ["versions"]:
                    return httpx.Response(200, json={"items": versions[::-1], "limit": 100, "offset": 0,
                                                     "next_offset": None})
                found = [v for v in versions if v["version"] == q.get("version", versions[-1]["version"])]
                return httpx.Response(200, json=found[0])
            case "POST", ["executions"] if self.refuse_launches:
                self.refuse_launches -= 1
                return httpx.Response(429, headers={"Retry-After": "0.01"}, json={
                    "error": "busy", "message": "project `default` has 3 executions waiting to start"})
            case "POST", ["executions"]:
                return self.launch(body)
            case "GET", ["executions"]:
                runs = [r for r in self.executions.values() if q.get("name") in (None, r["entity"]["name"])]
                return httpx.Response(200, json={"items": runs[::-1], "limit": 50, "offset": 0, "next_offset": None})
            case "GET", ["executions", eid]:
                return self.advance(eid) if eid in self.executions else self.error(404, "not_found", f"no execution `{eid}`")
            case "GET", ["executions", eid, "nodes"]:
                run = self.executions[eid]
                node = {"path": "n0", "parent_path": None, "entity_name": run["entity"]["name"], "kind": "task",
                        "phase": run["phase"], "error": run["error"], "attempts": [{"number": 1}]}
                return httpx.Response(200, json={"execution_id": eid, "nodes": [node]})
            case "GET", ["executions", eid, "nodes", path, "logs"]:
                return self.read_log(eid, path, int(q.get("offset", 0)))
            case "POST", ["executions", eid, "abort" | "relaunch" as action]:
                run = self.executions[eid]
                if action == "abort":
                    run["phase"] = "ABORTED"
                    return httpx.Response(202, json=run)
                return self.launch({"kind": run["entity"]["kind"], "name": run["entity"]["name"],
                                    "version": run["entity"]["version"], "inputs": {}, "settings": {}})
            case "GET", ["data"]:
                return httpx.Response(200, content=self.blobs[q["uri"]])
        return self.error(404, "not_found", f"no route {request.method} {request.url.path}")

    def register(self, body: dict[str, Any]) -> httpx.Response:
        if body["bundle_digest"] and f"bundles/{body['bundle_digest']}.tar.gz" not in self.blobs:
            return self.error(422, "invalid_field", "upload the bundle first")
        out = []
        for spec in body["specs"]:
            kind = {"dynamic": "task", "map": "task"}.get(spec["kind"], spec["kind"])
            versions = self.entities.setdefault((kind, spec["name"]), [])
            if not any(v["version"] == body["version"] for v in versions):
                versions.append({"kind": kind, "project": body["project"], "domain": body["domain"],
                                 "name": spec["name"], "version": body["version"], "spec": spec,
                                 "description": "", "archived": False, "created_at": _now()})
            out.append({"kind": kind, "name": spec["name"], "version": body["version"], "created": True})
        return httpx.Response(201, json={"project": body["project"], "domain": body["domain"],
                                         "version": body["version"], "created": True, "entities": out})

    def launch(self, body: dict[str, Any]) -> httpx.Response:
        versions = self.entities.get((body["kind"], body["name"]))
        if not versions:
            return self.error(404, "not_found", f"no {body['kind']} `{body['name']}`")
        entity = next((v for v in versions if v["version"] == body.get("version")), versions[-1])
        declared = entity["spec"]["interface"]["inputs"]
        for name, value in body["inputs"].items():
            if declared[name]["type"] == {"kind": "integer"} and not isinstance(value, int):
                return self.error(422, "invalid_input",
                                  f"input `{name}` of `{body['name']}` expects int, got {type(value).__name__}")
        eid = body["settings"].get("name") or f"e{len(self.executions):04d}"
        run = {"id": eid, "project": "default", "domain": "development",
               "entity": {"kind": body["kind"], "name": body["name"], "version": entity["version"]},
               "launch_plan": None, "phase": "QUEUED",
               "inputs": {k: {"literal": v} for k, v in body["inputs"].items()}, "outputs": None,
               "error": None, "settings": body["settings"], "created_at": _now(), "started_at": None,
               "ended_at": None, "duration_s": None}
        self.executions[eid] = run
        return httpx.Response(201, json=run)

    def advance(self, eid: str) -> httpx.Response:
        run = self.executions[eid]
        if run["phase"] == "QUEUED":
            run.update(phase="RUNNING", started_at=_now())
        elif run["phase"] == "RUNNING":
            inputs = {k: v["literal"] for k, v in run["inputs"].items()}
            result = self.outcomes.get(run["entity"]["name"], lambda i: {"outputs": {}})(inputs)
            run.update(phase=result.get("phase", "SUCCEEDED"), outputs=result.get("outputs"),
                       error=result.get("error"), ended_at=_now(), duration_s=1.5)
        return httpx.Response(200, json=run)

    def read_log(self, eid: str, path: str, offset: int) -> httpx.Response:
        pieces = self.logs.get(eid, [])
        text = "".join(pieces)
        shown = len("".join(pieces[: self._reads(eid)]).encode())
        chunk = text.encode()[offset:shown].decode()
        run = self.executions[eid]
        complete = run["phase"] in ("SUCCEEDED", "FAILED") and shown == len(text.encode())
        return httpx.Response(200, json={"execution_id": eid, "path": path, "attempt": 1, "offset": offset,
                                         "next_offset": offset + len(chunk.encode()), "text": chunk,
                                         "complete": complete})

    def _reads(self, eid: str) -> int:
        """Each log read reveals one more piece: the log grows while it is followed."""
        count = getattr(self, "_log_reads", {})
        count[eid] = count.get(eid, 0) + 1
        self._log_reads = count
        return count[eid]


# ------------------------------------------------------------------ fixtures


@pytest.fixture(autouse=True)
def fresh_imports(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Forget the test projects' modules afterwards, and never sleep while polling."""
    # Only the client's own waits: the time module's sleep stays, so no other thread spins.
    monkeypatch.setattr("plait.remote.views._sleep", lambda s: None)
    monkeypatch.setattr("plait.remote.client._sleep", lambda s: None)
    monkeypatch.delenv("PLAIT_ENDPOINT", raising=False)
    monkeypatch.delenv("PLAIT_TOKEN", raising=False)
    modules, path = set(sys.modules), list(sys.path)
    base = str(tmp_path_factory.getbasetemp())
    yield
    for name in set(sys.modules) - modules:
        file = getattr(sys.modules[name], "__file__", None)
        if file is None or file.startswith(base):
            del sys.modules[name]
    sys.path[:] = path


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def remote(backend: FakeBackend) -> Remote:
    return Remote(ENDPOINT, token=TOKEN, transport=backend.transport(), autostart=False)


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    """A project folder `remote_flows/` with FLOWS in `flows.py`."""
    (tmp_path / "remote_flows").mkdir()
    (tmp_path / "remote_flows" / "flows.py").write_text(FLOWS)
    return tmp_path / "remote_flows"


def doubling(inputs: dict[str, Any]) -> dict[str, Any]:
    return {"outputs": {"o0": {"literal": 2 * inputs["x"], "hash": "i:x"}}}


# ------------------------------------------------------------------ discovery


def test_discovery_prefers_arguments_then_variables_then_the_server_file(plait_home: Path) -> None:
    (plait_home / "server.json").write_text(json.dumps({"url": "http://127.0.0.1:9999", "pid": os.getpid()}))
    (plait_home / "token").write_text("from-file\n")
    env = {"PLAIT_HOME": str(plait_home)}

    found = discover(env=env)
    assert (found.endpoint, found.token) == ("http://127.0.0.1:9999", "from-file")
    assert found.endpoint_source == str(plait_home / "server.json")
    assert found.token_source == str(plait_home / "token")

    env.update(PLAIT_ENDPOINT="http://10.0.0.5:8742/", PLAIT_TOKEN="from-env")
    found = discover(env=env)
    assert (found.endpoint, found.token, found.token_source) == ("http://10.0.0.5:8742", "from-env", "PLAIT_TOKEN")

    found = discover("http://explicit:1", "arg", env=env)
    assert (found.endpoint, found.token) == ("http://explicit:1", "arg")


def test_a_server_file_of_a_dead_process_is_ignored(plait_home: Path) -> None:
    (plait_home / "server.json").write_text(json.dumps({"url": "http://127.0.0.1:9999", "pid": 2**22 + 12345}))
    assert discover().endpoint is None
    with pytest.raises(ServerError, match="no plait server is running: start one with `plait server`"):
        _ = Remote(autostart=False).endpoint


def test_remote_reads_the_server_file_when_nothing_else_is_set(
    plait_home: Path, backend: FakeBackend
) -> None:
    (plait_home / "server.json").write_text(json.dumps({"url": ENDPOINT, "pid": os.getpid()}))
    (plait_home / "token").write_text(TOKEN)
    remote = Remote(transport=backend.transport(), autostart=False)
    backend.entities[("task", "t")] = [{"kind": "task", "name": "t", "version": "v1", "spec": {}}]
    assert remote.fetch_task("t").version == "v1"
    assert backend.requests[-1].headers["authorization"] == f"Bearer {TOKEN}"


# ------------------------------------------------------------------ errors


def test_a_refused_token_names_the_token_file(plait_home: Path, backend: FakeBackend) -> None:
    remote = Remote(ENDPOINT, token="wrong", transport=backend.transport(), autostart=False)
    with pytest.raises(AuthenticationError, match=r"refused the token \(from the token argument\)") as info:
        remote.list_executions()
    assert str(plait_home / "token") in str(info.value)
    assert isinstance(info.value, PlaitError)


def test_the_servers_message_is_surfaced_for_user_errors(remote: Remote, backend: FakeBackend, flows: Path) -> None:
    with pytest.raises(UserError, match="no task `missing` in default/development") as info:
        remote.fetch_task("missing")
    assert info.value.status == 404

    remote.register(flows)
    fetched = remote.fetch_workflow("remote_flows.flows.wf")
    fresh = Remote(ENDPOINT, token=TOKEN, transport=backend.transport(), autostart=False)  # no local types
    with pytest.raises(UserError, match="input `x` of `remote_flows.flows.wf` expects int, got str") as info:
        fresh.execute(fetched, {"x": "three"})
    assert info.value.status == 422


def test_local_inputs_are_checked_before_anything_is_sent(remote: Remote, backend: FakeBackend, flows: Path) -> None:
    remote.register(flows)
    wf = sys.modules["remote_flows.flows"].wf
    sent = len(backend.requests)
    with pytest.raises(UserError, match=r"`remote_flows.flows.wf` input `x` expects `int`, got `str`"):
        remote.execute(wf, {"x": "three"})
    with pytest.raises(UserError, match=r"has no input `y`; its inputs: x"):
        remote.execute(wf, {"y": 1})
    module = sys.modules["remote_flows.flows"]
    with pytest.raises(UserError, match=r"input `p` is a Point \(not JSON-representable\); inputs of a remote execution travel as JSON literals"):
        remote.execute(module.unbox, {"p": module.Point(1)})
    assert len(backend.requests) == sent


def test_an_unreachable_server_names_its_address() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    remote = Remote("http://127.0.0.1:1", token="t", transport=httpx.MockTransport(refuse))
    with pytest.raises(ServerError, match=r"cannot reach the plait server at http://127.0.0.1:1 \(from the endpoint argument\)"):
        remote.health()


# ------------------------------------------------------------------ registration and executions


def test_register_uploads_the_bundle_then_the_specs(remote: Remote, backend: FakeBackend, flows: Path) -> None:
    ids = remote.register(flows)
    assert {i.name for i in ids} == {"remote_flows.flows.double", "remote_flows.flows.wf",
                                     "remote_flows.flows.deadline", "remote_flows.flows.point",
                                     "remote_flows.flows.unbox"}
    methods = [(r.method, r.url.path.split("/")[3]) for r in backend.requests]
    assert methods == [("PUT", "bundles"), ("POST", "register")]
    body = backend.bodies[-1]
    assert body["python_version"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert {s["version"] for s in body["specs"]} == {ids[0].version}
    assert all(s["code"]["bundle"] == body["bundle_digest"] for s in body["specs"])

    task = remote.fetch_task("remote_flows.flows.double")
    assert isinstance(task, RemoteEntity) and task.version == ids[0].version
    assert task.interface["inputs"]["x"]["type"] == {"kind": "integer"}


def test_execute_waits_and_converts_outputs(remote: Remote, backend: FakeBackend, flows: Path) -> None:
    module_path = flows
    backend.outcomes["remote_flows.flows.wf"] = doubling
    remote.register(module_path)
    module = sys.modules["remote_flows.flows"]

    run = remote.execute(module.wf, {"x": 21}, wait=True, name="answer", envs={"A": "1"})
    assert run.id == "answer" and run.phase == "SUCCEEDED"
    assert run.outputs == {"o0": 42}
    launch = next(b for b in backend.bodies if b and "inputs" in b)
    assert launch["kind"] == "workflow" and launch["inputs"] == {"x": 21}
    assert launch["settings"] == {"name": "answer", "envs": {"A": "1"}}

    # A literal of a local type comes back as that type; a pickle is downloaded.
    backend.outcomes["remote_flows.flows.deadline"] = lambda i: {
        "outputs": {"o0": {"literal": {"__datetime__": "2024-01-11T00:00:00"}}}}
    assert remote.execute(module.deadline, {"days": 10}, wait=True).outputs == {"o0": dt.datetime(2024, 1, 11)}

    backend.blobs["executions/p/n0/1/outputs/o0.pkl"] = cloudpickle.dumps(module.Point(7))
    backend.outcomes["remote_flows.flows.point"] = lambda i: {
        "outputs": {"o0": {"uri": "executions/p/n0/1/outputs/o0.pkl", "format": "pickle", "hash": "p:1",
                           "preview": "<Point>"}}}
    out = remote.execute(module.point, {"x": 7}, wait=True).outputs["o0"]
    assert isinstance(out, module.Point) and out.x == 7


def test_a_local_entity_is_registered_once_before_it_runs(remote: Remote, backend: FakeBackend, flows: Path) -> None:
    sys.path.insert(0, str(flows.parent))
    import remote_flows.flows as module  # noqa: I001 - the test project, importable now

    remote.execute(module.double, {"x": 1})
    remote.execute(module.double, {"x": 2})
    assert [r.url.path for r in backend.requests].count("/api/v1/register") == 1
    assert ("task", "remote_flows.flows.double") in backend.entities


def test_failed_executions_raise_with_the_error(remote: Remote, backend: FakeBackend, flows: Path) -> None:
    backend.outcomes["remote_flows.flows.wf"] = lambda i: {
        "phase": "FAILED", "error": {"type": "ValueError", "message": "x must be positive", "node": "n0"}}
    remote.register(flows)
    run = remote.execute(sys.modules["remote_flows.flows"].wf, {"x": -1})
    assert run.phase == "QUEUED"
    with pytest.raises(ExecutionFailed, match="is RUNNING; call .wait()"):
        _ = run.outputs
    run.wait()
    with pytest.raises(ExecutionFailed, match=r"FAILED: ValueError: x must be positive \(node n0\)") as info:
        _ = run.outputs
    assert info.value.error["type"] == "ValueError"


def test_wait_gives_up_after_its_timeout(remote: Remote, backend: FakeBackend, flows: Path, monkeypatch) -> None:
    remote.register(flows)
    run = remote.execute(sys.modules["remote_flows.flows"].wf, {"x": 1})
    monkeypatch.setattr(backend, "advance", lambda eid: httpx.Response(200, json=backend.executions[eid]))
    with pytest.raises(WaitTimeout, match=f"execution {run.id} is still QUEUED after 0 s"):
        run.wait(timeout=0)


def test_logs_are_read_whole_or_followed_as_they_grow(remote: Remote, backend: FakeBackend, flows: Path) -> None:
    backend.outcomes["remote_flows.flows.wf"] = doubling
    remote.register(flows)
    run = remote.execute(sys.modules["remote_flows.flows"].wf, {"x": 1})
    backend.logs[run.id] = ["starting\n", "half way ü\n", "done\n"]
    pieces = list(run.logs("n0", follow=True))
    assert "".join(pieces) == "starting\nhalf way ü\ndone\n"
    assert len(pieces) == 3  # one piece per read, as written
    assert run.phase == "SUCCEEDED"
    assert remote.fetch_execution(run.id).logs("n0") == "starting\nhalf way ü\ndone\n"


def test_listing_aborting_and_relaunching(remote: Remote, backend: FakeBackend, flows: Path) -> None:
    remote.register(flows)
    module = sys.modules["remote_flows.flows"]
    first = remote.execute(module.wf, {"x": 1})
    remote.execute(module.double, {"x": 1})
    assert [r.id for r in remote.list_executions(name="remote_flows.flows.wf")] == [first.id]
    assert remote.abort(first.id).phase == "ABORTED"
    again = first.relaunch()
    assert again.id != first.id and again.entity_name == "remote_flows.flows.wf"


# ------------------------------------------------------------------ the CLI


def cli(backend: FakeBackend, *args: str) -> Any:
    options = {"remote": {"endpoint": ENDPOINT, "token": TOKEN, "transport": backend.transport(),
                          "autostart": False}}
    return CliRunner().invoke(main, list(args), obj=options, env={"COLUMNS": "200"})


def test_cli_register_and_get(backend: FakeBackend, flows: Path) -> None:
    out = cli(backend, "register", str(flows))
    assert out.exit_code == 0, out.output
    assert "remote_flows.flows.double" in out.output
    assert "registered 5 entities in default/development, version" in out.output

    out = cli(backend, "get", "tasks")
    assert out.exit_code == 0, out.output
    assert "remote_flows.flows.point" in out.output and "VERSIONS" in out.output
    out = cli(backend, "get", "workflows", "remote_flows.flows.wf")
    assert out.exit_code == 0 and "Versions of workflow remote_flows.flows.wf" in out.output

    out = cli(backend, "get", "launchplans", "nothing.here")
    assert out.exit_code == 1
    assert "no launch_plan `nothing.here`" in out.output


def test_cli_run_remote_shows_outputs(backend: FakeBackend, flows: Path) -> None:
    backend.outcomes["flows.wf"] = doubling
    out = cli(backend, "run", "--remote", "--name", "cli-run", str(flows / "flows.py"), "wf", "--x", "5")
    assert out.exit_code == 0, out.output
    assert out.stdout.strip() == "10"
    assert "execution cli-run succeeded" in out.stderr

    out = cli(backend, "get", "executions")
    assert "cli-run" in out.output and "flows.wf" in out.output and "SUCCEEDED" in out.output
    out = cli(backend, "get", "execution", "cli-run")
    assert out.exit_code == 0, out.output
    assert "phase:    SUCCEEDED" in out.output and "x = 5" in out.output and "o0 = 10" in out.output
    assert "n0" in out.output


def test_cli_run_remote_failure_exits_1_with_the_error(backend: FakeBackend, flows: Path) -> None:
    backend.outcomes["flows.wf"] = lambda i: {
        "phase": "FAILED", "error": {"type": "ValueError", "message": "no negatives", "node": "n0"}}
    out = cli(backend, "run", "--remote", str(flows / "flows.py"), "wf", "--x", "-1")
    assert out.exit_code == 1
    assert "FAILED: ValueError: no negatives (node n0)" in out.stderr
    bad = cli(backend, "run", "--remote", str(flows / "flows.py"), "wf", "--x", "many")
    assert bad.exit_code == 2 and "input --x expects int, got 'many'" in bad.stderr


def test_cli_logs(backend: FakeBackend, flows: Path) -> None:
    backend.outcomes["flows.wf"] = doubling
    cli(backend, "run", "--remote", "--name", "logged", str(flows / "flows.py"), "wf", "--x", "1")
    backend.logs["logged"] = ["one\n", "two\n"]
    out = cli(backend, "get", "execution", "logged", "--logs", "n0", "--follow")
    assert out.exit_code == 0, out.output
    assert out.stdout == "one\ntwo\n"


def test_cli_without_a_server_says_how_to_start_one(plait_home: Path) -> None:
    out = CliRunner().invoke(main, ["get", "executions"], obj={"remote": {"autostart": False}})
    assert out.exit_code == 1
    assert "no plait server is running: start one with `plait server`" in out.output


# ------------------------------------------------------------------ a busy server


def test_a_busy_server_is_asked_again_after_retry_after_backing_off(backend: FakeBackend, flows: Path) -> None:
    waits: list[tuple[str, float]] = []
    remote = Remote(ENDPOINT, token=TOKEN, transport=backend.transport(), autostart=False,
                    on_busy=lambda message, seconds: waits.append((message, seconds)))
    backend.outcomes["remote_flows.flows.wf"] = doubling
    remote.register(flows)
    backend.refuse_launches = 3
    run = remote.execute(sys.modules["remote_flows.flows"].wf, {"x": 2}, wait=True)
    assert run.outputs == {"o0": 4}
    assert [m for m, _ in waits] == ["project `default` has 3 executions waiting to start"] * 3
    first, second, third = (s for _, s in waits)
    assert 0.1 <= first <= 0.125 and 0.2 <= second <= 0.25 and 0.4 <= third <= 0.5  # at least 0.1 s
    launches = [r for r in backend.requests if r.method == "POST" and r.url.path.endswith("/executions")]
    assert len(launches) == 4


def test_a_server_that_stays_busy_ends_in_backend_busy(backend: FakeBackend, flows: Path) -> None:
    remote = Remote(ENDPOINT, token=TOKEN, transport=backend.transport(), autostart=False, busy_timeout=0.05)
    remote.register(flows)
    backend.refuse_launches = 1000
    with pytest.raises(BackendBusy, match=r"the plait server kept refusing POST /api/v1/executions for 0 s: "
                                          r"project `default` has 3 executions waiting to start"):
        remote.execute(sys.modules["remote_flows.flows"].wf, {"x": 2})


def test_cli_says_the_server_is_busy_while_it_waits(backend: FakeBackend, flows: Path) -> None:
    backend.outcomes["flows.wf"] = doubling
    backend.refuse_launches = 1
    out = cli(backend, "run", "--remote", str(flows / "flows.py"), "wf", "--x", "5")
    assert out.exit_code == 0, out.output
    assert out.stdout.strip() == "10"
    assert ("plait: the server is busy (project `default` has 3 executions waiting to start); "
            "trying again in 0 s") in out.stderr
