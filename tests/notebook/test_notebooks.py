"""Every notebook in notebooks/ runs headless, top to bottom, without errors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from kernels import NOTEBOOKS, execute_notebook

ALL = sorted(NOTEBOOKS.rglob("*.ipynb"))
# Need a backend: test_remote_magics.py and test_pools_notebook.py run them against servers they start.
NEEDS_SERVER = {"remote_launch.ipynb", "gpu_pools.ipynb"}
LOCAL = [p for p in ALL if p.relative_to(NOTEBOOKS).as_posix() not in NEEDS_SERVER]


def test_the_examples_are_all_found() -> None:
    names = {p.relative_to(NOTEBOOKS).as_posix() for p in ALL}
    assert {"quickstart.ipynb", "caching.ipynb", "map_and_dynamic.ipynb",
            "pipeline/load.ipynb", "pipeline/stats.ipynb", "pipeline/report.ipynb",
            "remote_launch.ipynb"} <= names


@pytest.mark.parametrize("path", LOCAL, ids=lambda p: p.relative_to(NOTEBOOKS).as_posix())
def test_notebook_runs_headless(path: Path, kernel_dirs: list[str]) -> None:
    nb = execute_notebook(path, kernel_dirs)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error" and "raises-exception" not in c.metadata.get("tags", [])]
    assert errors == []
    if path.name == "quickstart.ipynb":
        check_quickstart(nb)


def check_quickstart(nb: Any) -> None:
    """The saved widget state holds the progress rows' final phases; the DAG bundle is there."""
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    phases = {}
    for model in state.values():
        for path, phase in re.findall(r'data-path="([^"]*)" data-phase="(\w+)"', str(model["state"].get("value", ""))):
            phases[path] = phase
    assert phases == {"n0": "SUCCEEDED", "n1": "SUCCEEDED", "n2": "SUCCEEDED"}
    bundles = [o["data"] for c in nb.cells for o in c.get("outputs", [])
               if "application/vnd.plait.dag+json" in o.get("data", {})]
    assert len(bundles) == 1 and len(bundles[0]["application/vnd.plait.dag+json"]["nodes"]) == 3
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert [e["ename"] for e in errors] == ["TypeMismatchError"]  # the cell meant to fail, shown short
    assert len(errors[0]["traceback"]) == 2
