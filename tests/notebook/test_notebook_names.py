"""A workflow gets one name however it is registered: cells of `training.ipynb` define
`training.<function>`, as `plait register training.ipynb` names them, not `__main__.<function>`.

The kernels are real; each learns its notebook's path the way Jupyter tells it (the
`JPY_SESSION_NAME` variable, which ipykernel also sets as `__session__`).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from kernels import Kernel, kernel_manager

CELLS = [
    "%load_ext plait",
    "%%task\ndef scale(x: int, by: int = 3) -> int:\n    return x * by\n",
    "import plait\n\n@plait.task\ndef shift(x: int) -> int:\n    return x + 1\n",
    "%%workflow\ndef train(x: int) -> int:\n    return shift(x=scale(x=x))\n",
]


def write_notebook(path: Path, cells: list[str]) -> Path:
    path.write_text(json.dumps({"cells": [
        {"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None}
        for c in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def start(kernel_dirs: list[str], env: dict[str, str]) -> Iterator[Kernel]:
    km = kernel_manager(kernel_dirs)
    base = {k: v for k, v in os.environ.items() if k != "JPY_SESSION_NAME"}
    km.start_kernel(env={**base, **env})
    client = km.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    try:
        yield Kernel(client)
    finally:
        client.stop_channels()
        km.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def notebook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_notebook(tmp_path_factory.mktemp("project") / "training.ipynb", CELLS)


@pytest.fixture(scope="module")
def session_kernel(kernel_dirs: list[str], notebook: Path,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    """A kernel a Jupyter server started for `training.ipynb`, its cells run."""
    home = tmp_path_factory.mktemp("names-home")
    for k in start(kernel_dirs, {"JPY_SESSION_NAME": str(notebook), "PLAIT_HOME": str(home)}):
        for cell in CELLS:
            k.ok(cell)
        yield k


def registered_names(notebook: Path, folder: Path) -> dict[str, str]:
    """Function -> entity name, as `plait register NOTEBOOK` registers them."""
    from plait.notebook.export import for_registration
    from plait.sdk.entity import Entity

    [module_file] = for_registration(notebook, folder)
    spec = importlib.util.spec_from_file_location(module_file.stem, module_file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_file.stem] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[module_file.stem]
    return {k: v.name for k, v in vars(module).items() if isinstance(v, Entity)}


def test_cells_of_a_notebook_are_named_after_it(session_kernel: Kernel) -> None:
    names = session_kernel.ok("(scale.name, shift.name, train.name)").value()
    assert names == "('training.scale', 'training.shift', 'training.train')"
    dag = session_kernel.ok("%plait dag train").displays("application/vnd.plait.dag+json")[0]
    assert dag["name"] == "training.train"
    assert [n["entity"] for n in dag["nodes"]] == ["training.scale", "training.shift"]
    assert session_kernel.ok("train(x=2)").value() == "7"


def test_the_kernel_and_plait_register_give_the_same_names(session_kernel: Kernel, notebook: Path,
                                                           tmp_path: Path) -> None:
    in_kernel = json.loads(session_kernel.ok(
        "import json; print(json.dumps({f.__name__: e.name for f, e in "
        "((scale.function, scale), (shift.function, shift), (train.function, train))}))").stdout)
    assert registered_names(notebook, tmp_path) == in_kernel


def test_the_notebook_name_becomes_a_module_name(kernel_dirs: list[str], tmp_path: Path) -> None:
    """Spaces and a leading digit, as `plait register` writes them; a console keeps `__main__`."""
    for session, expected in (("/work/2024 sales report.ipynb", "_2024_sales_report.f"),
                              ("/work/Console 1", "__main__.f")):
        for k in start(kernel_dirs, {"JPY_SESSION_NAME": session, "PLAIT_HOME": str(tmp_path)}):
            k.ok("%load_ext plait")
            k.ok("%%task\ndef f(x: int) -> int:\n    return x\n")
            assert k.ok("f.name").value() == repr(expected)
    path = write_notebook(tmp_path / "2024 sales report.ipynb", CELLS[:2])
    assert registered_names(path, tmp_path) == {"scale": "_2024_sales_report.scale"}
