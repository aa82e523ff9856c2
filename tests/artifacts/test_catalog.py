"""`plait.catalog()`: what local runs stored, read with the calls `plait.Remote` makes to the backend."""

import json
from datetime import datetime
from typing import Annotated

import plait
import pytest
from plait.artifacts import (
    ArtifactNotFoundError,
    ArtifactRecord,
    ArtifactStore,
    ArtifactSummary,
    Inputs,
    ModelCard,
)
from plait.errors import InputError

Model = plait.Artifact(name="model", partition_keys=["region"])
Daily = plait.Artifact(name="daily_counts", time_partitioned=True)


@plait.task
def train(region: str, size: int) -> Annotated[list[int], Model(region=Inputs.region)]:
    return list(range(size))


@plait.task
def count(day: datetime, n: int) -> Annotated[int, Daily(time_partition=Inputs.day)]:
    return n


@pytest.fixture
def trained() -> list[ArtifactRecord]:
    """Three runs of `train`: eu (2 items), us (3), eu again (4)."""
    for region, size in (("eu", 2), ("us", 3), ("eu", 4)):
        train(region=region, size=size)
    return plait.catalog().list_artifacts("model")


def test_the_latest_version_matching_partitions(trained: list[ArtifactRecord]) -> None:
    catalog = plait.catalog()
    eu = catalog.get_artifact(name="model", partitions={"region": "eu"})
    assert eu.value() == [0, 1, 2, 3]
    assert catalog.get_artifact(name="model", partitions={"region": "us"}).value() == [0, 1, 2]
    assert catalog.get_artifact(name="model").version == eu.version  # the newest of all
    assert eu.partitions == {"region": "eu"}
    assert eu.task.endswith("train") and eu.output == "o0" and eu.execution.startswith("local-")
    assert eu.type_name == "list[int]"
    assert eu.preview == "[0, 1, 2, 3]"
    assert eu.uri == f"plait://local/development/model@{eu.version}"


def test_a_version_by_uri_version_or_query(trained: list[ArtifactRecord]) -> None:
    catalog = plait.catalog()
    first = trained[-1]  # newest first: the last is the first run
    assert catalog.get_artifact(first.uri).value() == [0, 1]
    assert catalog.get_artifact(f"model@{first.version}").value() == [0, 1]
    assert catalog.get_artifact(name="model", version=first.version).value() == [0, 1]
    assert catalog.get_artifact(query=Model.query(region="us")).value() == [0, 1, 2]


def test_versions_are_listed_newest_first_and_filtered(trained: list[ArtifactRecord]) -> None:
    catalog = plait.catalog()
    assert [r.value() for r in trained] == [[0, 1, 2, 3], [0, 1, 2], [0, 1]]
    assert [r.seq for r in trained] == sorted((r.seq for r in trained), reverse=True)
    eu = catalog.list_artifacts("model", partitions={"region": "eu"})
    assert [len(r.value()) for r in eu] == [4, 2]
    assert len(catalog.list_artifacts("model", limit=1)) == 1
    one_run = catalog.list_artifacts("model", execution=trained[1].execution)
    assert [r.version for r in one_run] == [trained[1].version]


def test_one_entry_per_artifact(trained: list[ArtifactRecord]) -> None:
    count(day=datetime(2024, 5, 1, 9, 30), n=5)
    catalog = plait.catalog()
    summaries = catalog.list_artifacts()
    assert [s.name for s in summaries] == ["daily_counts", "model"]  # newest first
    model = summaries[1]
    assert isinstance(model, ArtifactSummary)
    assert (model.versions, model.partition_keys, model.time_partitioned) == (3, ("region",), False)
    assert model.latest.version == trained[0].version
    assert summaries[0].time_partitioned
    assert [s.name for s in catalog.list_artifacts(name_contains="MOD")] == ["model"]


def test_time_partitions_are_matched_at_their_granularity() -> None:
    count(day=datetime(2024, 5, 1, 9, 30), n=5)
    count(day=datetime(2024, 5, 2, 8, 0), n=7)
    catalog = plait.catalog()
    assert catalog.get_artifact(name="daily_counts", time_partition=datetime(2024, 5, 1, 23)).value() == 5
    assert catalog.get_artifact(name="daily_counts", time_partition="2024-05-02").value() == 7
    in_may = catalog.list_artifacts("daily_counts", time_from="2024-05-02", time_to=datetime(2024, 5, 31))
    assert [r.value() for r in in_may] == [7]


def test_an_unknown_partition_key_names_the_artifact_and_its_keys(trained: list[ArtifactRecord]) -> None:
    with pytest.raises(InputError, match=r"^artifact `model` has no partition key `zone`; its keys are region$"):
        plait.catalog().get_artifact(name="model", partitions={"zone": "eu"})
    with pytest.raises(InputError, match="artifact `model` has no partition key `time_partition`; its keys are region$"):
        plait.catalog().get_artifact(name="model", time_partition=datetime(2024, 5, 1))
    with pytest.raises(InputError, match="artifact `model` has no partition key `zone`"):
        plait.catalog().list_artifacts("model", partitions={"zone": "eu"})


def test_no_match_says_the_artifact_and_the_query(trained: list[ArtifactRecord]) -> None:
    with pytest.raises(ArtifactNotFoundError,
                       match=r"no version of artifact `model` matches partitions \{'region': 'apac'\} in the local store"):
        plait.catalog().get_artifact(name="model", partitions={"region": "apac"})
    with pytest.raises(ArtifactNotFoundError, match="no artifact `nothing_yet` in the local store"):
        plait.catalog().get_artifact(name="nothing_yet")


def test_a_bad_uri_shows_the_form_expected() -> None:
    for uri in ("model", "plait://local/model@v1", "model@", "plait://a/b/c/d@v"):
        with pytest.raises(InputError, match=r"is not of the form plait://PROJECT/DOMAIN/NAME@VERSION"):
            plait.catalog().get_artifact(uri)


def test_a_query_bound_to_inputs_cannot_be_read_outside_a_launch(trained: list[ArtifactRecord]) -> None:
    with pytest.raises(InputError, match=r"reads `region` from Inputs.region, which only a launch fills"):
        plait.catalog().get_artifact(query=Model.query(region=Inputs.region))


def test_create_artifact_stores_a_version_without_a_producer() -> None:
    catalog = plait.catalog()
    made = catalog.create_artifact(Model, {"weights": [1, 2]}, partitions={"region": "eu"},
                                   cards=[ModelCard("# Model\n\ntrained by hand")])
    got = catalog.get_artifact(name="model", partitions={"region": "eu"})
    assert got.version == made.version and got.value() == {"weights": [1, 2]}
    assert got.cards == [{"kind": "model", "text": "# Model\n\ntrained by hand"}]
    assert got.execution == "" and got.type_name == "dict[str, list[int]]"
    by_name = catalog.create_artifact("notes", "hello", time_partition=datetime(2024, 5, 1, 10, 37))
    assert by_name.time_partition == "2024-05-01T00:00:00" and by_name.granularity == "DAY"
    with pytest.raises(InputError, match=r"`model` has no partition key `zone`"):
        catalog.create_artifact(Model, 1, partitions={"zone": "eu"})
    with pytest.raises(InputError, match=r"artifact `model` needs partition value\(s\) for \['region'\]"):
        catalog.create_artifact(Model, 1)
    assert len(catalog.list_artifacts("model")) == 1  # the refused ones stored nothing


def test_lineage_names_the_producing_execution(trained: list[ArtifactRecord]) -> None:
    latest = trained[0]
    graph = plait.catalog().artifact_lineage(latest)
    assert graph == plait.catalog().artifact_lineage(latest.uri)
    artifact, execution = graph["nodes"]
    assert artifact["id"] == f"artifact:model@{latest.version}" and artifact["partitions"] == {"region": "eu"}
    assert execution == {"id": f"execution:{latest.execution}", "kind": "execution",
                         "execution_id": latest.execution, "entity_name": latest.task, "phase": "SUCCEEDED"}
    assert graph["edges"] == [{"source": execution["id"], "target": artifact["id"], "kind": "produced",
                               "node_path": "", "port": "o0"}]


def test_a_record_reads_its_value_from_the_store_it_came_from(tmp_path, trained) -> None:
    elsewhere = ArtifactStore(tmp_path / "other")
    elsewhere.add("kept apart", name="model", project="local", domain="development",
                  partitions={"region": "eu"})
    (record,) = elsewhere.records("model")
    assert record.value() == "kept apart"
    assert plait.catalog().get_artifact(name="model").value() == [0, 1, 2, 3]


def test_an_index_written_before_the_new_fields_still_reads(plait_home) -> None:
    store = ArtifactStore()
    old = store.add(3, name="old", project="local", domain="development", type={"kind": "integer"})
    index = plait_home / "artifacts" / "index.json"
    rows = json.loads(index.read_text())["artifacts"]
    for row in rows:
        for key in ("id", "value_ref", "node_path", "task_version", "preview", "type_name"):
            row.pop(key)
        row["from_a_newer_plait"] = True
    index.write_text(json.dumps({"artifacts": rows}))
    record = plait.catalog().get_artifact(name="old")
    assert record.version == old.version and record.value() == 3 and record.type_name == "int"
