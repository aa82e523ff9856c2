"""The artifact catalog on a real backend: emission, queries at launch, lineage and triggers.

The programs (tests/resources/artifacts/catalog_programs.py) are the shapes the artifact
pages describe; the same runs go through the local engine where parity is the point.
"""

from __future__ import annotations

import datetime as dt
import pickle
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import plait
import pytest
from plait.artifacts import list_artifacts
from plait.remote import Remote, RemoteUserError
from server_fixture import running_server

PROGRAM = Path(__file__).parent.parent / "resources" / "artifacts" / "catalog_programs.py"
MOD = "catalog_programs"
WHEN = dt.datetime(2026, 12, 6, 14, 35, 12)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with running_server(tmp_path_factory.mktemp("artifacts-home"),
                        env={"PLAIT_MAX_TRIGGER_DEPTH": "3"}) as server:
        yield server


@pytest.fixture(scope="module")
def remote(server: Any) -> Iterator[Remote]:
    with server.remote() as client:
        client.register(str(PROGRAM), version="v1")
        yield client


@pytest.fixture(scope="module")
def programs() -> Any:
    sys.path.insert(0, str(PROGRAM.parent))
    try:
        import catalog_programs

        return catalog_programs
    finally:
        sys.path.remove(str(PROGRAM.parent))


def run(remote: Remote, workflow: str, inputs: dict[str, Any] | None = None) -> Any:
    done = remote.execute(remote.fetch_workflow(f"{MOD}.{workflow}", "v1"), inputs or {}).wait(timeout=90)
    assert done.phase == "SUCCEEDED", done.error
    return done


def raw(remote: Remote, method: str, path: str, **kwargs: Any) -> Any:
    """The HTTP answer as it is, errors included (the client would raise them)."""
    return remote._http().request(method, f"/api/v1{path}", **kwargs)


def api(remote: Remote, path: str, **params: Any) -> Any:
    return remote.request("GET", f"/api/v1{path}", params=params or None).json()


def versions(remote: Remote, name: str, **params: Any) -> list[dict[str, Any]]:
    return list(api(remote, f"/artifacts/{name}/versions", **params)["items"])


def test_a_basic_artifact_is_recorded_with_its_producer_and_value(remote: Remote) -> None:
    done = run(remote, "sensors_wf")
    [v] = versions(remote, "readings", execution=done.id)
    assert v["uri"] == f"plait://default/development/readings@{v['version']}"
    assert v["partitions"] == {} and v["time_partition"] is None
    assert v["producer"] == {"execution_id": done.id, "node_path": "n0", "task": f"{MOD}.read_sensors",
                             "task_version": "v1", "output": "o0", "inputs": None}  # inputs: one version's answer
    frame = pickle.loads(remote.download(v["value"]["uri"]))
    pd.testing.assert_frame_equal(frame, pd.DataFrame({"sensor": ["a", "b", "c"], "value": [1.5, 2.5, 4.0]}))
    listed = {a["name"]: a for a in api(remote, "/artifacts")["items"]}
    assert listed["readings"]["versions"] >= 1
    assert listed["readings"]["latest"]["version"] == v["version"]


def test_time_partitions_are_cut_to_their_granularity(remote: Remote) -> None:
    at_run_time = run(remote, "hourly_wf", {"n": 4})
    [v] = versions(remote, "hourly_counts", execution=at_run_time.id)
    assert (v["time_partition"], v["granularity"], v["value"]["literal"]) == ("2026-12-06T10:00:00", "HOUR", 4)
    by_input = run(remote, "hourly_at_wf", {"n": 5, "when": WHEN})
    [v] = versions(remote, "hourly_counts", execution=by_input.id)
    assert v["time_partition"] == "2026-12-06T14:00:00"
    # The time range of the version list, and the latest in an hour.
    in_range = versions(remote, "hourly_counts", time_from="2026-12-06T14:00:00", time_to="2026-12-06T15:00:00")
    assert [x["value"]["literal"] for x in in_range] == [5]
    latest = api(remote, "/artifacts/hourly_counts/latest", time_partition="2026-12-06T10:59:00")
    assert latest["value"]["literal"] == 4


def test_partition_keys_from_inputs_and_at_run_time(remote: Remote) -> None:
    done = run(remote, "regions_wf", {"when": WHEN})
    made = versions(remote, "regional_score", execution=done.id)
    assert sorted(v["partitions"]["region"] for v in made) == ["east", "north", "south"]
    south = api(remote, "/artifacts/regional_score/latest", partition="region=south")
    assert south["value"]["literal"] == 5.0 and south["time_partition"] == "2026-12-06T14:00:00"
    named = run(remote, "named_region_wf", {"name": "west", "when": WHEN})
    [v] = versions(remote, "regional_score", execution=named.id)
    assert v["partitions"] == {"region": "WEST"}
    # An unknown key is a 422 that names the artifact, the key and the keys it has.
    answer = raw(remote, "GET", "/artifacts/regional_score/latest", params={"partition": "zone=x"})
    assert answer.status_code == 422
    assert "`zone`" in answer.text and "regional_score" in answer.text and "region" in answer.text
    # No match: a 404 with the query in words.
    answer = raw(remote, "GET", "/artifacts/regional_score/latest", params={"partition": "region=mars"})
    assert answer.status_code == 404 and "region=mars" in answer.text


def test_a_model_card_is_stored_as_markdown(remote: Remote) -> None:
    done = run(remote, "train_wf", {"team": "growth", "depth": 3})
    [v] = versions(remote, "churn_model", execution=done.id)
    assert v["partitions"] == {"team": "growth"}
    assert v["cards"] == [{"kind": "model", "text": "# Churn model\n\nTrained for **growth** with depth 3.\n"}]


def test_a_query_default_is_resolved_when_the_execution_is_created(remote: Remote) -> None:
    made = run(remote, "train_wf", {"team": "search", "depth": 5})
    [model] = versions(remote, "churn_model", execution=made.id)
    used = run(remote, "use_model_wf", {"team": "search"})
    assert used.outputs == {"o0": "search:50"}
    assert used.record["artifact_inputs"] == {"model": {"name": "churn_model", "version": model["version"],
                                                        "uri": model["uri"]}}
    uses = api(remote, f"/executions/{used.id}/artifacts")
    assert [(u["artifact"]["version"], u["port"], u["how"]) for u in uses["consumed"]] == [
        (model["version"], "model", "query")]
    # Its time partition read from another input, cut to the artifact's hour.
    run(remote, "hourly_at_wf", {"n": 8, "when": dt.datetime(2026, 12, 7, 9, 5)})
    hour = run(remote, "use_hour_wf", {"when": dt.datetime(2026, 12, 7, 9, 59)})
    assert hour.outputs == {"o0": 1008}
    # No match refuses the launch, with the query in words.
    with pytest.raises(RemoteUserError) as refused:
        remote.execute(remote.fetch_workflow(f"{MOD}.use_model_wf", "v1"), {"team": "nobody"})
    assert "churn_model" in str(refused.value) and "team=nobody" in str(refused.value)
    # An explicit value still wins over the query.
    given = run(remote, "use_model_wf", {"team": "search", "model": 1})
    assert given.outputs == {"o0": "search:1"} and given.record["artifact_inputs"] == {}
    # A relaunch reads the same version, and says so.
    again = remote.relaunch(used).wait(timeout=90)
    assert again.outputs == {"o0": "search:50"} and again.record["artifact_inputs"] == used.record["artifact_inputs"]
    assert [u["how"] for u in api(remote, f"/executions/{again.id}/artifacts")["consumed"]] == ["query"]
    # The version knows what its producer was given.
    detail = api(remote, f"/artifacts/churn_model/versions/{model['version']}")
    assert detail["producer"]["inputs"]["team"]["literal"] == "search"


def test_a_launch_plan_default_query_is_resolved_at_launch(remote: Remote) -> None:
    run(remote, "train_wf", {"team": "plans", "depth": 6})
    plan = remote.fetch_launch_plan("describe_newest_model", "v1")
    done = remote.execute(plan, {"team": "plans"}).wait(timeout=90)
    assert done.phase == "SUCCEEDED" and done.outputs == {"o0": "plans:60"}
    assert done.record["artifact_inputs"]["model"]["name"] == "churn_model"


def test_one_version_per_successful_node_however_many_attempts(remote: Remote, tmp_path: Path) -> None:
    done = run(remote, "flaky_wf", {"marker": str(tmp_path / "marker")})
    assert [a["phase"] for a in done.nodes()[0].attempts] == ["FAILED", "SUCCEEDED"]
    assert [v["value"]["literal"] for v in versions(remote, "flaky_value", execution=done.id)] == [7]


def test_a_cache_hit_makes_no_version_and_links_the_cached_one(remote: Remote) -> None:
    first = run(remote, "total_wf", {"xs": [1, 2, 3]})
    [made] = versions(remote, "cached_total", execution=first.id)
    second = run(remote, "total_wf", {"xs": [1, 2, 3]})
    assert second.nodes()[0].phase == "CACHE_HIT"
    assert versions(remote, "cached_total", execution=second.id) == []
    uses = api(remote, f"/executions/{second.id}/artifacts")
    assert [(u["artifact"]["version"], u["how"]) for u in uses["consumed"]] == [(made["version"], "cache_hit")]


def test_a_value_of_the_wrong_type_fails_the_node_and_records_nothing(remote: Remote) -> None:
    run(remote, "count_wf", {"source": "typecheck", "rows": 2})
    before = len(versions(remote, "row_count"))
    done = remote.execute(remote.fetch_workflow(f"{MOD}.wrong_count_wf", "v1"), {"source": "typecheck"}).wait(
        timeout=90)
    assert done.phase == "FAILED"
    assert "row_count" in str(done.error) and "`int`" in str(done.error) and "`str`" in str(done.error)
    assert len(versions(remote, "row_count")) == before


def test_bad_input_to_create_artifact_is_refused_and_nothing_is_stored(remote: Remote) -> None:
    eleven = {f"k{i}": "v" for i in range(11)}
    answer = raw(remote, "POST", "/artifacts", json={"name": "too_many", "partitions": eleven,
                                                 "type": {"kind": "integer"}, "literal": 1})
    assert answer.status_code == 422 and "at most 10 partition keys" in answer.text
    answer = raw(remote, "POST", "/artifacts", json={"name": "too_many", "type": {"kind": "integer"}, "literal": "one"})
    assert answer.status_code == 422 and "too_many" in answer.text and "'one'" in answer.text
    assert api(remote, "/artifacts", name_contains="too_many")["items"] == []


def wait_for(predicate: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("timed out")


def trigger_runs(remote: Remote, plan: str) -> list[dict[str, Any]]:
    return list(api(remote, f"/launch_plans/{plan}/trigger_runs")["items"])


def test_a_new_version_launches_the_active_plan_once_and_lineage_follows_it(remote: Remote) -> None:
    run(remote, "count_wf", {"source": "before", "rows": 1})  # made before activation: no launch
    remote.activate_launch_plan("summarize_counts", "v1")
    try:
        made = run(remote, "count_wf", {"source": "orders", "rows": 42})
        [count] = versions(remote, "row_count", execution=made.id)
        [launched] = wait_for(lambda: [r for r in trigger_runs(remote, "summarize_counts")
                                       if r["artifact"]["version"] == count["version"]])
        assert launched["outcome"] == "launched"
        summary = remote.fetch_execution(launched["execution_id"]).wait(timeout=90)
        assert summary.phase == "SUCCEEDED", summary.error
        assert summary.outputs == {"o0": "orders has 42 rows"}
        assert all(r["artifact"]["version"] != versions(remote, "row_count", partition="source=before")[0]["version"]
                   for r in trigger_runs(remote, "summarize_counts"))
        # Lineage: count_wf's execution made the count, which the summary read, which made the summary.
        [made_summary] = versions(remote, "count_summary", execution=summary.id)
        graph = api(remote, f"/artifacts/count_summary/versions/{made_summary['version']}/lineage", depth=2)
        edges = {(e["source"], e["target"], e["kind"]) for e in graph["edges"]}
        assert (f"execution:{summary.id}", f"artifact:count_summary@{made_summary['version']}", "produced") in edges
        assert (f"artifact:row_count@{count['version']}", f"execution:{summary.id}", "consumed") in edges
        assert (f"execution:{made.id}", f"artifact:row_count@{count['version']}", "produced") in edges
        down = api(remote, f"/artifacts/row_count/versions/{count['version']}/lineage", depth=1)
        assert f"artifact:count_summary@{made_summary['version']}" in {n["id"] for n in down["nodes"]}
    finally:
        remote.deactivate_launch_plan("summarize_counts")
    # Inactive: a new version launches nothing.
    handled = len(trigger_runs(remote, "summarize_counts"))
    run(remote, "count_wf", {"source": "after", "rows": 3})
    time.sleep(1.0)
    assert len(trigger_runs(remote, "summarize_counts")) == handled


def test_a_plan_triggered_by_its_own_artifact_stops_at_the_depth_limit(remote: Remote) -> None:
    remote.activate_launch_plan("echo_again", "v1")
    try:
        run(remote, "echo_wf", {"n": 0})
        failed = wait_for(lambda: [r for r in trigger_runs(remote, "echo_again") if r["outcome"] == "failed"],
                          timeout=60)
        assert "stopped" in failed[0]["detail"] and "the limit is 3" in failed[0]["detail"]
        launched = [r for r in trigger_runs(remote, "echo_again") if r["outcome"] == "launched"]
        assert len(launched) == 3
    finally:
        remote.deactivate_launch_plan("echo_again")


def test_the_local_engine_makes_the_same_versions(programs: Any) -> None:
    programs.regions_wf(when=WHEN)
    local = {r.partitions["region"]: (r.time_partition, r.granularity) for r in list_artifacts("regional_score")}
    assert local == {r: ("2026-12-06T14:00:00", "HOUR") for r in ("north", "south", "east")}
    programs.train_wf(team="growth", depth=3)
    assert programs.use_model_wf(team="growth") == "growth:30"


# ------------------------------------------------------------------ one semantics, two places


def emitted(records: list[Any]) -> list[tuple[Any, ...]]:
    """What a run made, as both catalogs answer it: name, partitions, time partition, value, cards."""
    def value(r: Any) -> Any:
        v = r.value()
        return v.to_dict("list") if isinstance(v, pd.DataFrame) else v

    return sorted((r.name, tuple(sorted(r.partitions.items())), r.time_partition, r.granularity, repr(value(r)),
                   repr(r.cards)) for r in records)


PARITY = {  # the artifact pages' examples: workflow, inputs, the artifact they make
    "basic": ("sensors_wf", {}, "readings"),
    "time-partition-at-run-time": ("hourly_wf", {"n": 6}, "hourly_counts"),
    "time-partition-by-input": ("hourly_at_wf", {"n": 7, "when": WHEN}, "hourly_counts"),
    "partition-keys-by-input": ("regions_wf", {"when": WHEN}, "regional_score"),
    "partition-keys-at-run-time": ("named_region_wf", {"name": "west", "when": WHEN}, "regional_score"),
    "model-card": ("train_wf", {"team": "parity", "depth": 2}, "churn_model"),
}


@pytest.mark.parametrize("case", list(PARITY), ids=list(PARITY))
def test_the_examples_make_the_same_versions_locally_and_on_the_backend(case: str, programs: Any,
                                                                        remote: Remote) -> None:
    from plait.run.engine import execute

    workflow, inputs, name = PARITY[case]
    local = execute(getattr(programs, workflow), inputs)
    done = run(remote, workflow, inputs)
    mine = plait.catalog().list_artifacts(name, execution=local.id)
    theirs = remote.list_artifacts(name, execution=done.id)
    assert mine and emitted(mine) == emitted(theirs)


def test_a_query_default_and_a_trigger_give_the_same_results_locally(programs: Any, remote: Remote) -> None:
    from plait.run.engine import execute

    # The query default: the newest model of the team, in both places.
    execute(programs.train_wf, {"team": "both", "depth": 4})
    run(remote, "train_wf", {"team": "both", "depth": 4})
    local = execute(programs.use_model_wf, {"team": "both"}).outputs
    assert local == run(remote, "use_model_wf", {"team": "both"}).outputs == {"o0": "both:40"}
    # The trigger's bindings: locally `OnArtifact.inputs_for` the new version, then the workflow.
    made = execute(programs.count_wf, {"source": "both", "rows": 12})
    [record] = plait.catalog().list_artifacts("row_count", execution=made.id)
    bound = programs.on_count.trigger.inputs_for(record)
    assert bound == {"source": "both", "rows": 12}
    assert execute(programs.summary_wf, bound).outputs == {"o0": "both has 12 rows"}


def test_triggers_chain_from_one_artifact_to_the_next(remote: Remote) -> None:
    remote.activate_launch_plan("summarize_counts", "v1")
    remote.activate_launch_plan("announce_summaries", "v1")
    try:
        made = run(remote, "count_wf", {"source": "chain", "rows": 4})
        [count] = versions(remote, "row_count", execution=made.id)
        [first] = wait_for(lambda: [r for r in trigger_runs(remote, "summarize_counts")
                                    if r["artifact"]["version"] == count["version"]])
        assert remote.fetch_execution(first["execution_id"]).wait(timeout=90).phase == "SUCCEEDED"
        [summary] = versions(remote, "count_summary", execution=first["execution_id"])
        [second] = wait_for(lambda: [r for r in trigger_runs(remote, "announce_summaries")
                                     if r["artifact"]["version"] == summary["version"]])
        done = remote.fetch_execution(second["execution_id"]).wait(timeout=90)
        assert done.outputs == {"o0": "announced: chain has 4 rows"}
        assert done.record["settings"]["trigger_depth"] == 2
    finally:
        remote.deactivate_launch_plan("announce_summaries")
        remote.deactivate_launch_plan("summarize_counts")


def test_a_trigger_obeys_its_plans_concurrency_policy(remote: Remote) -> None:
    remote.activate_launch_plan("read_ticks_one_at_a_time", "v1")
    try:
        made = [remote.create_artifact("tick", n) for n in (1, 2)]  # two versions at once
        runs = wait_for(lambda: (lambda rs: rs if len(rs) == 2 else None)(
            trigger_runs(remote, "read_ticks_one_at_a_time")))
        by_version = {r["artifact"]["version"]: r for r in runs}
        assert by_version[made[0].version]["outcome"] == "launched"
        skipped = by_version[made[1].version]
        assert skipped["outcome"] == "skipped" and skipped["execution_id"] is None
        assert "Concurrency limit" in skipped["detail"] or "concurrency" in skipped["detail"].lower()
    finally:
        remote.deactivate_launch_plan("read_ticks_one_at_a_time")
