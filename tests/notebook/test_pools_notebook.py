"""notebooks/gpu_pools.ipynb against a server started with the cluster file beside it: each
step runs in the pool that fits it, and the notebook's output names the pools."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from kernels import NOTEBOOKS, execute_notebook

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))
from server_fixture import ServerProcess, running_server  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    home = tmp_path_factory.mktemp("gpu-pools-home")
    with running_server(home, "--cluster", str(NOTEBOOKS / "gpu_cluster.yaml")) as started:
        yield started


def test_the_gpu_pools_notebook_runs_each_step_in_its_pool(server: ServerProcess, kernel_dirs: list[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAIT_HOME", str(server.home))
    nb = execute_notebook(NOTEBOOKS / "gpu_pools.ipynb", kernel_dirs, timeout=240)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert [o for o in outputs if o.get("output_type") == "error"] == []
    streamed = "".join(o.get("text", "") for o in outputs if o.get("name") == "stdout")
    assert "[n1 train] --- pool gpu-train-" in streamed, streamed
    assert "training on cpu in pool gpu-train-" in streamed  # no device on this machine: CUDA_VISIBLE_DEVICES unset
    assert "--- n2 evaluate (SUCCEEDED, pool cpu) ---" in streamed
    assert "--- n0 prepare (SUCCEEDED, pool prep-" in streamed
