"""`import plait` is light: no heavy dependency, no work at import time."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ["dask", "distributed", "pandas", "sqlalchemy", "panel", "fastapi", "numpy", "pyarrow", "IPython", "croniter"]


def modules_after(code: str) -> list[str]:
    probe = f"""
import sys, json
{code}
print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_plait_loads_no_heavy_dependency() -> None:
    loaded = modules_after("import plait")
    assert not [m for m in HEAVY if m in loaded]


def test_defining_and_running_a_workflow_loads_no_heavy_dependency() -> None:
    loaded = modules_after(
        "import plait\n"
        "@plait.task\n"
        "def inc(x: int) -> int:\n    return x + 1\n"
        "@plait.workflow\n"
        "def wf(x: int) -> list[int]:\n    return plait.map(inc)(x=[x, x])\n"
        "assert wf(x=1) == [2, 2]\n"
    )
    assert not [m for m in HEAVY if m in loaded]


def test_every_public_name_resolves() -> None:
    import plait

    missing = [name for name in plait.__all__ if not hasattr(plait, name)]
    assert missing == []
    assert set(dir(plait)) == set(plait.__all__)


def test_unknown_attribute_is_a_clear_attribute_error() -> None:
    import plait
    import pytest

    with pytest.raises(AttributeError, match="module 'plait' has no attribute 'tsak'"):
        plait.tsak  # noqa: B018


def test_import_plait_runs_only_the_facade() -> None:
    """Public names resolve on first use: importing the package loads no module of its own but the alias table."""
    out = subprocess.run(
        [sys.executable, "-c", "import sys, plait; print(sorted(m for m in sys.modules if m.startswith('plait')))"],
        capture_output=True, text=True, check=True,
    )
    assert out.stdout.strip() == "['plait', 'plait._moved']"


def test_the_type_checking_imports_list_every_public_name_from_its_module() -> None:
    """IDEs read the TYPE_CHECKING block, `plait.x` reads `_EXPORTS`: both say the same."""
    import ast
    from pathlib import Path

    import plait

    tree = ast.parse(Path(plait.__file__).read_text())
    block = next(n for n in tree.body if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test))
    declared = {
        alias.asname or alias.name: (node.module or "")
        for node in block.body if isinstance(node, ast.ImportFrom) for alias in node.names
    }
    assert declared == plait._EXPORTS


def test_module_paths_of_0_1_0_still_import() -> None:
    """Executed notebooks import `plait.notebook_task`; pickles name the modules classes lived in."""
    import pickle

    from plait.notebook_task import NotebookTask, record  # noqa: F401 - the import is the test
    from plait.task_types.notebook_task import record as moved

    assert record is moved
    import plait.tasks  # the module of @task in 0.1.0; now plait.sdk.tasks
    from plait import accelerators  # where flytekit keeps the accelerator constants

    assert plait.tasks.PythonFunctionTask is plait.PythonFunctionTask
    assert accelerators.A100 is plait.A100
    old = pickle.dumps(plait.Cache(version="1"), protocol=0).replace(b"plait.config.cache", b"plait.cache")
    assert b"plait.cache" in old and pickle.loads(old) == plait.Cache(version="1")
