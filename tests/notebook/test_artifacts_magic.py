"""`%plait artifacts` in a real kernel: the versions local runs stored, and the backend's with --remote.

The kernel emits its artifacts from a `%%task` cell, as a user's notebook
does. The remote tests share one `plait server` and a kernel whose PLAIT_HOME
is the server's (the kernel finds the server there, as a user's kernel does).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from kernels import Kernel, kernel_manager

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))
from server_fixture import ServerProcess, running_server  # noqa: E402

TRAIN = """%%task
def train(region: str, size: int) -> Annotated[list[int], Model(region=Inputs.region)]:
    return list(range(size))
"""
DECLARE = """from typing import Annotated
import plait
from plait.artifacts import Inputs
Model = plait.Artifact(name="model", partition_keys=["region"])
"""


def text_table(reply) -> str:
    (text,) = reply.displays("text/plain")
    return str(text)


@pytest.fixture(scope="module")
def trained(kernel: Kernel) -> Kernel:
    """Three local runs: eu (2 items), us (3), eu again (4)."""
    kernel.ok(DECLARE)
    kernel.ok(TRAIN)
    for region, size in (("eu", 2), ("us", 3), ("eu", 4)):
        kernel.ok(f"train(region={region!r}, size={size})")
    return kernel


def test_the_versions_of_an_artifact_with_their_partitions(trained: Kernel) -> None:
    table = text_table(trained.ok("%plait artifacts model"))
    rows = table.splitlines()[1:]
    assert [re.split(r"\s{2,}", r)[1:3] for r in rows] == [
        ["region=eu", "[0, 1, 2, 3]"], ["region=us", "[0, 1, 2]"], ["region=eu", "[0, 1]"]]
    assert rows[0].split()[0] == trained.ok("plait.catalog().get_artifact(name='model').version").value().strip("'")
    eu = text_table(trained.ok("%plait artifacts model --partition region=eu --limit 1"))
    assert len(eu.splitlines()) == 2 and "[0, 1, 2, 3]" in eu


def test_every_artifact_without_a_name(trained: Kernel) -> None:
    table = text_table(trained.ok("%plait artifacts"))
    assert re.search(r"^model\s+3\s+region\s+[0-9a-f]{16}\s", table, re.M), table


def test_load_a_version_into_a_variable(trained: Kernel) -> None:
    reply = trained.ok("%plait artifacts model --partition region=us --load latest --out us_model")
    assert re.fullmatch(r"us_model = artifact model@[0-9a-f]{16} \(region=us\), list\[int\]\n", reply.stdout)
    assert trained.ok("us_model").value() == "[0, 1, 2]"
    first = trained.ok("plait.catalog().list_artifacts('model')[-1].version").value().strip("'")
    trained.ok(f"%plait artifacts model --load {first} --out first_model")
    assert trained.ok("first_model").value() == "[0, 1]"
    assert trained.ok("%plait artifacts model --load latest").value() == "[0, 1, 2, 3]"  # the cell's value


def test_mistakes_get_one_line_saying_what_to_write(trained: Kernel) -> None:
    for line, ename, message in [
        ("%plait artifacts model --partition zone=eu", "InputError",
         "artifact `model` has no partition key `zone`; its keys are region"),
        ("%plait artifacts model --partition region=apac --load latest --out m", "ArtifactNotFoundError",
         "no version of artifact `model` matches partitions {'region': 'apac'} in the local store"),
        ("%plait artifacts model --out m", "CellError", "--out names where --load puts a value"),
        ("%plait artifacts model --partition region", "CellError", "--partition expects KEY=VALUE"),
        ("%plait artifacts model --limit none", "CellError", "--limit expects a whole number"),
        ("%plait artifacts model --colour red", "CellError", "unknown option --colour"),
    ]:
        reply = trained.run(line)
        assert reply.status == "error", line
        assert reply.error["ename"] == ename and message in reply.error["evalue"], (line, reply.error["evalue"])
        assert len(reply.error["traceback"]) <= 4, line  # one message, no frames
    assert "%plait artifacts NAME --load" in trained.ok("%plait help").stdout


# ------------------------------------------------------------------ --remote

PROGRAM = Path(__file__).resolve().parents[1] / "resources" / "artifacts" / "region_models.py"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose `model` has versions from two runs there (eu: 5 items, then us: 1) and one
    `notes` version made with create_artifact."""
    program = PROGRAM
    with running_server(tmp_path_factory.mktemp("artifacts-magic-home")) as started, started.remote() as remote:
        remote.register(str(program), version="v1")
        training = remote.fetch_workflow("region_models.training", "v1")
        for region, size in (("eu", 5), ("us", 1)):
            assert remote.execute(training, {"region": region, "size": size}, wait=True, timeout=90).phase == "SUCCEEDED"
        remote.create_artifact("notes", {"seen": [1, 2]})
        yield started


@pytest.fixture(scope="module")
def remote_kernel(kernel_dirs: list[str], server: ServerProcess,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    """A kernel whose PLAIT_HOME is the server's: it finds the server there."""
    km = kernel_manager(kernel_dirs)
    env = {k: v for k, v in os.environ.items() if k not in ("PLAIT_ENDPOINT", "PLAIT_TOKEN")}
    km.start_kernel(env={**env, "PLAIT_HOME": str(server.home)},
                    cwd=str(tmp_path_factory.mktemp("artifacts-kernel-cwd")))
    client = km.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    k = Kernel(client)
    k.ok("%load_ext plait")
    yield k
    client.stop_channels()
    km.shutdown_kernel(now=True)


@pytest.mark.slow
def test_remote_lists_the_backend_versions(remote_kernel: Kernel) -> None:
    names = text_table(remote_kernel.ok("%plait artifacts --remote"))
    assert [line.split()[:2] for line in names.splitlines()[1:]] == [["notes", "1"], ["model", "2"]]
    table = text_table(remote_kernel.ok("%plait artifacts model --remote"))
    assert [re.split(r"\s{2,}", r)[1:3] for r in table.splitlines()[1:]] == [
        ["region=us", "[0]"], ["region=eu", "[0, 1, 2, 3, 4]"]]
    local = remote_kernel.ok("%plait artifacts model")  # this kernel ran nothing itself
    assert text_table(local) == "no versions of artifact model in the local store"


@pytest.mark.slow
def test_remote_load_reads_the_value_from_the_backend(remote_kernel: Kernel) -> None:
    reply = remote_kernel.ok("%plait artifacts model --remote --partition region=eu --load latest --out eu_model")
    assert re.fullmatch(r"eu_model = artifact model@[0-9a-f]{16} \(region=eu\), list\[int\]\n", reply.stdout)
    assert remote_kernel.ok("eu_model").value() == "[0, 1, 2, 3, 4]"
    assert remote_kernel.ok("%plait artifacts notes --remote --load latest").value() == "{'seen': [1, 2]}"
    bad = remote_kernel.run("%plait artifacts model --remote --partition zone=eu")
    assert bad.status == "error" and "artifact `model` has no partition key `zone`; its keys are region" in \
        bad.error["evalue"]
    none = remote_kernel.run("%plait artifacts model --remote --partition region=apac --load latest --out m")
    assert none.error["ename"] == "ArtifactNotFoundError"
    assert "matches partitions {'region': 'apac'} in default/development on the backend" in none.error["evalue"]
