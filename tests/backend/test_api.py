"""The HTTP API as the lab extension and `plait.Remote` use it.

A real SQLite database and object store in a temporary folder; the executor
is a recorder with the Executor interface, because these tests are about the
HTTP layer (the executor has its own tests, and the last test here runs the
real `plait server`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import importlib.util
import io
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import plait
import pytest
from fakes import PYTHON, RecordingExecutor
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from plait.backend.api import create_app
from plait.backend.config import Settings
from plait.backend.storage import ObjectStore
from plait.backend.store import Database, queries
from starlette.routing import Route

TOKEN = "test-token-0123456789"


def _load_program(relative: str) -> Any:
    """Import a user-like program from tests/resources (as the top conftest's `resource` does)."""
    path = Path(__file__).parents[1] / "resources" / relative
    name = "res_" + relative.replace("/", "_").removesuffix(".py")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


ORDERS = _load_program("tasks/order_launch_plans.py")


@dataclasses.dataclass
class Point:
    x: int
    y: float


@plait.task
def summarize(scores: list[int], origin: Point, when: dt.datetime, label: str = "total") -> str:
    """Add up scores.

    The long description is not shown in listings.
    """
    return f"{label}: {sum(scores)} at {origin} on {when}"


@plait.workflow
def report(scores: list[int], origin: Point, when: dt.datetime, label: str = "total") -> str:
    """Summarize the scores of one day."""
    return summarize(scores=scores, origin=origin, when=when, label=label)


@dataclasses.dataclass
class Api:
    client: TestClient
    executor: RecordingExecutor
    db: Database
    storage: ObjectStore

    def register(self, *entities: Any, version: str | None = None, **extra: Any) -> httpx.Response:
        body = {"python_version": PYTHON, "specs": [e.to_spec() for e in entities], **extra}
        if version is not None:
            body["version"] = version
        return self.client.post("/api/v1/register", json=body)

    def launch(self, kind: str, name: str, inputs: dict[str, Any], **extra: Any) -> httpx.Response:
        return self.client.post("/api/v1/executions", json={"kind": kind, "name": name, "inputs": inputs, **extra})


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = Settings.from_env(env={}, home=str(tmp_path / "home"))
    db = Database(settings.database_url)
    db.migrate()
    storage = ObjectStore(settings.storage_url)
    executor = RecordingExecutor()
    app = create_app(settings, db, storage, executor, token=TOKEN)
    with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield Api(client, executor, db, storage)
    db.dispose()


REPORT_INPUTS = {
    "scores": [3, 4],
    "origin": {"x": 1, "y": 2.5},
    "when": {"__datetime__": "2024-05-01T12:00:00"},
}


@pytest.fixture
def registered(api: Api) -> Api:
    assert api.register(summarize, report, version="v1").status_code == 201
    assert api.register(ORDERS.describe_order, ORDERS.place_order, ORDERS.fixed_lp, ORDERS.combined_lp,
                        version="v1").status_code == 201
    return api


# ------------------------------------------------------------------ authentication


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)  # FastAPI nests included routers
        if included is not None:
            yield from _api_routes(included.routes)


def test_every_route_answers_401_without_the_token(api: Api) -> None:
    app = api.client.app
    api_routes = list(_api_routes(app.routes))
    assert {r.path for r in api_routes} == set(api.client.get("/openapi.json").json()["paths"])
    routes = [(m, r.path) for r in api_routes for m in r.methods]
    routes += [(m, r.path) for r in app.routes if isinstance(r, Route) for m in r.methods or ()
               if not r.path.startswith("/apps/")]  # an app may be public: its route decides (below)
    routes += [("GET", "/no/such/path"), ("DELETE", "/api/v1/projects")]
    assert len(routes) > 30
    anonymous = TestClient(app)
    for method, path in routes:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"},
                        {"Authorization": TOKEN}, {"Authorization": f"Bearer {TOKEN}x"}):
            response = anonymous.request(method, _concrete(path), headers=headers)
            assert response.status_code == 401, (method, path, headers)
            assert response.headers["www-authenticate"] == "Bearer"
            if method == "HEAD":
                continue
            assert response.json() == {
                "error": "unauthorized",
                "message": "this server needs an `Authorization: Bearer <token>` header with its token",
            }


def test_an_app_path_without_credentials_is_refused_unless_the_app_is_public(api: Api) -> None:
    anonymous = TestClient(api.client.app)
    for method in ("GET", "POST", "HEAD"):
        answer = anonymous.request(method, "/apps/default/development/no-such-app/")
        assert answer.status_code == 401, method  # no such app: nothing public there
    assert anonymous.get("/apps/default/development/x/", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_the_openapi_document_and_docs_need_only_the_token(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert document["paths"]["/api/v1/executions"]["post"]["operationId"] == "create_execution"
    assert api.client.get("/docs").status_code == 200


def test_health_names_the_worker_python(api: Api) -> None:
    health = api.client.get("/api/v1/health").json()
    assert health["worker_python"] == PYTHON and health["worker_resources"]["cpu"] == 2.0


# ------------------------------------------------------------------ projects and uploads


def test_projects_are_listed_created_and_unique(api: Api) -> None:
    assert [p["name"] for p in api.client.get("/api/v1/projects").json()["projects"]] == ["default"]
    created = api.client.post("/api/v1/projects", json={"name": "flytesnacks", "description": "demos"})
    assert created.status_code == 201 and created.json()["description"] == "demos"
    again = api.client.post("/api/v1/projects", json={"name": "flytesnacks"})
    assert again.status_code == 409 and again.json()["message"] == "project `flytesnacks` already exists"
    bad = api.client.post("/api/v1/projects", json={"name": "Has Spaces"})
    assert bad.status_code == 422 and bad.json()["field"] == "name"


def _bundle() -> tuple[bytes, str]:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        source = b"x = 1\n"
        info = tarfile.TarInfo("pipeline.py")
        info.size = len(source)
        tar.addfile(info, io.BytesIO(source))
    data = buffer.getvalue()
    return data, hashlib.sha256(data).hexdigest()


def test_bundles_are_stored_under_their_digest_and_registrations_point_at_them(api: Api) -> None:
    data, digest = _bundle()
    wrong = api.client.put(f"/api/v1/bundles/{'0' * 64}", content=data)
    assert wrong.status_code == 422 and f"the body's sha256 is {digest}" in wrong.json()["message"]
    first = api.client.put(f"/api/v1/bundles/{digest}?python_version={PYTHON}", content=data)
    assert first.json() == {"digest": digest, "size": len(data), "created": True}
    assert api.client.put(f"/api/v1/bundles/{digest}", content=data).json()["created"] is False
    assert api.storage.get_bytes(f"bundles/{digest}.tar.gz") == data

    assert api.register(summarize, bundle_digest=digest).status_code == 201
    task = api.client.get(f"/api/v1/tasks/{summarize.name}").json()
    assert task["bundle_digest"] == digest and task["spec"]["code"]["bundle"] == digest

    missing = api.register(summarize, bundle_digest="f" * 64)
    assert missing.status_code == 422 and missing.json()["field"] == "bundle_digest"
    assert "PUT /api/v1/bundles/" in missing.json()["message"]


def test_by_value_functions_must_be_uploaded_before_registration(api: Api) -> None:
    blob = b"cloudpickled bytes the server never loads"
    digest = hashlib.sha256(blob).hexdigest()
    spec = summarize.to_spec()
    spec["code"] = {"pickle": digest, "module": None, "qualname": "summarize"}
    body = {"python_version": PYTHON, "specs": [spec]}
    refused = api.client.post("/api/v1/register", json=body)
    assert refused.status_code == 422 and refused.json()["field"] == "specs[0].code.pickle"
    assert api.client.put(f"/api/v1/functions/{digest}", content=blob).json()["created"] is True
    assert api.client.post("/api/v1/register", json=body).status_code == 201


# ------------------------------------------------------------------ registration


def test_registering_the_same_content_twice_changes_nothing(api: Api) -> None:
    first = api.register(summarize, report)
    assert first.status_code == 201
    body = first.json()
    assert body["created"] is True and len(body["version"]) == 16
    assert {(e["kind"], e["name"]) for e in body["entities"]} == {
        ("task", summarize.name), ("workflow", report.name), ("launch_plan", report.name)
    }
    again = api.register(summarize, report)
    assert again.status_code == 200
    assert again.json()["created"] is False and again.json()["version"] == body["version"]
    assert not any(e["created"] for e in again.json()["entities"])


def test_a_used_version_with_other_content_is_a_conflict(api: Api) -> None:
    assert api.register(ORDERS.describe_order, version="v1").status_code == 201
    other = ORDERS.describe_order.to_spec()
    other["docs"] = {"short": "Describe an order in other words.", "long": ""}
    response = api.client.post(
        "/api/v1/register", json={"python_version": PYTHON, "version": "v1", "specs": [other]}
    )
    assert response.status_code == 409
    assert re.search(
        rf"task `{re.escape(ORDERS.describe_order.name)}` version `v1` is already registered .*"
        "with other content.*register under a new version",
        response.json()["message"],
    )
    assert api.client.get(f"/api/v1/tasks/{ORDERS.describe_order.name}").json()["description"] == ""


def test_every_workflow_gets_its_default_launch_plan(registered: Api) -> None:
    plan = registered.client.get(f"/api/v1/launch_plans/{report.name}").json()
    assert plan["spec"] == plait.model.spec_of(plait.LaunchPlan.get_or_create(report)).to_dict() | {
        "version": plan["spec"]["version"]
    }
    assert plan["description"] == "Summarize the scores of one day."
    names = [p["name"] for p in registered.client.get("/api/v1/launch_plans").json()["items"]]
    assert names == sorted([report.name, ORDERS.place_order.name, "orders_with_fixed", "orders_combined"])


def test_registration_refuses_code_from_another_python(api: Api) -> None:
    api.executor.python = "3.9"
    response = api.register(summarize)
    assert response.status_code == 422
    assert response.json()["field"] == "python_version"
    assert response.json()["message"] == (
        f"this code was registered from Python {PYTHON}, but the backend's workers run Python 3.9; "
        f"register from a Python 3.9 environment, or run workers with Python {PYTHON}"
    )


def test_malformed_specs_are_refused_naming_the_spec(api: Api) -> None:
    good = summarize.to_spec()
    bad = {"kind": "task", "name": "broken", "version": "1"}
    response = api.client.post("/api/v1/register", json={"python_version": PYTHON, "specs": [good, bad]})
    assert response.status_code == 422
    assert response.json()["field"] == "specs[1]"
    assert response.json()["message"] == "specs[1]: task `broken`: missing field `interface`"
    assert api.client.get("/api/v1/tasks").json()["items"] == []
    missing = api.client.post("/api/v1/register", json={"specs": [good]})
    assert missing.status_code == 422 and missing.json()["field"] == "python_version"


def test_references_must_exist_and_are_not_stored_again(registered: Api) -> None:
    name = ORDERS.describe_order.name

    @plait.reference_task(project="default", domain="development", name=name, version="v1")
    def describe_order(count: int, item: str) -> str: ...

    @plait.reference_task(project="default", domain="development", name=name, version="v9")
    def missing_order(count: int, item: str) -> str: ...

    response = registered.register(describe_order, version="v2")
    assert response.status_code == 200 and response.json()["entities"] == []
    assert [v["version"] for v in registered.client.get(f"/api/v1/tasks/{name}/versions").json()["items"]] == ["v1"]
    missing = registered.register(missing_order, version="v2")
    assert missing.status_code == 422 and missing.json()["field"] == "specs[0].reference"
    assert missing.json()["message"] == (
        f"specs[0] is a reference, but task `{name}` version `v9` is not registered in default/development"
    )


# ------------------------------------------------------------------ entities


def test_entities_list_their_newest_version_with_docstrings(registered: Api) -> None:
    assert registered.register(summarize, report, version="v2").status_code == 201
    listing = registered.client.get("/api/v1/tasks", params={"name_contains": "SUMMAR"}).json()
    assert [(i["name"], i["version"], i["version_count"]) for i in listing["items"]] == [
        (summarize.name, "v2", 2)
    ]
    assert listing["items"][0]["description"] == "Add up scores."
    versions = registered.client.get(f"/api/v1/tasks/{summarize.name}/versions").json()["items"]
    assert [v["version"] for v in versions] == ["v2", "v1"]
    old = registered.client.get(f"/api/v1/workflows/{report.name}", params={"version": "v1"}).json()
    assert old["version"] == "v1" and old["spec"]["name"] == report.name
    missing = registered.client.get("/api/v1/workflows/nope")
    assert missing.status_code == 404
    assert missing.json() == {"error": "not_found", "message": "workflow `nope` is not registered in default/development"}


def test_lists_page_with_a_capped_limit(registered: Api) -> None:
    first = registered.client.get("/api/v1/launch_plans", params={"limit": 3}).json()
    assert len(first["items"]) == 3 and first["next_offset"] == 3
    rest = registered.client.get("/api/v1/launch_plans", params={"limit": 3, "offset": 3}).json()
    assert len(rest["items"]) == 1 and rest["next_offset"] is None
    too_many = registered.client.get("/api/v1/tasks", params={"limit": 501})
    assert too_many.status_code == 422 and too_many.json()["field"] == "limit"
    assert registered.client.get("/api/v1/tasks", params={"domain": "qa"}).json()["field"] == "domain"


def test_archived_entities_leave_the_listing_until_unarchived(registered: Api) -> None:
    archived = registered.client.post(f"/api/v1/workflows/{report.name}/archive").json()
    assert archived["archived"] is True
    names = [w["name"] for w in registered.client.get("/api/v1/workflows").json()["items"]]
    assert report.name not in names
    shown = registered.client.get("/api/v1/workflows", params={"archived": True}).json()["items"]
    assert [w["name"] for w in shown] == [report.name]
    registered.client.post(f"/api/v1/workflows/{report.name}/unarchive")
    names = [w["name"] for w in registered.client.get("/api/v1/workflows").json()["items"]]
    assert report.name in names
    assert registered.client.post("/api/v1/tasks/nope/archive").status_code == 404


# ------------------------------------------------------------------ executions


def _literals(execution: dict[str, Any]) -> dict[str, Any]:
    return {name: ref["literal"] for name, ref in execution["inputs"].items()}


def test_an_execution_starts_queued_with_its_inputs_as_literals(registered: Api) -> None:
    response = registered.launch("workflow", report.name, REPORT_INPUTS,
                                 settings={"name": "daily-report", "labels": {"team": "ml"}})
    assert response.status_code == 201
    execution = response.json()
    assert execution["id"] == "daily-report" and execution["phase"] == "QUEUED"
    assert execution["entity"] == {"kind": "workflow", "name": report.name, "version": "v1"}
    assert _literals(execution) == {
        "scores": [3, 4],
        "origin": {"x": 1, "y": 2.5},
        "when": {"__datetime__": "2024-05-01T12:00:00"},
        "label": "total",
    }
    assert execution["inputs"]["label"]["hash"] == "s:'total'"  # as the local engine hashes it
    assert execution["settings"]["labels"] == {"team": "ml"}
    assert registered.executor.submitted == ["daily-report"]
    assert registered.client.get("/api/v1/executions/daily-report").json()["phase"] == "QUEUED"
    taken = registered.launch("workflow", report.name, REPORT_INPUTS, settings={"name": "daily-report"})
    assert taken.status_code == 409 and "already exists" in taken.json()["message"]
    assert registered.executor.submitted == ["daily-report"]


def test_a_task_runs_by_itself_at_a_given_version(registered: Api) -> None:
    response = registered.launch("task", ORDERS.describe_order.name, {"count": 2, "item": "eggs"}, version="v1")
    assert response.status_code == 201
    assert response.json()["entity"]["kind"] == "task" and response.json()["launch_plan"] is None


def test_a_literal_of_the_wrong_type_is_named_with_both_types(registered: Api) -> None:
    response = registered.launch("workflow", report.name, {**REPORT_INPUTS, "scores": [3, "four"]})
    assert response.status_code == 422
    body = response.json()
    assert (body["error"], body["input"], body["expected"], body["found"]) == (
        "invalid_input", "scores", "list[int]", "list[int | str]"
    )
    assert body["message"] == (
        f"input `scores` of `{report.name}`: expected list[int], got list[int | str]: "
        "at `[1]`, expected int, got str"
    )
    assert registered.executor.submitted == []


def test_missing_and_unknown_inputs_are_all_reported(registered: Api) -> None:
    inputs = {k: v for k, v in REPORT_INPUTS.items() if k != "origin"} | {"colour": "red"}
    body = registered.launch("workflow", report.name, inputs).json()
    assert body["problems"] == [
        {"input": "colour", "expected": None, "found": "str",
         "message": f"`{report.name}` has no input `colour`; its inputs: scores, origin, when, label"},
        {"input": "origin", "expected": "Point", "found": "nothing",
         "message": f"`{report.name}` needs input `origin` (Point); none was given"},
    ]
    assert (body["input"], body["found"]) == ("colour", "str")


def test_launch_plans_merge_default_and_fixed_inputs(registered: Api) -> None:
    response = registered.launch("launch_plan", "orders_combined", {})
    assert response.status_code == 201
    execution = response.json()
    assert _literals(execution) == {"count": 200, "item": "flour"}
    assert execution["entity"] == {"kind": "workflow", "name": ORDERS.place_order.name, "version": "v1"}
    assert execution["launch_plan"] == {"kind": "launch_plan", "name": "orders_combined", "version": "v1"}
    override = registered.launch("launch_plan", "orders_combined", {"item": "rye"}).json()
    assert _literals(override)["item"] == "rye"


def test_a_fixed_launch_plan_input_cannot_be_overridden(registered: Api) -> None:
    response = registered.launch("launch_plan", "orders_with_fixed", {"count": 3, "item": "eggs"})
    assert response.status_code == 422
    body = response.json()
    assert (body["input"], body["expected"], body["found"]) == ("count", "int", "int")
    assert body["message"] == (
        "input `count` is fixed to 100 by launch plan `orders_with_fixed` and cannot be "
        "overridden; leave it out, or launch the workflow or another launch plan"
    )


def test_settings_are_checked(registered: Api) -> None:
    response = registered.launch("task", ORDERS.describe_order.name, {"count": 1, "item": "x"},
                                 settings={"max_parallelism": 0})
    assert response.status_code == 422 and response.json()["field"] == "settings.max_parallelism"
    response = registered.launch("task", ORDERS.describe_order.name, {"count": 1, "item": "x"},
                                 settings={"name": "Bad Name"})
    assert response.status_code == 422 and response.json()["field"] == "settings.name"


def _end(api: Api, execution_id: str, phase: str) -> None:
    with api.db.session() as s:
        queries.set_execution_phase(s, execution_id, "RUNNING")
        queries.set_execution_phase(s, execution_id, phase)


def test_abort_flags_the_execution_and_tells_the_executor(registered: Api) -> None:
    execution_id = registered.launch("task", ORDERS.describe_order.name, {"count": 1, "item": "x"}).json()["id"]
    too_long = registered.client.post(f"/api/v1/executions/{execution_id}/abort", json={"reason": "x" * 1001})
    assert too_long.status_code == 422 and "reason" in too_long.text and registered.executor.aborted == []
    response = registered.client.post(f"/api/v1/executions/{execution_id}/abort", json={"reason": "stale data"})
    assert response.status_code == 202 and response.json()["abort_requested"] is True
    assert registered.executor.aborted == [execution_id]
    _end(registered, execution_id, "ABORTED")
    again = registered.client.post(f"/api/v1/executions/{execution_id}/abort")
    assert again.status_code == 409 and "already ended as ABORTED" in again.json()["message"]
    assert registered.client.post("/api/v1/executions/nope/abort").status_code == 404


def test_relaunch_and_recover_create_new_executions(registered: Api) -> None:
    old = registered.launch("launch_plan", "orders_combined", {}, settings={"envs": {"A": "1"}}).json()
    relaunched = registered.client.post(f"/api/v1/executions/{old['id']}/relaunch").json()
    assert relaunched["id"] != old["id"] and relaunched["phase"] == "QUEUED"
    for key in ("entity", "launch_plan", "inputs", "settings"):
        assert relaunched[key] == old[key]

    early = registered.client.post(f"/api/v1/executions/{old['id']}/recover")
    assert early.status_code == 409 and "only failed, aborted or timed-out" in early.json()["message"]
    _end(registered, old["id"], "FAILED")
    recovered = registered.client.post(f"/api/v1/executions/{old['id']}/recover", json={"name": "second-try"})
    assert recovered.status_code == 201
    assert recovered.json()["id"] == "second-try"
    assert recovered.json()["settings"] == {**old["settings"], "recover_from": old["id"]}
    assert registered.executor.submitted == [old["id"], relaunched["id"], "second-try"]
    _end(registered, "second-try", "SUCCEEDED")
    done = registered.client.post("/api/v1/executions/second-try/recover")
    assert done.status_code == 409 and "nothing to recover" in done.json()["message"]


def test_executions_are_listed_newest_first_with_filters(registered: Api) -> None:
    ids = [registered.launch("task", ORDERS.describe_order.name, {"count": n, "item": "x"}).json()["id"]
           for n in range(3)]
    _end(registered, ids[0], "SUCCEEDED")
    listing = registered.client.get("/api/v1/executions").json()
    assert [e["id"] for e in listing["items"]] == ids[::-1]
    assert not {"inputs", "outputs", "settings"} & set(listing["items"][0])  # values: GET by id
    one = registered.client.get(f"/api/v1/executions/{ids[0]}").json()
    assert one["inputs"]["count"]["literal"] == 0 and "settings" in one
    queued = registered.client.get("/api/v1/executions", params={"phase": ["QUEUED", "RUNNING"]}).json()
    assert [e["id"] for e in queued["items"]] == ids[:0:-1]
    by_name = registered.client.get("/api/v1/executions", params={"name": report.name}).json()
    assert by_name["items"] == []
    assert registered.client.get("/api/v1/executions", params={"phase": "DONE"}).status_code == 422


def test_logs_are_read_from_an_offset_to_follow_a_running_node(registered: Api) -> None:
    execution_id = registered.launch("task", ORDERS.describe_order.name, {"count": 1, "item": "x"}).json()["id"]
    with registered.db.session() as s:
        queries.upsert_node(s, execution_id, "n0", phase="RUNNING", entity_name="describe_order", kind="task")
    url = f"/api/v1/executions/{execution_id}/nodes/n0/logs"
    waiting = registered.client.get(url).json()
    assert (waiting["attempt"], waiting["text"], waiting["complete"]) == (0, "", False)

    logs = f"executions/{execution_id}/n0/1/logs.txt"
    with registered.db.session() as s:
        attempt = queries.start_attempt(s, execution_id, "n0", worker="w1", logs_uri=logs)
    registered.storage.append_text(logs, "loading…\n")
    first = registered.client.get(url).json()
    assert (first["attempt"], first["text"], first["complete"]) == (1, "loading…\n", False)
    registered.storage.append_text(logs, "done\n")
    second = registered.client.get(url, params={"offset": first["next_offset"]}).json()
    assert (second["offset"], second["text"]) == (first["next_offset"], "done\n")
    with registered.db.session() as s:
        queries.finish_attempt(s, attempt.id, "SUCCEEDED")
    last = registered.client.get(url, params={"offset": second["next_offset"]}).json()
    assert (last["text"], last["complete"]) == ("", True)

    nodes = registered.client.get(f"/api/v1/executions/{execution_id}/nodes").json()["nodes"]
    assert [(n["path"], [a["phase"] for a in n["attempts"]]) for n in nodes] == [("n0", ["SUCCEEDED"])]
    missing = registered.client.get(url, params={"attempt": 2})
    assert missing.status_code == 404 and missing.json()["message"].endswith("has no attempt 2; attempts: 1")
    assert registered.client.get(f"/api/v1/executions/{execution_id}/nodes/n9/logs").status_code == 404


def test_offloaded_values_are_served_as_bytes_only_from_executions(api: Api) -> None:
    path = "executions/e1/n0/1/outputs/o0.pkl"
    api.storage.put_bytes(path, b"\x80\x05pickled")
    response = api.client.get("/api/v1/data", params={"uri": path})
    assert response.content == b"\x80\x05pickled"
    assert response.headers["content-type"] == "application/octet-stream"
    assert api.client.get("/api/v1/data", params={"uri": api.storage.uri(path)}).content == b"\x80\x05pickled"
    missing = api.client.get("/api/v1/data", params={"uri": "executions/e1/n0/1/outputs/o1.pkl"})
    assert missing.status_code == 404
    for elsewhere in ("bundles/x.tar.gz", "executions/../token", "s3://bucket/other.pkl", "/etc/passwd"):
        refused = api.client.get("/api/v1/data", params={"uri": elsewhere})
        assert refused.status_code in (400, 422), elsewhere


def test_data_on_a_folder_a_link_or_a_fifo_is_not_found(api: Api, tmp_path: Path) -> None:
    secret = tmp_path / "home" / "token"
    secret.write_text("not for clients\n")
    root = Path(api.storage.root)
    api.storage.put_bytes("executions/e1/n0/1/outputs/o0.pkl", b"value")
    (root / "executions/e1/n0/1/outputs/link.pkl").symlink_to(secret)
    (root / "executions/e1/n0/1/outputs/inside.pkl").symlink_to(root / "executions/e1/n0/1/outputs/o0.pkl")
    (root / "executions/e2").symlink_to(tmp_path / "home")  # a linked folder
    os.mkfifo(root / "executions/e1/n0/1/outputs/fifo.pkl")  # reading it must not hang
    for uri in ("executions/e1", "executions/e1/n0/1/outputs", "executions/e1/n0/1/outputs/link.pkl",
                "executions/e1/n0/1/outputs/inside.pkl", "executions/e2/token",
                "executions/e1/n0/1/outputs/fifo.pkl", "executions/e1/n0/1/outputs/o0.pkl/x"):
        answer = api.client.get("/api/v1/data", params={"uri": uri})
        assert answer.status_code == 404, (uri, answer.status_code, answer.text)
        assert answer.json() == {"error": "not_found", "message": f"no stored value at `{uri}`"}
    assert api.client.get("/api/v1/data", params={"uri": "executions/e1/n0/1/outputs/o0.pkl"}).content == b"value"


# ------------------------------------------------------------------ the real server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_plait_server_serves_with_a_private_token_and_stops_on_sigterm(tmp_path: Path) -> None:
    home, port = tmp_path / "home", _free_port()
    env = {**os.environ, "PLAIT_HOME": str(home)}
    command = [sys.executable, "-m", "plait", "server", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while not (home / "server.json").exists():
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "the server did not start in 90 s"
            time.sleep(0.2)
        assert json.loads((home / "server.json").read_text()) == {"url": url, "pid": process.pid}
        assert stat.S_IMODE((home / "token").stat().st_mode) == 0o600
        token = (home / "token").read_text().strip()
        assert httpx.get(f"{url}/api/v1/health", timeout=30).status_code == 401
        health = httpx.get(f"{url}/api/v1/health", headers={"Authorization": f"Bearer {token}"}, timeout=60)
        assert health.status_code == 200 and health.json()["worker_python"] == PYTHON
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, output
    assert f"plait server: {url}" in output and "plait server: stopped" in output
    assert not (home / "server.json").exists()
