"""Artifacts as their users write them: declare, emit, partition, query and trigger."""

import json
from datetime import datetime, timedelta, timezone
from typing import Annotated

import plait as union
import pytest
from plait.artifacts import (
    ArtifactNotFoundError,
    Granularity,
    Inputs,
    OnArtifact,
    list_artifacts,
)
from plait.errors import InputError, UserError

MAY_1_10H37 = datetime(2024, 5, 1, 10, 37)

# ---- basic -----------------------------------------------------------------------


def test_each_run_stores_a_new_version(resource, plait_home):
    pytest.importorskip("pandas")
    prog = resource("tasks/artifacts_basic.py")
    table = prog.tables(rows=2)
    assert list(table["city"]) == ["Lyon", "Oslo"]  # the workflow sees the plain value
    prog.tables(rows=4)
    versions = list_artifacts("city_table")
    assert [v.seq for v in versions] == [1, 2]
    assert len({v.version for v in versions}) == 2
    assert versions[0].task.endswith("make_table")
    assert versions[0].cards == [{"kind": "model", "text": "# Cities\n\n2 rows"}]
    assert versions[0].type == {"kind": "dataframe", "format": "parquet"}
    assert (plait_home / "artifacts" / "index.json").exists()


def test_query_returns_the_latest_version(resource):
    pytest.importorskip("pandas")
    prog = resource("tasks/artifacts_basic.py")
    prog.tables(rows=2)
    prog.tables(rows=3)
    assert len(prog.CityTable.query().get()) == 3
    assert len(prog.CityTable.query().resolve()) == 3


def test_workflow_default_query_reads_the_latest_version(resource):
    pytest.importorskip("pandas")
    prog = resource("tasks/artifacts_basic.py")
    prog.tables(rows=4)
    assert prog.latest_row_count() == 4
    prog.tables(rows=1)
    assert prog.latest_row_count() == 1  # resolved anew on every run


def test_query_before_any_version_says_what_to_do(resource):
    pytest.importorskip("pandas")
    prog = resource("tasks/artifacts_basic.py")
    with pytest.raises(ArtifactNotFoundError, match=r"no version of artifact `city_table`.*run the task that emits it first"):
        prog.CityTable.query().get()


def test_a_specific_version_by_uri(resource):
    pytest.importorskip("pandas")
    prog = resource("tasks/artifacts_basic.py")
    prog.tables(rows=2)
    prog.tables(rows=3)
    first = list_artifacts("city_table")[0]
    assert len(prog.CityTable.get(first.uri)) == 2
    assert len(prog.CityTable.get(first.version)) == 2
    with pytest.raises(ArtifactNotFoundError, match="no version `nope`"):
        prog.CityTable.get("nope")


def test_output_annotation_carries_the_artifact_in_the_spec(resource):
    pytest.importorskip("pandas")
    prog = resource("tasks/artifacts_basic.py")
    spec = json.loads(json.dumps(prog.make_table.to_spec()))
    (annotation,) = spec["interface"]["outputs"]["o0"]["annotations"]
    assert annotation["kind"] == "artifact"
    assert annotation["name"] == "city_table"
    assert annotation["partition_keys"] == []


def test_plain_value_with_artifact_annotation_is_recorded():
    Scores = union.Artifact(name="scores")

    @union.task
    def score() -> Annotated[int, Scores]:
        return 7

    assert score() == 7
    (record,) = list_artifacts("scores")
    assert record.value() == 7
    assert Scores.query().get() == 7


def test_create_from_without_annotation_is_recorded_too():
    Plain = union.Artifact(name="plain_list")

    @union.task
    def make() -> list[int]:
        return Plain.create_from([1, 2])

    assert make() == [1, 2]
    assert Plain.query().get() == [1, 2]


def test_create_from_value_is_still_type_checked():
    Plain = union.Artifact(name="checked")

    @union.task
    def wrong() -> int:
        return Plain.create_from("seven")

    with pytest.raises(union.TypeMismatchError, match="output `o0` is declared `int`"):
        wrong()
    assert list_artifacts("checked") == []


def test_tasks_without_artifacts_write_nothing(plait_home):
    @union.task
    def add(a: int, b: int) -> int:
        return a + b

    assert add(a=1, b=2) == 3
    assert not (plait_home / "artifacts").exists()


# ---- time partitions --------------------------------------------------------------


def test_time_partition_from_the_task_is_cut_to_the_hour(resource):
    prog = resource("tasks/artifacts_time_partition.py")
    prog.hourly(taken_at=MAY_1_10H37, level=1)
    (record,) = list_artifacts("sensor_readings")
    assert record.time_partition == "2024-05-01T10:00:00"
    assert record.granularity == "HOUR"
    assert prog.Readings.query(time_partition=datetime(2024, 5, 1, 10, 5)).get() == [1, 2]
    with pytest.raises(ArtifactNotFoundError):
        prog.Readings.query(time_partition=datetime(2024, 5, 1, 11, 0)).get()


def test_time_partition_bound_to_an_input_defaults_to_days(resource):
    prog = resource("tasks/artifacts_time_partition.py")
    assert prog.daily(day=MAY_1_10H37, values=[1, 2, 3]) == 6
    (record,) = list_artifacts("daily_totals")
    assert record.time_partition == "2024-05-01T00:00:00"
    assert prog.DailyTotals.query(time_partition=datetime(2024, 5, 1, 23, 59)).get() == 6


def test_time_partitioned_artifact_without_a_time_fails_the_task(resource):
    prog = resource("tasks/artifacts_time_partition.py")
    with pytest.raises(UserError, match=r"output `o0`: artifact `sensor_readings` is time-partitioned; pass time_partition=<datetime>"):
        prog.forgets_the_time(level=1)


@pytest.mark.parametrize(
    ("granularity", "expected"),
    [
        (Granularity.MINUTE, datetime(2024, 5, 17, 10, 37)),
        (Granularity.HOUR, datetime(2024, 5, 17, 10)),
        (Granularity.DAY, datetime(2024, 5, 17)),
        (Granularity.MONTH, datetime(2024, 5, 1)),
    ],
)
def test_granularity_truncates(granularity, expected):
    assert granularity.truncate(datetime(2024, 5, 17, 10, 37, 42, 5)) == expected


def test_zoned_times_are_partitioned_in_utc():
    paris = timezone(timedelta(hours=2))
    assert Granularity.HOUR.truncate(datetime(2024, 5, 1, 1, 30, tzinfo=paris)) == datetime(2024, 4, 30, 23)


# ---- custom partition keys ---------------------------------------------------------


def test_partitions_from_inputs_tell_versions_apart(resource):
    prog = resource("tasks/artifacts_partitions.py")
    prog.all_stores(day=MAY_1_10H37)
    stores = sorted(r.partitions["store"] for r in list_artifacts("store_sales"))
    assert stores == ["east", "north", "south"]
    assert prog.Sales.query(store="south").get() == [20.0, 40.0]
    assert prog.Sales.query(partitions={"store": "east"}, time_partition=MAY_1_10H37).get() == [30.0, 60.0]


def test_partitions_given_on_return(resource):
    prog = resource("tasks/artifacts_partitions.py")
    prog.one_store(store="west", day=MAY_1_10H37)
    assert prog.Sales.query(store="west").get() == [1.0]


def test_missing_partition_value_fails_with_the_fix(resource):
    prog = resource("tasks/artifacts_partitions.py")
    with pytest.raises(UserError, match=r"artifact `store_sales` needs partition value\(s\) for \['store'\]; bind them in the annotation \(store_sales\(store=Inputs.store\)\)"):
        prog.untagged(day=MAY_1_10H37)


def test_partition_binding_is_in_the_spec(resource):
    prog = resource("tasks/artifacts_partitions.py")
    (annotation,) = prog.sales_for.to_spec()["interface"]["outputs"]["o0"]["annotations"]
    assert annotation["bindings"]["partitions"] == {"store": {"input": "store"}}
    assert annotation["time_partition_granularity"] == "DAY"


def test_binding_to_an_input_the_task_lacks_is_reported():
    Tagged = union.Artifact(name="tagged", partition_keys=["team"])

    @union.task
    def make(owner: str) -> Annotated[int, Tagged(team=Inputs.team)]:
        return 1

    with pytest.raises(UserError, match=r"binds `team` to Inputs.team, but the task has no input `team`; its inputs are \['owner'\]"):
        make(owner="x")


# ---- declaration errors -------------------------------------------------------------


def test_declaration_errors_name_the_artifact():
    with pytest.raises(InputError, match="non-empty name"):
        union.Artifact(name="")
    with pytest.raises(InputError, match=r"artifact `a`: at most 10 partition keys"):
        union.Artifact(name="a", partition_keys=[f"k{i}" for i in range(11)])
    with pytest.raises(InputError, match=r"artifact `a`: time_partition_granularity needs time_partitioned=True"):
        union.Artifact(name="a", time_partition_granularity=Granularity.HOUR)
    with pytest.raises(InputError, match=r"partition key 'time_partition' must be a Python identifier other than"):
        union.Artifact(name="a", partition_keys=["time_partition"])


def test_binding_and_emitting_check_partition_keys():
    Keyed = union.Artifact(name="keyed", partition_keys=["region"])
    with pytest.raises(InputError, match=r"artifact `keyed` has no partition key `zone`; its keys are \['region'\]"):
        Keyed(zone=Inputs.zone)
    with pytest.raises(InputError, match=r"keyed.create_from: `keyed` has no partition key `zone`"):
        Keyed.create_from(1, zone="a")
    with pytest.raises(InputError, match=r"`keyed` is not time-partitioned"):
        Keyed.create_from(1, region="a", time_partition=MAY_1_10H37)
    with pytest.raises(InputError, match=r"keyed.query: `keyed` has no partition key\(s\) \['zone'\]"):
        Keyed.query(zone="a")
    with pytest.raises(InputError, match="bind partitions by name"):
        Keyed("a")


def test_a_bare_declaration_can_query_any_partition():
    # A consumer may declare an artifact by name only and still filter by partition.
    Keyed = union.Artifact(name="shared", partition_keys=["region"])

    @union.task
    def make(region: str) -> Annotated[str, Keyed(region=Inputs.region)]:
        return region.upper()

    make(region="eu")
    make(region="us")
    assert union.Artifact(name="shared").query(region="eu").get() == "EU"


# ---- queries in workflows and launch plans --------------------------------------------


def test_workflow_default_query_reads_partitions_from_inputs(resource):
    prog = resource("tasks/artifacts_query.py")
    prog.publish_wf(region="west", day=MAY_1_10H37, amount=12.5)
    prog.publish_wf(region="east", day=MAY_1_10H37, amount=3.0)
    prog.publish_wf(region="west", day=MAY_1_10H37 + timedelta(days=1), amount=99.0)
    assert prog.report_wf(region="west", day=MAY_1_10H37) == "west: 12.50"
    assert prog.report_wf(region="east", day=datetime(2024, 5, 1)) == "east: 3.00"
    assert prog.report_wf(region="east", day=MAY_1_10H37, amount=1.0) == "east: 1.00"  # explicit wins


def test_launch_plan_default_query_resolves_when_the_plan_runs(resource):
    prog = resource("tasks/artifacts_query.py")
    prog.publish_wf(region="west", day=MAY_1_10H37, amount=5.0)
    assert prog.latest_west() == "west: 5.00"
    prog.publish_wf(region="west", day=MAY_1_10H37, amount=6.0)
    assert prog.latest_west() == "west: 6.00"
    assert prog.latest_west(amount=1.0) == "west: 1.00"


def test_launch_plan_spec_carries_the_query(resource):
    prog = resource("tasks/artifacts_query.py")
    spec = json.loads(json.dumps(prog.latest_west.to_spec()))
    assert spec["default_inputs"]["amount"] == {
        "artifact_query": {
            "artifact": "region_sales",
            "project": None,
            "domain": None,
            "version": None,
            "partitions": {"region": {"value": "west"}},
            "time_partition": None,
        }
    }


def test_query_spec_names_the_inputs_it_reads(resource):
    prog = resource("tasks/artifacts_query.py")
    spec = prog.sales_query.to_spec()
    assert spec["partitions"] == {"region": {"input": "region"}}
    assert spec["time_partition"] == {"input": "day"}
    assert sorted(prog.sales_query.bound_inputs()) == ["day", "region"]


def test_query_that_reads_a_missing_input_says_so(resource):
    prog = resource("tasks/artifacts_query.py")
    with pytest.raises(InputError, match=r"reads `region` from input `region`, which has no value here; pass region="):
        prog.sales_query.get()


# ---- triggers -------------------------------------------------------------------------


def test_trigger_spec_describes_the_event_and_inputs(resource):
    prog = resource("tasks/artifacts_trigger.py")
    spec = json.loads(json.dumps(prog.downstream_lp.to_spec()))
    trigger = spec["trigger"]
    assert trigger["kind"] == "artifact_trigger"
    assert trigger["trigger_on"]["name"] == "upstream_counts"
    assert trigger["inputs"]["counts"] == {"artifact": "upstream_counts", "triggering": True}
    assert trigger["inputs"]["source"] == {"trigger_partition": "source", "artifact": "upstream_counts"}
    previous = trigger["inputs"]["previous"]["artifact_query"]
    assert previous["time_partition"] == {
        "trigger_partition": "time_partition",
        "artifact": "upstream_counts",
        "offset_seconds": -86400.0,
    }


def test_trigger_inputs_come_from_the_new_version(resource):
    prog = resource("tasks/artifacts_trigger.py")
    prog.upstream_wf(source="web", at=datetime(2024, 5, 1, 8))
    prog.upstream_wf(source="web", at=datetime(2024, 5, 2, 9))
    newest = list_artifacts("upstream_counts")[-1]
    inputs = prog.on_upstream.inputs_for(newest)
    assert inputs == {"counts": [3, 9], "source": "web", "previous": [3, 8]}
    assert prog.downstream_lp(**inputs) == "web: [3, 9] after [3, 8]"


def test_trigger_validation():
    A = union.Artifact(name="a", time_partitioned=True, partition_keys=["k"])
    B = union.Artifact(name="b", partition_keys=["k"])
    with pytest.raises(InputError, match="expects an Artifact, got str"):
        OnArtifact(trigger_on="a")
    with pytest.raises(InputError, match=r"OnArtifact input `x` uses a partition of `b`, but the trigger fires on `a`"):
        OnArtifact(trigger_on=A, inputs={"x": B.partitions.k})
    with pytest.raises(InputError, match="cannot read Inputs.x"):
        OnArtifact(trigger_on=A, inputs={"x": B.query(k=Inputs.k)})
    with pytest.raises(InputError, match=r"artifact `b` is not time-partitioned"):
        B.time_partition  # noqa: B018
    with pytest.raises(InputError, match=r"artifact `a` has no partition `z`"):
        A.partitions.z  # noqa: B018


def test_mapped_task_stores_one_version_per_item():
    Squares = union.Artifact(name="squares", partition_keys=["n"])

    @union.task
    def square(n: int) -> Annotated[int, Squares(n=Inputs.n)]:
        return n * n

    @union.workflow
    def squares(ns: list[int]) -> list[int]:
        return union.map(square, concurrency=4)(n=ns)

    assert squares(ns=list(range(12))) == [n * n for n in range(12)]
    records = list_artifacts("squares")
    assert sorted(int(r.partitions["n"]) for r in records) == list(range(12))
    assert sorted(r.seq for r in records) == list(range(1, 13))
    assert Squares.query(n=7).get() == 49
    assert Squares.query(n=Inputs.k).resolve({"k": 5}) == 25


def test_only_time_partitions_shift():
    A = union.Artifact(name="a", time_partitioned=True, partition_keys=["k"])
    assert (A.time_partition + timedelta(hours=2) - timedelta(hours=3)).offset == timedelta(hours=-1)
    with pytest.raises(InputError, match=r"only a time partition can be shifted, by a datetime.timedelta; got a.k - 1"):
        A.partitions.k - 1  # noqa: B018
