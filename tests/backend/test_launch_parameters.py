"""Launch plan execution parameters, and cache overrides on subworkflow and sub-launch plan
nodes, on a real `plait server` as they work locally.

- `max_parallelism`: nodes beyond the bound wait; the tasks themselves report when they
  ran, so the bound is checked on what really ran at once.
- `overwrite_cache`: a plan that sets it runs a cached task again instead of answering
  from the cache.
- labels and annotations: the executions list filters by them (`label=key=value`).
- raw output prefix: outputs are written under it in the object store, and read back.
- `with_overrides(cache=...)` on a subworkflow or a sub-launch plan node: the second run
  answers the node from the cache (CACHE_HIT) without running what is inside it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import plait
import pytest
from plait.backend.store import Database, queries
from plait.remote import Remote
from plait.remote.bundle import collect
from server_fixture import ServerProcess, running_server

pytestmark = pytest.mark.slow

PROGRAM = (Path(__file__).parent.parent / "resources" / "launchplans" / "parameters.py").resolve()
WAIT_S = 90


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("plait-parameters-home")) as started:
        yield started


@pytest.fixture(scope="module")
def program(server: ServerProcess) -> Iterator[tuple[Remote, ModuleType]]:
    registration = collect([PROGRAM])
    (name,) = registration.modules
    with server.remote() as remote:
        remote.register_collected(registration)
        try:
            yield remote, sys.modules[name]
        finally:
            sys.modules.pop(name, None)
            while str(PROGRAM.parent) in sys.path:
                sys.path.remove(str(PROGRAM.parent))


@pytest.fixture(scope="module")
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{server.url}/api/v1", timeout=60,
                      headers={"Authorization": f"Bearer {server.token}"}) as client:
        yield client


def most_at_once(spans: list[list[float]]) -> int:
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans],
                    key=lambda e: (e[0], e[1]))
    most = current = 0
    for _, step in events:
        current += step
        most = max(most, current)
    return most


def nodes(http: httpx.Client, execution_id: str) -> dict[str, dict[str, Any]]:
    answer = http.get(f"/executions/{execution_id}/nodes")
    assert answer.status_code == 200, answer.text
    return {n["path"]: n for n in answer.json()["nodes"]}


def test_max_parallelism_bounds_the_nodes_running_at_once(program: tuple[Remote, ModuleType],
                                                           http: httpx.Client) -> None:
    remote, module = program
    free = remote.execute(module.four_stamps, {"seconds": 0.8}, wait=True, timeout=WAIT_S)
    bounded = remote.execute(module.one_at_a_time_stamps, {"seconds": 0.8}, wait=True, timeout=WAIT_S)
    assert (free.phase, bounded.phase) == ("SUCCEEDED", "SUCCEEDED"), (free.error, bounded.error)
    assert most_at_once(free.outputs["o0"]) >= 2  # the server's workers run two at once ...
    assert most_at_once(bounded.outputs["o0"]) == 1  # ... but the plan allows one
    assert bounded.record["settings"]["max_parallelism"] == 1
    # and the database never had more than one of its nodes running
    ran = [(n["started_at"], n["ended_at"]) for n in nodes(http, bounded.id).values() if n["kind"] == "task"]
    assert len(ran) == 4
    assert all(ran[i][1] <= ran[i + 1][0] for i in range(3)), ran


def test_max_parallelism_given_at_launch_bounds_a_workflow(program: tuple[Remote, ModuleType]) -> None:
    remote, module = program
    run = remote.execute(module.four_stamps, {"seconds": 0.5}, max_parallelism=1, wait=True, timeout=WAIT_S)
    assert run.phase == "SUCCEEDED", run.error
    assert most_at_once(run.outputs["o0"]) == 1


def test_a_failure_under_max_parallelism_ends_the_execution(program: tuple[Remote, ModuleType],
                                                              http: httpx.Client) -> None:
    remote, module = program
    run = remote.execute(module.one_refuses, {"seconds": 0.3}, max_parallelism=1, wait=True, timeout=WAIT_S)
    assert run.phase == "FAILED"
    assert "refusing 1" in str(run.error)
    phases = {n["path"]: n["phase"] for n in nodes(http, run.id).values()}
    assert phases["n1"] == "FAILED" and "QUEUED" not in phases.values() and "RUNNING" not in phases.values()


def test_overwrite_cache_runs_a_cached_task_again(program: tuple[Remote, ModuleType], http: httpx.Client) -> None:
    remote, module = program
    first = remote.execute(module.cached_double, {"x": 21}, wait=True, timeout=WAIT_S)
    again = remote.execute(module.cached_double, {"x": 21}, wait=True, timeout=WAIT_S)
    refreshed = remote.execute(module.refresh_lp, {"x": 21}, wait=True, timeout=WAIT_S)
    assert [r.outputs["o0"] for r in (first, again, refreshed)] == [42, 42, 42]
    phases = [nodes(http, r.id)["n0"]["phase"] for r in (first, again, refreshed)]
    assert phases == ["SUCCEEDED", "CACHE_HIT", "SUCCEEDED"]
    assert refreshed.record["settings"]["overwrite_cache"] is True


def test_executions_are_listed_by_label_and_annotation(program: tuple[Remote, ModuleType],
                                                       http: httpx.Client) -> None:
    remote, module = program
    tagged = remote.execute(module.labelled_lp, {"x": 1})
    extra = remote.execute(module.labelled_lp, {"x": 2}, labels=plait.Labels({"run": "extra"}))
    plain = remote.execute(module.cached_double, {"x": 3})
    for run in (tagged, extra, plain):
        run.wait(timeout=WAIT_S)
    assert tagged.record["settings"]["labels"] == {"team": "ml", "tier": "gold"}
    assert extra.record["settings"]["labels"] == {"team": "ml", "tier": "gold", "run": "extra"}

    def listed(**params: Any) -> list[str]:
        answer = http.get("/executions", params={"limit": 500, **params})
        assert answer.status_code == 200, answer.text
        return sorted(e["id"] for e in answer.json()["items"])

    assert listed(label="team=ml") == sorted([tagged.id, extra.id])
    assert listed(label=["team=ml", "run=extra"]) == [extra.id]
    assert listed(label="team=other") == []
    assert listed(annotation="owner=ana", launch_plan="labelled_lp") == sorted([tagged.id, extra.id])
    assert plain.id not in listed(label="team=ml")
    refused = http.get("/executions", params={"label": "team"})
    assert refused.status_code == 422
    assert refused.json()["message"] == "label filter 'team' is not `key=value`; write e.g. `label=team=ml`"
    odd = http.get("/executions", params={"label": 'te"am=ml'})
    assert odd.status_code == 422
    assert odd.json()["message"].startswith("label filter 'te\"am=ml': `te\"am` cannot be a label key")


def test_cache_overrides_on_subworkflow_and_sub_launch_plan_nodes(program: tuple[Remote, ModuleType],
                                                                   http: httpx.Client) -> None:
    remote, module = program
    first = remote.execute(module.cached_parts, {"x": 5}, wait=True, timeout=WAIT_S)
    second = remote.execute(module.cached_parts, {"x": 5}, wait=True, timeout=WAIT_S)
    other = remote.execute(module.cached_parts, {"x": 6}, wait=True, timeout=WAIT_S)
    assert first.outputs == second.outputs == {"o0": 15, "o1": 15}
    assert other.outputs == {"o0": 18, "o1": 18}
    before, after = nodes(http, first.id), nodes(http, second.id)
    assert (before["n0"]["phase"], before["n1"]["phase"]) == ("SUCCEEDED", "SUCCEEDED")
    assert (after["n0"]["phase"], after["n1"]["phase"]) == ("CACHE_HIT", "CACHE_HIT")
    assert not [p for p in after if p.startswith("n0-")]  # nothing inside the subworkflow ran
    children = http.get("/executions", params={"parent_execution_id": second.id}).json()["items"]
    assert children == []  # the sub-launch plan started no child execution
    assert len(http.get("/executions", params={"parent_execution_id": first.id}).json()["items"]) == 1
    assert {nodes(http, other.id)[n]["phase"] for n in ("n0", "n1")} == {"SUCCEEDED"}  # other inputs


def test_the_label_filter_works_on_sqlite_and_postgresql(db: Database) -> None:
    with db.session() as s:
        queries.ensure_project(s, "default")
        for i, labels in enumerate([{"team": "ml"}, {"team": "ml", "run": "extra"}, {"team": "web"}, {}]):
            queries.create_execution(s, id=f"e{i}", project="default", domain="development", entity_kind="workflow",
                                     entity_name="wf", entity_version="v1", inputs={},
                                     settings={"labels": labels, "annotations": {"owner": "ana"} if i else {}})
    with db.session(readonly=True) as s:
        def ids(**filters: Any) -> list[str]:
            return sorted(e.id for e in queries.list_executions(s, **filters))

        assert ids(labels={"team": "ml"}) == ["e0", "e1"]
        assert ids(labels={"team": "ml", "run": "extra"}) == ["e1"]
        assert ids(annotations={"owner": "ana"}, labels={"team": "web"}) == ["e2"]
        assert ids(labels={"team": "ml"}, name="other") == []


def test_outputs_are_written_under_the_raw_output_prefix(program: tuple[Remote, ModuleType], http: httpx.Client,
                                                         server: ServerProcess) -> None:
    remote, module = program
    size = 200_000
    run = remote.execute(module.raw_lp, {"n": size}, wait=True, timeout=WAIT_S)
    assert run.phase == "SUCCEEDED", run.error
    assert run.record["settings"]["raw_output_prefix"] == "team-a/raw"
    stored = run.record["outputs"]["o0"]["uri"]
    assert stored.startswith(f"team-a/raw/executions/{run.id}/n0/1/")
    assert (server.home / "data" / stored).stat().st_size > size
    assert not (server.home / "data" / "executions" / run.id).exists()  # nothing in the default place
    assert run.outputs == {"o0": "x" * size, "o1": size}  # the next task and the client read it back
    logs = http.get(f"/executions/{run.id}/nodes/n0/logs").json()
    assert logs["complete"] is True

    plain = remote.execute(module.long_and_length, {"n": 10}, raw_output_prefix="runs/mine", wait=True,
                           timeout=WAIT_S)
    assert plain.record["settings"]["raw_output_prefix"] == "runs/mine"

    for given, message in [
        ("s3://elsewhere/raw", "raw output prefix `s3://elsewhere/raw` is outside this server's object store"),
        ("team-a/../functions", "raw output prefix `team-a/../functions`: the part '..' is not a folder name"),
        ("functions/mine", "raw output prefix `functions/mine` starts with `functions/`"),
    ]:
        refused = http.post("/executions", json={"kind": "workflow", "name": module.long_and_length.name,
                                                 "inputs": {"n": 1}, "settings": {"raw_output_prefix": given}})
        assert refused.status_code == 422, refused.text
        assert refused.json()["message"].startswith(message)
        assert refused.json()["field"] == "settings.raw_output_prefix"
    other = http.get("/data", params={"uri": f"runs/mine/executions/{run.id}/n0/1/outputs/o0.pkl"})
    assert other.status_code == 422  # not where that execution keeps its outputs
