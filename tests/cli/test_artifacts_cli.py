"""`plait get artifacts` and `plait get artifact NAME` against a real `plait server`, and `--local`.

The backend's versions come from running `training` there (its task emits the `model`
artifact) and from `Remote.create_artifact`; the local ones from running the same task here.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import plait
import pytest
from click.testing import CliRunner, Result
from plait.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))
from server_fixture import ServerProcess, running_server  # noqa: E402

pytestmark = pytest.mark.slow

PROGRAM = Path(__file__).resolve().parents[1] / "resources" / "artifacts" / "region_models.py"


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return PROGRAM


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, program: Path) -> Iterator[ServerProcess]:
    """A server holding `model` (eu: 2 then 4 items, us: 3) and `report` (created with a card)."""
    with running_server(tmp_path_factory.mktemp("artifact-cli-home")) as started, started.remote() as remote:
        remote.register(str(program), version="v1")
        training = remote.fetch_workflow("region_models.training", "v1")
        for region, size in (("eu", 2), ("us", 3), ("eu", 4)):
            run = remote.execute(training, {"region": region, "size": size}, wait=True, timeout=90)
            assert run.phase == "SUCCEEDED", run.error
        remote.create_artifact("report", "all good", partitions={"team": "ml"},
                               cards=[plait.ModelCard("# Weekly report\n\nAll **good**.")])
        yield started


def cli(server: ServerProcess | None, *args: str) -> Result:
    options = {"remote": {"endpoint": server.url, "token": server.token, "autostart": False}} if server else {}
    return CliRunner().invoke(main, list(args), obj=options, env={"COLUMNS": "200", "TZ": "UTC"})


def rows(output: str) -> list[list[str]]:
    """The cells of a table's body rows."""
    return [[c.strip() for c in line.strip("│").split("│")] for line in output.splitlines()
            if line.startswith("│")]


def backend_versions(server: ServerProcess) -> list[Any]:
    with server.remote() as remote:
        return remote.list_artifacts("model")


def test_get_artifacts_lists_one_row_per_artifact(server: ServerProcess) -> None:
    out = cli(server, "get", "artifacts")
    assert out.exit_code == 0, out.output
    assert "Artifacts in default/development" in out.output
    assert re.search(r"NAME\s+┃ VERSIONS\s+┃ PARTITION KEYS\s+┃ LATEST VERSION\s+┃ CREATED \(UTC\)", out.output)
    latest = backend_versions(server)[0].version
    assert [r[:4] for r in rows(out.output)] == [["report", "1", "team", rows(out.output)[0][3]],
                                                 ["model", "3", "region", latest]]
    only = cli(server, "get", "artifacts", "--name-contains", "mod")
    assert [r[0] for r in rows(only.output)] == ["model"]


def test_get_artifact_lists_its_versions_newest_first(server: ServerProcess) -> None:
    out = cli(server, "get", "artifact", "model")
    assert out.exit_code == 0, out.output
    versions = backend_versions(server)
    assert [(r[0], r[1], r[3]) for r in rows(out.output)] == [
        (v.version, f"region={v.partitions['region']}", v.execution) for v in versions]
    assert [r[1] for r in rows(out.output)] == ["region=eu", "region=us", "region=eu"]
    assert len(rows(cli(server, "get", "artifact", "model", "--limit", "1").output)) == 1


def test_a_partition_shows_the_matching_version_in_detail(server: ServerProcess) -> None:
    out = cli(server, "get", "artifact", "model", "--partition", "region=us")
    assert out.exit_code == 0, out.output
    us = [v for v in backend_versions(server) if v.partitions == {"region": "us"}][0]
    lines = [ln.rstrip() for ln in out.output.splitlines()]
    assert lines[0] == f"artifact model@{us.version}  default/development"
    assert f"  uri:            plait://default/development/model@{us.version}" in lines
    assert "  partitions:     region=us" in lines
    assert "  type:           list[int]" in lines
    assert f"  producer:       execution {us.execution} node n0 (region_models.train@v1), output o0" in lines
    assert "  preview:        [0, 1, 2]" in lines
    by_version = cli(server, "get", "artifact", "model", "--version", us.version)
    assert by_version.output == out.output


def test_a_version_made_by_hand_shows_its_card(server: ServerProcess) -> None:
    out = cli(server, "get", "artifact", "report", "--partition", "team=ml")
    assert out.exit_code == 0, out.output
    assert "  producer:       none (create_artifact)" in out.output
    assert "model card" in out.output and "Weekly report" in out.output and "All good." in out.output


def test_mistakes_exit_1_with_one_line(server: ServerProcess) -> None:
    for args, message in [
        (("--partition", "zone=eu"), "InputError: artifact `model` has no partition key `zone`; its keys are region"),
        (("--partition", "region=apac"), "ArtifactNotFoundError: no version of artifact `model` matches partitions "
                                         "{'region': 'apac'} in default/development on the backend"),
        (("--version", "0000"), "no version of artifact `model` matches version 0000"),
    ]:
        out = cli(server, "get", "artifact", "model", *args)
        assert out.exit_code == 1, out.output
        assert message in " ".join(out.output.split()), out.output
    bad = cli(server, "get", "artifact", "model", "--partition", "region")
    assert bad.exit_code == 2 and "expected KEY=VALUE, got 'region'" in bad.output


def test_local_reads_what_local_runs_stored(program: Path) -> None:
    spec = importlib.util.spec_from_file_location("region_models", program)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.train(region="eu", size=5)
    module.train(region="us", size=1)
    listed = cli(None, "get", "artifacts", "--local")
    assert listed.exit_code == 0, listed.output
    assert "Artifacts in the local store" in listed.output
    assert [r[:3] for r in rows(listed.output)] == [["model", "2", "region"]]
    versions = plait.catalog().list_artifacts("model")
    out = cli(None, "get", "artifact", "model", "--local")
    assert [(r[0], r[1]) for r in rows(out.output)] == [(v.version, f"region={v.partitions['region']}") for v in versions]
    detail = cli(None, "get", "artifact", "model", "--local", "--partition", "region=eu")
    assert detail.exit_code == 0, detail.output
    assert f"artifact model@{versions[1].version}  local/development" in detail.output
    assert "  preview:        [0, 1, 2, 3, 4]" in detail.output
    unknown = cli(None, "get", "artifact", "model", "--local", "--partition", "zone=eu")
    assert unknown.exit_code == 1 and "has no partition key `zone`; its keys are region" in unknown.output
    empty = cli(None, "get", "artifact", "nothing", "--local")
    assert empty.exit_code == 0 and empty.output == "artifact nothing has no versions in the local store\n"
