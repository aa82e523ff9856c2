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
