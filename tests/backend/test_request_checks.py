"""Bad input is refused before anything is stored, and what is stored always renders.

Python's JSON parser (FastAPI's) accepts lone surrogates (`"\\ud800"`), NaN,
Infinity and 1e400. An execution launched with one used to be committed and
submitted, then its answer failed (a 500: the client never got its id) and its
pages failed for good. Every launch is now checked first: a 422 names the field,
and no execution exists afterwards. Rows stored before the checks still render,
with U+FFFD in place of what is not text.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import plait
import pytest
from fakes import PYTHON, RecordingExecutor
from fastapi.testclient import TestClient
from plait.backend.api import create_app
from plait.backend.config import Settings
from plait.backend.storage import ObjectStore
from plait.backend.store import Database, queries

TOKEN = "checks-token"
SURROGATE_HINT = ("which is not Unicode text; send valid UTF-8 (in JSON, a \\ud800-\\udfff escape must be "
                  "one of a high-low pair)")


@plait.task
def scale_rows(text: str, scale: float, weights: list[float], note: str | None = None) -> str:
    return text


@plait.workflow
def scaled(text: str) -> str:
    return scale_rows(text=text, scale=1.0, weights=[1.0])


NOTES = plait.LaunchPlan.get_or_create(scaled, "scaled_with_notes",
                                       annotations=plait.Annotations({"notes": "n" * 200_000}))


@dataclasses.dataclass
class Api:
    client: TestClient
    executor: RecordingExecutor
    db: Database

    def launch(self, body: dict[str, Any], raw: str | None = None) -> Any:
        """POST /executions with `body` as Python's json writes it (NaN, Infinity, \\ud800 escapes)."""
        text = json.dumps({"kind": "task", "name": scale_rows.name, **body})
        if raw is not None:
            text = text.replace("123456.5", raw)
        return self.client.post("/api/v1/executions", content=text,
                                headers={"Content-Type": "application/json"})

    def launched(self) -> tuple[list[str], list[str]]:
        """What the executor was handed, and what the list shows."""
        listed = [e["id"] for e in self.client.get("/api/v1/executions").json()["items"]]
        return list(self.executor.submitted), listed


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    settings = Settings.from_env(env={}, home=str(tmp_path_factory.mktemp("checks")))
    db = Database(settings.database_url)
    db.migrate()
    executor = RecordingExecutor()
    app = create_app(settings, db, ObjectStore(settings.storage_url), executor, token=TOKEN)
    with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        specs = [scale_rows.to_spec(), scaled.to_spec(), plait.model.spec_of(NOTES).to_dict()]
        registered = client.post("/api/v1/register", json={"python_version": PYTHON, "version": "v1",
                                                           "specs": specs})
        assert registered.status_code == 201, registered.text
        yield Api(client, executor, db)
    db.dispose()


GOOD = {"text": "a", "scale": 1.0, "weights": [1.0, 2.0]}

# (request fields, raw text for the 123456.5 placeholder, field named, message or None)
CASES: list[tuple[str, dict[str, Any], str | None, str, str | None]] = [
    ("surrogate-input", {"inputs": {**GOOD, "text": "ok \ud800"}}, None, "inputs.text",
     f"`inputs.text` has a lone surrogate ('\\ud800' at character 3), {SURROGATE_HINT}"),
    ("surrogate-optional", {"inputs": {**GOOD, "note": "\udfff"}}, None, "inputs.note", None),
    ("surrogate-label", {"inputs": GOOD, "settings": {"labels": {"team": "\ud800"}}}, None,
     "settings.labels.team", f"`settings.labels.team` has a lone surrogate ('\\ud800' at character 0), "
     f"{SURROGATE_HINT}"),
    ("surrogate-label-key", {"inputs": GOOD, "settings": {"labels": {"t\udc80": "ml"}}}, None,
     "settings.labels", f"`settings.labels` has a key `'t\\udc80'` that has a lone surrogate ('\\udc80' at "
     f"character 1), {SURROGATE_HINT}"),
    ("surrogate-annotation", {"inputs": GOOD, "settings": {"annotations": {"note": "\ud800"}}}, None,
     "settings.annotations.note", None),
    ("surrogate-env", {"inputs": GOOD, "settings": {"envs": {"REGION": "eu\ud800"}}}, None,
     "settings.envs.REGION", None),
    ("surrogate-name", {"name": "x\ud800", "inputs": GOOD}, None, "name", None),
    ("surrogate-version", {"version": "\ud800", "inputs": GOOD}, None, "version", None),
    ("nan", {"inputs": {**GOOD, "scale": float("nan")}}, None, "inputs.scale",
     "`inputs.scale` is NaN; numbers must be finite (JSON has no NaN): send a number, or null for an "
     "Optional value"),
    ("nan-in-list", {"inputs": {**GOOD, "weights": [1.0, float("nan")]}}, None, "inputs.weights[1]", None),
    ("infinity", {"inputs": {**GOOD, "scale": float("inf")}}, None, "inputs.scale",
     "`inputs.scale` is Infinity, or a number beyond ±1.8e308 that a float cannot hold; numbers must be "
     "finite: send one within range"),
    ("minus-infinity", {"inputs": {**GOOD, "scale": float("-inf")}}, None, "inputs.scale",
     "`inputs.scale` is -Infinity, or a number beyond ±1.8e308 that a float cannot hold; numbers must be "
     "finite: send one within range"),
    ("1e400", {"inputs": {**GOOD, "scale": 123456.5}}, "1e400", "inputs.scale", None),
    ("-1e400-in-list", {"inputs": {**GOOD, "weights": [123456.5]}}, "-1e400", "inputs.weights[0]", None),
    ("env-with-equals", {"inputs": GOOD, "settings": {"envs": {"A=B": "1"}}}, None, "settings.envs.A=B",
     "`settings.envs.A=B`: an environment variable name cannot contain '='; to set A to 'B', send "
     '{"A": "B"}'),
    ("env-empty-name", {"inputs": GOOD, "settings": {"envs": {"": "1"}}}, None, "settings.envs.",
     "`settings.envs` has a variable with an empty name; give it a name"),
    ("env-nul-name", {"inputs": GOOD, "settings": {"envs": {"A\x00": "1"}}}, None, "settings.envs.'A\\x00'",
     "`settings.envs.'A\\x00'`: an environment variable name cannot contain a NUL character; remove it"),
    ("env-nul-value", {"inputs": GOOD, "settings": {"envs": {"A": "x\x00y"}}}, None, "settings.envs.A",
     "`settings.envs.A`: an environment variable value cannot contain a NUL character; remove it, or "
     "pass binary data as an input"),
    ("label-key", {"inputs": GOOD, "settings": {"labels": {"team name": "ml"}}}, None,
     "settings.labels.team name",
     "settings.labels: label key 'team name' is not a valid Kubernetes key: expected an optional DNS "
     "prefix and '/', then at most 63 letters, digits, '-', '_' or '.' that start and end with a letter "
     "or digit, got 'team name'; write 'team-name'"),
    ("label-value", {"inputs": GOOD, "settings": {"labels": {"team": "machine learning"}}}, None,
     "settings.labels.team", None),
    ("annotation-key", {"inputs": GOOD, "settings": {"annotations": {"-bad": "free text is fine"}}}, None,
     "settings.annotations.-bad", None),
    ("2MB-of-envs", {"inputs": GOOD, "settings": {"envs": {"BIG": "x" * 2_000_000}}}, None, "settings.envs",
     "`settings.envs` holds 1953 KiB of environment variables; at most 64 KiB are accepted; put larger "
     "settings in a file the task reads, and secrets in the secret store"),
    ("1MB-of-annotations", {"inputs": GOOD, "settings": {"annotations": {"note": "x" * 1_000_000}}}, None,
     "settings.annotations",
     "`settings.annotations` holds 976 KiB of annotations; at most 128 KiB are accepted"),
    ("many-labels", {"inputs": GOOD, "settings": {"labels": {f"label-{i}": "v" * 60 for i in range(300)}}},
     None, "settings.labels", None),
]


@pytest.mark.parametrize(("fields", "raw", "field", "message"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_is_a_422_naming_the_field_and_nothing_is_launched(
        api: Api, fields: dict[str, Any], raw: str | None, field: str, message: str | None) -> None:
    before = api.launched()
    answer = api.launch(fields, raw)
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["field"] == field
    if message is not None:
        assert body["message"] == message
    assert api.launched() == before


def test_settings_merged_with_the_launch_plan_are_bounded_as_a_whole(api: Api) -> None:
    before = api.launched()
    text = json.dumps({"kind": "launch_plan", "name": NOTES.name, "inputs": {"text": "a"},
                       "settings": {"annotations": {"more": "m" * 100_000}}})
    answer = api.client.post("/api/v1/executions", content=text, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422
    assert answer.json()["field"] == "settings"
    assert answer.json()["message"] == (
        "`settings` would be 293 KiB with the launch plan's labels and annotations; at most 256 KiB are "
        "accepted")
    assert api.launched() == before


def test_good_input_still_launches(api: Api) -> None:
    answer = api.launch({"inputs": {**GOOD, "text": "naïve 😀"},
                         "settings": {"envs": {"my-var": "1", "REGION": "eu"}, "labels": {"team": "ml"},
                                      "annotations": {"example.com/owner": "Zoë 😀"}}})
    assert answer.status_code == 201, answer.text
    assert answer.json()["inputs"]["text"]["literal"] == "naïve 😀"
    assert api.executor.submitted[-1] == answer.json()["id"]


def test_registrations_and_projects_are_checked_too(api: Api) -> None:
    spec = scale_rows.to_spec()
    spec["docs"] = {"short": "fine", "long": "\ud800"}
    body = json.dumps({"python_version": PYTHON, "specs": [spec]})
    answer = api.client.post("/api/v1/register", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422 and answer.json()["field"] == "specs[0].docs.long"
    spec = scale_rows.to_spec()
    spec["interface"]["inputs"]["note"]["default"] = float("nan")
    body = json.dumps({"python_version": PYTHON, "specs": [spec]})
    answer = api.client.post("/api/v1/register", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422 and answer.json()["field"] == "specs[0].interface.inputs.note.default"
    body = json.dumps({"name": "notes", "description": "\ud800"})
    answer = api.client.post("/api/v1/projects", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422 and answer.json()["field"] == "description"
    assert [p["name"] for p in api.client.get("/api/v1/projects").json()["projects"]] == ["default"]


# ------------------------------------------------------------------ what was stored before the checks


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Api]:
    settings = Settings.from_env(env={}, home=str(tmp_path / "home"))
    db = Database(settings.database_url)
    db.migrate()
    executor = RecordingExecutor()
    app = create_app(settings, db, ObjectStore(settings.storage_url), executor, token=TOKEN)
    with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield Api(client, executor, db)
    db.dispose()


def test_rows_stored_before_the_checks_still_render(fresh: Api) -> None:
    # JSON columns keep a lone surrogate as a `\ud800` escape; text columns (names,
    # descriptions) never held one: the database driver refuses to encode it.
    bad = "bad \ud800 text"
    spec = {**scale_rows.to_spec(), "docs": {"short": "", "long": bad}, "version": "old"}
    with fresh.db.session() as s:
        queries.register_entity(s, kind="task", project="default", domain="development", name=scale_rows.name,
                                version="old", digest="d" * 64, spec=spec)
        queries.create_execution(
            s, id="legacy-run", project="default", domain="development", entity_kind="task",
            entity_name=scale_rows.name, entity_version="old",
            inputs={"text": {"literal": bad}, "scale": {"literal": float("nan")}},
            settings={"labels": {"team": bad}, "envs": {}})
        queries.upsert_node(s, "legacy-run", "n0", phase="FAILED", entity_name=scale_rows.name, kind="task",
                            inputs={"text": {"literal": bad}}, error={"message": bad})
    shown = "bad \ufffd text"
    execution = fresh.client.get("/api/v1/executions/legacy-run")
    assert execution.status_code == 200, execution.text
    assert execution.json()["inputs"] == {"text": {"literal": shown}, "scale": {"literal": None}}
    assert execution.json()["settings"]["labels"] == {"team": shown}
    assert fresh.client.get("/api/v1/executions").status_code == 200
    nodes = fresh.client.get("/api/v1/executions/legacy-run/nodes")
    assert nodes.status_code == 200 and nodes.json()["nodes"][0]["error"] == {"message": shown}
    task = fresh.client.get(f"/api/v1/tasks/{scale_rows.name}")
    assert task.status_code == 200 and task.json()["spec"]["docs"]["long"] == shown
    assert fresh.client.get(f"/api/v1/tasks/{scale_rows.name}/dag").status_code == 200
    abort = fresh.client.post("/api/v1/executions/legacy-run/abort")
    assert abort.status_code == 202 and abort.json()["settings"]["labels"] == {"team": shown}
    with fresh.db.session() as s:
        queries.set_execution_phase(s, "legacy-run", "ABORTED")
    again = fresh.client.post("/api/v1/executions/legacy-run/relaunch")
    assert again.status_code == 422 and again.json()["field"] == "inputs.text.literal"
    assert fresh.executor.submitted == []
