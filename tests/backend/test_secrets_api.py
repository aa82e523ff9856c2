"""The secret routes of the API, and the launch-time check that every secret a run's tasks
request exists. The real app, a real SQLite store; the executor records and runs nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import plait
import pytest
from fakes import PYTHON, RecordingExecutor
from fastapi.testclient import TestClient
from plait import Secret
from plait.backend.api import create_app
from plait.backend.config import Settings
from plait.backend.storage import ObjectStore
from plait.backend.store import Database

TOKEN = "secrets-token-0123456789"
VALUE = "s3cr3t-Value-that-must-not-leak"


@plait.task(secret_requests=[Secret(group="db", key="password")])
def uses_password(x: int) -> int:
    return x


@plait.task(secret_requests=[Secret(key="API_KEY", env_var="API_KEY")])
def uses_api_key(x: int) -> int:
    return x


@plait.task
def plain(x: int) -> int:
    return x


@plait.task(secret_requests=[Secret(group="alerts", key="webhook")])
def on_failure_handler(x: int, err: plait.FlyteError | None = None) -> None:
    return None


@plait.workflow
def inner(x: int) -> int:
    return uses_api_key(x=plain(x=x))


@plait.workflow
def with_subworkflow(x: int) -> int:
    return inner(x=x)


@plait.workflow
def with_map(xs: list[int]) -> list[int]:
    return plait.map(uses_password)(x=xs)


@plait.workflow
def with_branch(x: int) -> int:
    return plait.conditional("sign").if_(x > 0).then(uses_password(x=x)).else_().then(plain(x=x))


inner_lp = plait.LaunchPlan.get_or_create(inner, name="inner_lp")


@plait.workflow
def with_launch_plan(x: int) -> int:
    return inner_lp(x=x)


@plait.workflow(on_failure=on_failure_handler)
def with_handler(x: int) -> int:
    return plain(x=x)


class Api:
    def __init__(self, client: TestClient, db: Database, home: Path) -> None:
        self.client, self.db, self.home = client, db, home

    def launch(self, kind: str, name: str, inputs: dict[str, Any], **extra: Any) -> Any:
        return self.client.post("/api/v1/executions", json={"kind": kind, "name": name, "inputs": inputs, **extra})

    def secret(self, name: str, value: str = VALUE, **scope: Any) -> Any:
        return self.client.post("/api/v1/secrets", json={"name": name, "value": value, **scope})


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = Settings.from_env(env={}, home=str(tmp_path / "home"))
    db = Database(settings.database_url)
    db.migrate()
    app = create_app(settings, db, ObjectStore(settings.storage_url), RecordingExecutor(), token=TOKEN)
    with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield Api(client, db, settings.home)
    db.dispose()


# ------------------------------------------------------------------ the routes


def test_a_secret_is_created_listed_replaced_and_deleted_and_no_answer_holds_its_value(api: Api) -> None:
    created = api.secret("db/password")
    assert created.status_code == 201, created.text
    assert set(created.json()) == {"name", "project", "domain", "created_at", "updated_at"}
    assert (created.json()["name"], created.json()["domain"]) == ("db/password", None)
    assert api.secret("API_KEY", domain="staging").json()["domain"] == "staging"

    listed = api.client.get("/api/v1/secrets").json()["secrets"]
    assert [(s["name"], s["domain"]) for s in listed] == [("API_KEY", "staging"), ("db/password", None)]
    seen = api.client.get("/api/v1/secrets", params={"domain": "development"}).json()["secrets"]
    assert [s["name"] for s in seen] == ["db/password"]  # staging's is not development's

    replaced = api.client.put("/api/v1/secrets", json={"name": "db/password", "value": "another"})
    assert replaced.status_code == 200 and replaced.json()["updated_at"] > replaced.json()["created_at"]
    made = api.client.put("/api/v1/secrets", json={"name": "fresh", "domain": "production", "value": VALUE})
    assert made.status_code == 201

    assert api.client.delete("/api/v1/secrets", params={"name": "db/password"}).status_code == 204
    gone = api.client.delete("/api/v1/secrets", params={"name": "db/password"})
    assert (gone.status_code, gone.json()["message"]) == (404, (
        "secret `db/password` does not exist in project `default` (every domain); "
        "`plait get secrets --project default` lists the project's secrets"))
    assert api.client.delete("/api/v1/secrets", params={"name": "API_KEY"}).status_code == 404  # only staging has one
    assert api.client.delete("/api/v1/secrets", params={"name": "API_KEY", "domain": "staging"}).status_code == 204
    everything = " ".join(r.text for r in (created, replaced, made, api.client.get("/api/v1/secrets")))
    assert VALUE not in everything and "another" not in everything


def test_a_name_taken_in_its_scope_is_a_conflict_that_says_how_to_replace_it(api: Api) -> None:
    assert api.secret("API_KEY").status_code == 201
    assert api.secret("API_KEY", domain="development").status_code == 201  # another scope
    again = api.secret("API_KEY", domain="development")
    assert (again.status_code, again.json()["message"]) == (409, (
        "secret `API_KEY` already exists in project `default`, domain `development`; replace its value "
        "with `plait create secret API_KEY --project default --domain development --overwrite`, or "
        "delete it first"))
    assert VALUE not in again.text


@pytest.mark.parametrize("name", ["a b", "db/", "/password", "g/k/extra", "../etc", "é", ".hidden", "x" * 256,
                                  "tab\tname"])
def test_a_name_that_is_no_file_or_variable_name_is_refused_naming_the_field(api: Api, name: str) -> None:
    answer = api.secret(name)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == "name"
    assert "is not valid: use a key (`API_KEY`) or a group and a key (`db/password`)" in answer.json()["message"]


@pytest.mark.parametrize("value, message", [
    ("", "`value`: the value is empty; a secret needs a value"),
    ("a\x00b", "`value`: the value holds a NUL character, which an environment variable cannot hold"),
    ("v" * 65537, "`value`: the value has 65537 characters, more than the 65536 a secret may hold"),
])
def test_a_value_that_cannot_be_given_to_a_task_is_refused_without_showing_it(
    api: Api, value: str, message: str
) -> None:
    answer = api.secret("k", value)
    assert (answer.status_code, answer.json()["field"]) == (422, "value")
    assert answer.json()["message"].startswith(message)
    assert "a\x00b" not in answer.text and "vvvv" not in answer.text


def test_the_scope_must_exist_and_be_valid(api: Api) -> None:
    missing = api.secret("k", project="nope")
    assert (missing.status_code, missing.json()["message"]) == (
        404, "project `nope` does not exist; create it first (POST /api/v1/projects)")
    bad = api.secret("k", domain="qa")
    assert (bad.status_code, bad.json()["field"]) == (422, "domain")


def test_every_secret_route_needs_the_token(api: Api) -> None:
    anonymous = TestClient(api.client.app)
    for method, path in [("POST", "/api/v1/secrets"), ("GET", "/api/v1/secrets"),
                         ("PUT", "/api/v1/secrets"), ("DELETE", "/api/v1/secrets?name=k")]:
        answer = anonymous.request(method, path, json={"name": "k", "value": VALUE},
                                   headers={"Authorization": "Bearer wrong"})
        assert answer.status_code == 401, (method, path)
    assert api.client.get("/api/v1/secrets").json() == {"secrets": []}  # nothing was stored


def test_the_database_holds_the_value_encrypted_with_the_homes_key(api: Api) -> None:
    assert api.secret("db/password").status_code == 201
    with sqlite3.connect(api.home / "plait.db") as raw:
        [row] = raw.execute("SELECT * FROM secrets").fetchall()
    assert VALUE not in repr(row)
    token = row[4]
    assert token.startswith("gAAAAA")  # a Fernet token
    from cryptography.fernet import Fernet

    key = (api.home / "secrets.key").read_bytes().strip()
    assert Fernet(key).decrypt(token.encode()).decode() == VALUE
    assert VALUE.encode() not in (api.home / "plait.db").read_bytes()


# ------------------------------------------------------------------ at launch


def _register(api: Api, *entities: Any) -> None:
    answer = api.client.post("/api/v1/register", json={"python_version": PYTHON, "version": "v1",
                                                       "specs": [e.to_spec() for e in entities]})
    assert answer.status_code == 201, answer.text


def _missing(task: Any, secret: str) -> str:
    return (f"task {task.name} requests secret {secret}, which project default / domain development does "
            f"not have; create it with `plait create secret {secret} --project default --domain "
            "development` (or without --domain for every domain of the project)")


def test_a_task_launched_without_its_secret_is_refused_naming_both(api: Api) -> None:
    _register(api, uses_password)
    answer = api.launch("task", uses_password.name, {"x": 1})
    assert (answer.status_code, answer.json()["message"]) == (422, _missing(uses_password, "db/password"))
    assert api.secret("db/password", domain="staging").status_code == 201  # not this domain's
    assert api.launch("task", uses_password.name, {"x": 1}).status_code == 422
    assert api.secret("db/password", domain="development").status_code == 201
    assert api.launch("task", uses_password.name, {"x": 1}).status_code == 201


@pytest.mark.parametrize("workflow, task, secret", [
    (with_subworkflow, uses_api_key, "API_KEY"),
    (with_map, uses_password, "db/password"),
    (with_branch, uses_password, "db/password"),
    (with_launch_plan, uses_api_key, "API_KEY"),
    (with_handler, on_failure_handler, "alerts/webhook"),
], ids=["subworkflow", "map", "branch", "launch plan node", "failure handler"])
def test_every_task_a_workflow_can_run_is_checked(api: Api, workflow: Any, task: Any, secret: str) -> None:
    _register(api, uses_password, uses_api_key, plain, on_failure_handler, inner, inner_lp, workflow)
    inputs = {"xs": [1, 2]} if workflow is with_map else {"x": 1}
    for kind in ("workflow", "launch_plan"):
        answer = api.launch(kind, workflow.name, inputs)
        assert (answer.status_code, answer.json()["message"]) == (422, _missing(task, secret)), kind
    assert api.secret(secret).status_code == 201  # for every domain of the project
    assert api.launch("workflow", workflow.name, inputs).status_code == 201


def test_a_relaunch_is_refused_once_the_secret_is_gone(api: Api) -> None:
    _register(api, uses_password)
    api.secret("db/password")
    first = api.launch("task", uses_password.name, {"x": 1}).json()["id"]
    assert api.client.delete("/api/v1/secrets", params={"name": "db/password"}).status_code == 204
    again = api.client.post(f"/api/v1/executions/{first}/relaunch")
    assert (again.status_code, again.json()["message"]) == (422, _missing(uses_password, "db/password"))


def test_tasks_without_secrets_launch_as_before(api: Api) -> None:
    _register(api, plain)
    assert api.launch("task", plain.name, {"x": 1}).status_code == 201
