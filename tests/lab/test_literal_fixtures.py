"""The lab extension's literal fixtures are what plait.model.literals answers today.

`jupyter_ext/test/fixtures/literals.json` holds type specs, literals and
Python's answers; the extension's unit tests check that its TypeScript port
(`jupyter_ext/src/api/literals.ts`) answers the same. A change to the Python
side without regenerating the file would leave the port checked against old
answers: this test fails first.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "jupyter_ext" / "test" / "fixtures"
REGENERATE = "run `.venv/bin/python jupyter_ext/test/fixtures/generate_literals.py` and commit the result"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_literals", FIXTURES / "generate_literals.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(
    sys.version_info[:2] != (3, 11),
    reason="the fixtures record the answers of Python 3.11 (the project's CI Python): dates are "
           "checked with datetime.fromisoformat, which other versions read differently",
)
def test_the_committed_literal_fixtures_match_what_python_answers() -> None:
    committed = (FIXTURES / "literals.json").read_text()
    fresh = generator().render()
    if fresh != committed:
        old = {c["name"]: c for c in json.loads(committed)["cases"]}
        new = {c["name"]: c for c in json.loads(fresh)["cases"]}
        changed = sorted(n for n in old.keys() & new.keys() if old[n] != new[n])
        raise AssertionError(
            f"jupyter_ext/test/fixtures/literals.json is stale: {REGENERATE}. "
            f"Cases added: {sorted(new.keys() - old.keys())[:5]}, removed: {sorted(old.keys() - new.keys())[:5]}, "
            f"changed: {changed[:5]}")


def test_the_fixtures_hold_cases_that_fit_and_cases_that_do_not() -> None:
    cases = json.loads((FIXTURES / "literals.json").read_text())["cases"]
    assert len({c["name"] for c in cases}) == len(cases)
    assert sum(c["problem"] is None for c in cases) > 50
    assert sum(c["problem"] is not None for c in cases) > 50
