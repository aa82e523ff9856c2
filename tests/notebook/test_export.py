"""`plait export`: notebooks become modules that `plait run` accepts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from plait.notebook.export import ExportError, export_notebook

QUICKSTART = Path(__file__).resolve().parents[2] / "notebooks" / "quickstart.ipynb"


def plait_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "plait", *args], capture_output=True, text=True,
                          timeout=60, cwd=cwd, env=dict(os.environ))


def notebook(path: Path, *cells: str | tuple[str, list[str]]) -> Path:
    """Write a notebook whose code cells are `cells` (a source, or (source, tags))."""
    out = []
    for c in cells:
        source, tags = (c, []) if isinstance(c, str) else c
        out.append({"cell_type": "code", "metadata": {"tags": tags}, "source": source,
                    "outputs": [], "execution_count": None})
    path.write_text(json.dumps({"cells": out, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_the_quickstart_exports_to_a_module_that_plait_run_runs(tmp_path: Path) -> None:
    module = tmp_path / "quickstart.py"
    out = plait_cli("export", str(QUICKSTART), "-o", str(module))
    assert out.returncode == 0, out.stderr
    assert "exported task make_numbers, task square_all, task total, workflow sum_of_squares" in out.stderr
    assert "skipped cell 15: tagged raises-exception" in out.stderr
    run = plait_cli("run", str(module), "sum_of_squares", "--n", "10")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "385"


def test_magics_become_decorators_and_notebook_only_code_is_commented(tmp_path: Path) -> None:
    path = notebook(
        tmp_path / "mixed.ipynb",
        "%load_ext plait\nimport math\n%matplotlib inline",
        "SCALE = 3\n\ndef helper(x: int) -> int:\n    return x * SCALE",
        "%%task --cache --cache-version 1 --retries 2 --requests cpu=2,mem=1Gi --env A=1\n"
        "def scaled(x: int) -> int:\n    return helper(x)",
        "%%workflow --failure-policy FAIL_AFTER_EXECUTABLE_NODES_COMPLETE\n"
        "def wf(x: int) -> int:\n    return scaled(x=x)",
        "%%bash\necho hello",
        "files = !ls\nresult = wf(x=2)\nprint(result)\nresult",
        ("wf(x='oops')", ["raises-exception"]),
    )
    result = export_notebook(path)
    source = result.source
    assert result.entities == {"scaled": "task", "wf": "workflow"}
    assert "@plait.task(cache=True, cache_version='1', retries=2, requests=plait.Resources(cpu='2', mem='1Gi'), environment={'A': '1'})\ndef scaled" in source
    assert "@plait.workflow(failure_policy=plait.WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE)\ndef wf" in source
    assert "import math\n# skipped: %matplotlib inline" in source
    assert "SCALE = 3\n\ndef helper" in source
    assert "# skipped: a %%bash cell runs only in a notebook\n# %%bash\n# echo hello" in source
    assert "# skipped: files = !ls\n# skipped (runs a task or workflow): result = wf(x=2)" in source
    assert "# skipped (display): print(result)\n# skipped (display): result" in source
    assert "# wf(x='oops')" in source
    namespace: dict[str, object] = {}
    exec(compile(source, "mixed.py", "exec"), namespace)  # noqa: S102 - the module we just made
    assert namespace["wf"](x=2) == 6  # type: ignore[operator]


def test_a_bad_plait_cell_names_the_cell(tmp_path: Path) -> None:
    path = notebook(tmp_path / "bad.ipynb", "import plait", "%%task\nx = 1")
    with pytest.raises(ExportError, match="cell 2: a %%task cell must define exactly one function"):
        export_notebook(path)
    out = plait_cli("export", str(path))
    assert out.returncode == 1 and "cell 2: a %%task cell" in out.stderr and "Traceback" not in out.stderr


def test_export_prints_to_stdout_without_output_file(tmp_path: Path) -> None:
    path = notebook(tmp_path / "tiny.ipynb", "%%task\ndef one() -> int:\n    return 1")
    out = plait_cli("export", str(path))
    assert out.returncode == 0 and "@plait.task\ndef one() -> int:" in out.stdout
