"""What the JupyterLab extension reads: DAGs of registered entities, recent runs, node versions.

The API on a real SQLite file and a real PostgreSQL database; the executor
is a stand-in that records submissions (these tests are about the HTTP layer
and the store), and execution histories are written with the store's own
query functions at chosen times.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import plait
import pytest
from fakes import PYTHON, RecordingExecutor
from fastapi.testclient import TestClient
from plait.backend.api import create_app
from plait.backend.api.schemas import Dag
from plait.backend.config import Settings
from plait.backend.storage import ObjectStore
from plait.backend.store import Database, queries
from plait.model.dag import MIME
from plait.notebook.dag import dag_of
from plait.sdk.entity import Entity
from sqlalchemy import event

TOKEN = "lab-token-0123456789"
T0 = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)


@plait.task
def double(x: int) -> int:
    return 2 * x


@plait.task
def add(x: int, y: int = 1) -> int:
    return x + y


@plait.workflow
def pair(x: int) -> int:
    return add(x=double(x=x), y=double(x=x))


pair_plan = plait.LaunchPlan.get_or_create(pair, name="pair_plan", default_inputs={"x": 3})


@plait.workflow
def everything(a: int, b: int) -> tuple[int, list[int]]:
    """Every kind of node."""
    d = double(x=a)
    p = pair(x=d)
    m = plait.map(functools.partial(add, y=1))(x=[a, b, d])
    c = plait.conditional("sign").if_(a > 0).then(double(x=p)).else_().then(pair_plan(x=p))
    last = add(x=c, y=b).with_overrides(name="last_add")
    d >> last
    return last, m


def uses(entity: Any) -> list[Any]:
    """The entity and what it uses, as a registration sends them (maps and branches stay inline)."""
    seen: dict[int, Any] = {}

    def visit(e: Any) -> None:
        if isinstance(e, Entity) and id(e) not in seen:
            seen[id(e)] = e
            for sub in (*getattr(e, "entities", list)(), *getattr(e, "sub_entities", list)()):
                visit(sub)

    visit(entity)
    return [e for e in seen.values() if e.kind not in ("map", "branch")]


@dataclasses.dataclass
class Lab:
    client: TestClient
    db: Database
    statements: list[str]

    def register(self, *entities: Any, version: str) -> None:
        specs = {(e.kind, e.name): e.to_spec() for top in entities for e in uses(top)}
        response = self.client.post("/api/v1/register", json={
            "python_version": PYTHON, "version": version, "specs": list(specs.values())})
        assert response.status_code in (200, 201), response.text

    def dag(self, kind: str, name: str, **params: Any) -> httpx.Response:
        return self.client.get(f"/api/v1/{kind}/{name}/dag", params=params)

    def run(self, kind: str, name: str, at: dt.datetime, phase: str = "QUEUED", *, seconds: float = 0,
            launch_plan: str | None = None, project: str = "default") -> str:
        """An execution created at `at`; RUNNING from then, ended `seconds` later for an end phase."""
        with self.db.session() as s:
            record = queries.create_execution(
                s, project=project, domain="development", entity_kind=kind, entity_name=name,
                entity_version="v1", inputs={}, launch_plan_name=launch_plan,
                launch_plan_version="v1" if launch_plan else None, now=at)
            if phase != "QUEUED":
                queries.set_execution_phase(s, record.id, "RUNNING", now=at)
            if phase not in ("QUEUED", "RUNNING"):
                queries.set_execution_phase(s, record.id, phase, now=at + dt.timedelta(seconds=seconds))
        return record.id


@pytest.fixture
def lab(database_url: str, tmp_path: Path) -> Iterator[Lab]:
    settings = Settings.from_env(env={}, home=str(tmp_path / "home"))
    db = Database(database_url)
    db.migrate()
    statements: list[str] = []
    event.listen(db.engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *args: statements.append(statement))
    app = create_app(settings, db, ObjectStore(settings.storage_url), RecordingExecutor(), token=TOKEN)
    with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield Lab(client, db, statements)
    db.dispose()


# ------------------------------------------------------------------ DAGs


def test_a_registered_workflow_has_the_dag_that_plait_dag_draws(lab: Lab) -> None:
    lab.register(everything, version="v1")
    response = lab.dag("workflows", everything.name)
    assert response.status_code == 200
    assert response.headers["content-type"] == MIME
    dag = response.json()
    assert dag == dag_of(everything)
    assert [n["kind"] for n in dag["nodes"]] == ["task", "workflow", "map", "branch", "task"]
    plan = dag["nodes"][3]["cases"][1]["graph"]["nodes"][0]
    assert plan["kind"] == "launch_plan" and plan["graph"]["name"] == pair.name
    # What the document promises is what is sent: every field is in the schema.
    assert Dag.model_validate(dag).model_dump(mode="json", exclude_unset=True) == dag


def test_launch_plans_and_tasks_have_dags(lab: Lab) -> None:
    lab.register(everything, pair_plan, version="v1")
    plan = lab.dag("launch_plans", "pair_plan").json()
    assert plan == dag_of(pair_plan)
    assert (plan["kind"], plan["workflow"], len(plan["nodes"])) == ("launch_plan", pair.name, 3)
    default = lab.dag("launch_plans", everything.name).json()  # the plan registration made
    assert default["workflow"] == everything.name and default["nodes"] == dag_of(everything)["nodes"]
    task = lab.dag("tasks", add.name).json()
    assert task == dag_of(add)
    assert Dag.model_validate(task).model_dump(mode="json", exclude_unset=True) == task


def test_the_dag_is_of_the_version_asked_for_with_the_tasks_of_that_version(lab: Lab) -> None:
    lab.register(pair, version="v1")
    newer = double.to_spec()  # a new version of `double`, taking floats
    newer["interface"]["inputs"]["x"]["type"] = {"kind": "float"}
    lab.client.post("/api/v1/register", json={"python_version": PYTHON, "version": "v2", "specs": [newer]})
    assert lab.dag("workflows", pair.name, version="v1").json()["nodes"][0]["inputs"][0]["type"] == "int"
    lab.client.post("/api/v1/register", json={"python_version": PYTHON, "version": "v3",
                                              "specs": [pair.to_spec()]})
    newest = lab.dag("workflows", pair.name).json()  # v3 has no `double` of its own: its newest is used
    assert newest["nodes"][0]["inputs"][0]["type"] == "float"


def test_an_unknown_entity_or_version_has_no_dag(lab: Lab) -> None:
    lab.register(pair, version="v1")
    missing = lab.dag("workflows", "no.such.workflow")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/json"
    assert missing.json() == {"error": "not_found",
                              "message": "workflow `no.such.workflow` is not registered in default/development"}
    wrong = lab.dag("workflows", pair.name, version="v9")
    assert wrong.status_code == 404
    assert wrong.json()["message"] == f"workflow `{pair.name}` version `v9` is not registered in default/development"
    assert lab.dag("tasks", pair.name).status_code == 404  # a workflow is not a task


@plait.task
def summarize(scores: list[int], origin: str, when: dt.datetime, label: str = "total") -> str:
    return label


def test_inputs_are_listed_in_the_order_they_are_declared(lab: Lab) -> None:
    lab.register(summarize, version="v1")
    dag = lab.dag("tasks", summarize.name).json()
    assert [i["name"] for i in dag["inputs"]] == ["scores", "origin", "when", "label"]
    assert dag == dag_of(summarize)


# ------------------------------------------------------------------ recent executions


def _listing(lab: Lab, kind: str) -> dict[str, dict[str, Any]]:
    response = lab.client.get(f"/api/v1/{kind}")
    assert response.status_code == 200
    return {item["name"]: item for item in response.json()["items"]}


def test_listings_show_the_ten_latest_executions_newest_first(lab: Lab) -> None:
    lab.register(everything, pair_plan, version="v1")
    ids = [lab.run("workflow", pair.name, T0 + dt.timedelta(minutes=i), "SUCCEEDED", seconds=i)
           for i in range(12)]
    running = lab.run("workflow", pair.name, T0 + dt.timedelta(hours=1), "RUNNING")
    item = _listing(lab, "workflows")[pair.name]
    assert [r["id"] for r in item["recent"]] == [running, *ids[:1:-1]][:10]
    assert item["recent"][0]["phase"] == "RUNNING" and item["recent"][0]["duration_s"] > 0
    assert item["recent"][1] == {"id": ids[11], "phase": "SUCCEEDED", "created_at": "2024-05-01T12:11:00Z",
                                 "duration_s": 11.0, "node_path": None, "workflow": None}
    assert item["last_execution_at"] == item["recent"][0]["created_at"]
    quiet = _listing(lab, "workflows")[everything.name]
    assert quiet["recent"] == [] and quiet["last_execution_at"] is None


def test_launch_plans_list_what_was_launched_from_them(lab: Lab) -> None:
    lab.register(everything, pair_plan, version="v1")
    queued = lab.run("workflow", pair.name, T0, launch_plan="pair_plan")
    failed = lab.run("workflow", pair.name, T0 + dt.timedelta(seconds=5), "FAILED", seconds=2.5,
                     launch_plan="pair_plan")
    direct = lab.run("workflow", pair.name, T0 + dt.timedelta(seconds=9))
    task = lab.run("task", add.name, T0, "SUCCEEDED", seconds=1)
    plans = _listing(lab, "launch_plans")
    assert [(r["id"], r["phase"], r["duration_s"]) for r in plans["pair_plan"]["recent"]] == [
        (failed, "FAILED", 2.5), (queued, "QUEUED", None)]
    assert plans[pair.name]["recent"] == []  # the default plan of `pair` launched nothing
    workflows = _listing(lab, "workflows")
    assert [r["id"] for r in workflows[pair.name]["recent"]] == [direct, failed, queued]
    tasks = _listing(lab, "tasks")
    assert [r["id"] for r in tasks[add.name]["recent"]] == [task]
    assert tasks[double.name]["recent"] == []


def _node(lab: Lab, execution: str, path: str, name: str, at: dt.datetime, phase: str, *,
          kind: str = "task", seconds: float = 0) -> None:
    """A node of `execution` that ran `name`: created and started at `at`, ended `seconds` later."""
    with lab.db.session() as s:
        queries.upsert_node(s, execution, path, entity_name=name, kind=kind, phase="RUNNING", now=at)
        if phase != "RUNNING":
            queries.upsert_node(s, execution, path, phase=phase, now=at + dt.timedelta(seconds=seconds))


def test_a_task_lists_the_workflow_executions_that_ran_it_as_a_node(lab: Lab) -> None:
    lab.register(everything, pair_plan, version="v1")
    alone = lab.run("task", add.name, T0, "SUCCEEDED", seconds=1)
    _node(lab, alone, "n0", add.name, T0, "SUCCEEDED", seconds=1)  # its own node: counted once
    first = lab.run("workflow", pair.name, T0 + dt.timedelta(minutes=1), "SUCCEEDED", seconds=9)
    _node(lab, first, "n0", double.name, T0 + dt.timedelta(minutes=1), "SUCCEEDED", seconds=2)
    _node(lab, first, "n1", double.name, T0 + dt.timedelta(minutes=1, seconds=1), "CACHE_HIT")
    _node(lab, first, "n2", add.name, T0 + dt.timedelta(minutes=1, seconds=3), "FAILED", seconds=4)
    second = lab.run("workflow", pair.name, T0 + dt.timedelta(minutes=2), "RUNNING")
    _node(lab, second, "n0", double.name, T0 + dt.timedelta(minutes=2), "RUNNING")
    _node(lab, second, "n2", add.name, T0 + dt.timedelta(minutes=2), "SKIPPED")  # did not run
    tasks = _listing(lab, "tasks")
    assert [(r["id"], r["phase"], r["node_path"], r["workflow"], r["duration_s"])
            for r in tasks[add.name]["recent"]] == [
        (first, "FAILED", "n2", pair.name, 4.0), (alone, "SUCCEEDED", None, None, 1.0)]
    assert tasks[add.name]["last_execution_at"] == "2024-05-01T12:01:03Z"
    # Used twice in one execution, a task shows that execution once, with its newest node.
    assert [(r["id"], r["phase"], r["node_path"]) for r in tasks[double.name]["recent"]] == [
        (second, "RUNNING", "n0"), (first, "CACHE_HIT", "n1")]
    assert tasks[double.name]["recent"][0]["duration_s"] > 0


def test_a_workflow_lists_the_executions_that_ran_it_as_a_subworkflow(lab: Lab) -> None:
    lab.register(everything, pair_plan, version="v1")
    outer = lab.run("workflow", everything.name, T0, "RUNNING")
    _node(lab, outer, "n1", pair.name, T0, "SUCCEEDED", kind="workflow", seconds=5)
    _node(lab, outer, "n0", pair.name, T0, "SUCCEEDED", seconds=1)  # a task node of that name is not it
    direct = lab.run("workflow", pair.name, T0 + dt.timedelta(hours=1), "SUCCEEDED", seconds=2)
    workflows = _listing(lab, "workflows")
    assert [(r["id"], r["node_path"]) for r in workflows[pair.name]["recent"]] == [
        (direct, None), (outer, "n1")]
    assert [r["id"] for r in workflows[everything.name]["recent"]] == [outer]
    assert _listing(lab, "launch_plans")["pair_plan"]["recent"] == []  # a plan's runs name the plan


def test_only_the_ten_newest_runs_count_whichever_way_they_ran(lab: Lab) -> None:
    lab.register(pair, version="v1")
    direct = [lab.run("task", add.name, T0 + dt.timedelta(minutes=2 * i), "SUCCEEDED") for i in range(8)]
    inside = []
    for i in range(8):
        at = T0 + dt.timedelta(minutes=2 * i + 1)
        inside.append(lab.run("workflow", pair.name, at, "RUNNING"))
        _node(lab, inside[-1], "n2", add.name, at, "SUCCEEDED")
    other = lab.client.post("/api/v1/projects", json={"name": "other"})
    assert other.status_code in (200, 201)
    elsewhere = lab.run("workflow", pair.name, T0 + dt.timedelta(hours=1), "RUNNING", project="other")
    _node(lab, elsewhere, "n2", add.name, T0 + dt.timedelta(hours=1), "SUCCEEDED")
    newest_first = [run for pair_ in zip(direct, inside, strict=True) for run in pair_][::-1]
    assert [r["id"] for r in _listing(lab, "tasks")[add.name]["recent"]] == newest_first[:10]


def test_executions_of_another_project_or_kind_are_not_counted(lab: Lab) -> None:
    lab.register(pair, version="v1")
    lab.client.post("/api/v1/projects", json={"name": "other"})
    lab.run("workflow", pair.name, T0, project="other")
    lab.run("task", pair.name, T0)  # a task that happens to share the name
    assert _listing(lab, "workflows")[pair.name]["recent"] == []


def test_one_page_of_a_listing_costs_the_same_statements_for_any_number_of_items(lab: Lab) -> None:
    lab.register(pair, version="v1")
    for i, task in enumerate((add, double)):
        lab.run("task", task.name, T0 + dt.timedelta(minutes=i), "SUCCEEDED", seconds=1)
    lab.statements.clear()
    assert len(lab.client.get("/api/v1/tasks", params={"limit": 1}).json()["items"]) == 1
    one = len(lab.statements)
    lab.statements.clear()
    assert len(lab.client.get("/api/v1/tasks").json()["items"]) == 2
    assert len(lab.statements) == one


# ------------------------------------------------------------------ node versions


@plait.task
def negate(x: int) -> int:
    return -x


def test_nodes_name_the_version_of_the_entity_they_ran(lab: Lab) -> None:
    lab.register(pair, version="v1")
    lab.register(negate, version="v2")  # registered only later, under another version
    execution = lab.run("workflow", pair.name, T0, "RUNNING")
    now = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=1)
    with lab.db.session() as s:
        for path, name, kind, at in [
            ("n0", double.name, "task", T0),  # the execution's version: v1
            ("n1", negate.name, "task", now),  # none at v1: the newest before the node, v2
            ("n2", negate.name, "task", T0),  # none yet when the node was created
            ("n3", "sign", "branch", now),  # branches are not registered
            ("n4", pair.name, "workflow", now),
            ("n5", "no.such.task", "task", now),
        ]:
            queries.upsert_node(s, execution, path, entity_name=name, kind=kind, now=at)
    nodes = lab.client.get(f"/api/v1/executions/{execution}/nodes").json()["nodes"]
    assert {n["path"]: n["entity_version"] for n in nodes} == {
        "n0": "v1", "n1": "v2", "n2": None, "n3": None, "n4": "v1", "n5": None}
    task = lab.client.get(f"/api/v1/tasks/{negate.name}", params={"version": nodes[1]["entity_version"]})
    assert task.status_code == 200


def test_launch_plans_are_listed_by_the_workflow_they_launch(lab: Lab) -> None:
    lab.register(everything, pair_plan, version="v1")
    names = lambda **q: [i["name"] for i in lab.client.get("/api/v1/launch_plans", params=q).json()["items"]]  # noqa: E731
    assert sorted(names(workflow=pair.name)) == sorted([pair.name, "pair_plan"])  # its default plan too
    assert names(workflow=everything.name) == [everything.name]
    assert names(workflow="nowhere.wf") == []
    refused = lab.client.get("/api/v1/workflows", params={"workflow": pair.name})
    assert refused.status_code == 422 and "filters launch plans" in refused.json()["message"]
