"""`plait.Remote`'s artifact calls against a real `plait server`: what runs there emit, what
`create_artifact` makes, and the same calls over the local store (`plait.catalog()`).

One server for the module; its versions come from running `training` there (a task whose
output is annotated with the `model` artifact) and from `create_artifact`.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import plait
import pytest
from plait.artifacts import (
    ArtifactNotFoundError,
    ArtifactRecord,
    ArtifactSummary,
    Inputs,
    ModelCard,
)
from plait.errors import InputError
from plait.remote import Remote

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))
from server_fixture import ServerProcess, running_server  # noqa: E402

pytestmark = pytest.mark.slow

PROGRAM = Path(__file__).resolve().parents[1] / "resources" / "artifacts" / "region_models.py"


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return PROGRAM


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("artifact-client-home")) as started:
        yield started


@pytest.fixture(scope="module")
def remote(server: ServerProcess, program: Path) -> Iterator[Remote]:
    """A client, with `training` run three times: eu (2 items), us (3), eu again (4)."""
    with server.remote() as client:
        client.register(str(program), version="v1")
        training = client.fetch_workflow("region_models.training", "v1")
        for region, size in (("eu", 2), ("us", 3), ("eu", 4)):
            run = client.execute(training, {"region": region, "size": size}, wait=True, timeout=90)
            assert run.phase == "SUCCEEDED", run.error
        yield client


@pytest.fixture(scope="module")
def runs(remote: Remote) -> list[Any]:
    """The three runs of `training`, oldest first."""
    return list(reversed(remote.list_executions(name="region_models.training", limit=3)))


def load_program(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("region_models", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["region_models"] = module
    spec.loader.exec_module(module)
    return module


def test_a_run_on_the_backend_records_the_version_it_emits(remote: Remote, runs: list[Any],
                                                           server: ServerProcess) -> None:
    eu = remote.get_artifact(name="model", partitions={"region": "eu"})
    assert isinstance(eu, ArtifactRecord)
    assert eu.value() == [0, 1, 2, 3]
    assert remote.get_artifact(name="model", partitions={"region": "us"}).value() == [0, 1, 2]
    assert (eu.execution, eu.node_path, eu.task, eu.task_version, eu.output) == (
        runs[2].id, "n0", "region_models.train", "v1", "o0")
    assert (eu.type_name, eu.preview, eu.partitions) == ("list[int]", "[0, 1, 2, 3]", {"region": "eu"})
    assert eu.uri == f"plait://default/development/model@{eu.version}"
    assert eu.value_ref is not None and eu.value_ref["literal"] == [0, 1, 2, 3]
    assert not (server.home / "artifacts" / "index.json").exists()  # nothing went to the workers' local store


def test_a_version_by_uri_version_or_query(remote: Remote, program: Path) -> None:
    oldest = remote.list_artifacts("model")[-1]
    assert remote.get_artifact(oldest.uri).value() == [0, 1]
    assert remote.get_artifact(name="model", version=oldest.version).value() == [0, 1]
    Model = load_program(program).Model
    assert remote.get_artifact(query=Model.query(region="us")).value() == [0, 1, 2]


def test_versions_newest_first_and_one_entry_per_artifact(remote: Remote, runs: list[Any]) -> None:
    versions = remote.list_artifacts("model")
    assert [r.value() for r in versions] == [[0, 1, 2, 3], [0, 1, 2], [0, 1]]
    assert [r.execution for r in versions] == [r.id for r in reversed(runs)]
    assert [len(r.value()) for r in remote.list_artifacts("model", partitions={"region": "eu"})] == [4, 2]
    assert [r.execution for r in remote.list_artifacts("model", execution=runs[1].id)] == [runs[1].id]
    assert len(remote.list_artifacts("model", limit=1)) == 1
    (model,) = [s for s in remote.list_artifacts() if s.name == "model"]
    assert isinstance(model, ArtifactSummary)
    assert (model.versions, model.partition_keys, model.time_partitioned) == (3, ("region",), False)
    assert model.latest.version == versions[0].version
    assert [s.name for s in remote.list_artifacts(name_contains="ode")] == ["model"]


def test_create_artifact_sends_plain_values_as_literals_and_others_pickled(remote: Remote) -> None:
    Metrics = plait.Artifact(name="metrics", partition_keys=["split"], time_partitioned=True)
    made = remote.create_artifact(Metrics, {"loss": [0.5, 0.25]}, partitions={"split": "test"},
                                  time_partition=dt.datetime(2024, 5, 1, 10, 37), cards=[ModelCard("# Metrics")])
    assert made.value_ref is not None and made.value_ref["literal"] == {"loss": [0.5, 0.25]}
    assert (made.time_partition, made.granularity, made.execution) == ("2024-05-01T00:00:00", "DAY", "")
    got = remote.get_artifact(name="metrics", partitions={"split": "test"}, time_partition="2024-05-01T18:00")
    assert got.version == made.version and got.value() == {"loss": [0.5, 0.25]}
    assert got.cards == [{"kind": "model", "text": "# Metrics"}] and got.type_name == "dict[str, list[float]]"
    in_may = remote.list_artifacts("metrics", time_from="2024-05-01", time_to=dt.datetime(2024, 5, 31))
    assert [r.version for r in in_may] == [made.version]
    assert remote.list_artifacts("metrics", time_from=dt.date(2024, 5, 2)) == []

    blob = remote.create_artifact("tags", {"a", "b"})
    assert blob.value_ref is not None and "uri" in blob.value_ref
    assert remote.get_artifact(blob.uri).value() == {"a", "b"}


def test_create_artifact_refuses_what_the_catalog_would_not_hold(remote: Remote) -> None:
    Model = plait.Artifact(name="model", partition_keys=["region"])
    with pytest.raises(InputError, match=r"artifact `model` needs partition value\(s\) for \['region'\]"):
        remote.create_artifact(Model, [1])
    with pytest.raises(InputError, match="artifact `model` has no partition key `zone`; its keys are region"):
        remote.create_artifact("model", [1], partitions={"zone": "eu"})
    with pytest.raises(InputError, match="artifact `model` holds `list\\[int\\]` values"):
        remote.create_artifact(Model, "seven", partitions={"region": "eu"})
    assert len(remote.list_artifacts("model")) == 3  # nothing refused was stored


def test_lineage_links_the_producing_and_the_consuming_executions(remote: Remote, runs: list[Any]) -> None:
    latest = remote.get_artifact(name="model", partitions={"region": "eu"})
    reader = remote.execute(remote.fetch_workflow("region_models.uses_model", "v1"), {}, wait=True, timeout=90)
    assert reader.outputs == {"o0": 6}
    graph = remote.artifact_lineage(latest)
    assert graph == remote.artifact_lineage(latest.uri)
    node = f"artifact:model@{latest.version}"
    edges = {(e["source"], e["target"], e["kind"]) for e in graph["edges"]}
    assert (f"execution:{runs[2].id}", node, "produced") in edges
    assert (node, f"execution:{reader.id}", "consumed") in edges
    with pytest.raises(ArtifactNotFoundError, match="artifact `model` has no version `0000` in default/development"):
        remote.artifact_lineage("model@0000")


def test_mistakes_get_errors_naming_the_artifact_and_the_query(remote: Remote, program: Path) -> None:
    with pytest.raises(InputError, match=r"^artifact `model` has no partition key `zone`; its keys are region$"):
        remote.get_artifact(name="model", partitions={"zone": "eu"})
    with pytest.raises(InputError, match="artifact `model` has no partition key `zone`"):
        remote.list_artifacts("model", partitions={"zone": "eu"})
    with pytest.raises(ArtifactNotFoundError, match=r"no version of artifact `model` matches partitions "
                                                    r"\{'region': 'apac'\} in default/development on the backend"):
        remote.get_artifact(name="model", partitions={"region": "apac"})
    with pytest.raises(ArtifactNotFoundError, match="no artifact `nothing_yet` in default/development on the backend"):
        remote.get_artifact(name="nothing_yet")
    with pytest.raises(ArtifactNotFoundError, match="no version of artifact `model` matches version 0000"):
        remote.get_artifact("plait://default/development/model@0000")
    for uri in ("model", "plait://default/model@v1", "model@"):
        with pytest.raises(InputError, match="is not of the form plait://PROJECT/DOMAIN/NAME@VERSION"):
            remote.get_artifact(uri)
    Model = load_program(program).Model
    with pytest.raises(InputError, match="reads `region` from Inputs.region, which only a launch fills"):
        remote.get_artifact(query=Model.query(region=Inputs.region))
    with pytest.raises(InputError, match="filter the versions of one artifact; pass its name first"):
        remote.list_artifacts(partitions={"region": "eu"})


def test_the_local_catalog_answers_the_same_call(remote: Remote, program: Path) -> None:
    load_program(program).train(region="eu", size=4)  # a local run, into this test's PLAIT_HOME
    here = plait.catalog().get_artifact(name="model", partitions={"region": "eu"})
    there = remote.get_artifact(name="model", partitions={"region": "eu"})
    assert here.value() == there.value() == [0, 1, 2, 3]
    assert (here.task, here.output, here.type_name, here.partitions) == (
        there.task, there.output, there.type_name, there.partitions)
    assert here.version != there.version
    with pytest.raises(InputError, match="^artifact `model` has no partition key `zone`; its keys are region$"):
        plait.catalog().get_artifact(name="model", partitions={"zone": "eu"})
