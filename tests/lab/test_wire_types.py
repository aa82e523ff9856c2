"""The lab extension's wire types are generated from the backend's OpenAPI document.

A change to the API without `make types` would leave the extension compiling
against routes and fields that no longer exist: this test fails first.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXT = Path(__file__).resolve().parents[2] / "jupyter_ext"


def test_the_committed_types_match_the_backends_openapi_document(tmp_path: Path) -> None:
    generator = EXT / "node_modules" / ".bin" / "openapi-typescript"
    if not generator.exists() or shutil.which("node") is None:
        pytest.fail("jupyter_ext/node_modules is missing: `make install` (run by `make test`) installs it")
    document, generated = tmp_path / "openapi.json", tmp_path / "schema.d.ts"
    subprocess.run([sys.executable, "-m", "plait", "server", "openapi", "-o", str(document)], check=True,
                   capture_output=True)
    subprocess.run([str(generator), str(document), "-o", str(generated)], check=True, capture_output=True)
    committed = (EXT / "src" / "api" / "schema.d.ts").read_text()
    assert generated.read_text() == committed, (
        "jupyter_ext/src/api/schema.d.ts is stale: run `make types` and commit the result")
