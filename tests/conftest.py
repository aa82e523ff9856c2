"""Shared fixtures: every test gets its own PLAIT_HOME so caches never leak."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

RESOURCES = Path(__file__).parent / "resources"


@pytest.fixture(autouse=True)
def plait_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("plait-home")
    monkeypatch.setenv("PLAIT_HOME", str(home))
    monkeypatch.delenv("PLAIT_LOCAL_CACHE_ENABLED", raising=False)
    return home


def load_resource(relative: str) -> ModuleType:
    """Import a user-like program from tests/resources/ under a unique module name."""
    path = RESOURCES / relative
    name = "res_" + relative.replace("/", "_").removesuffix(".py")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def resource() -> object:
    """`resource("workflows/regression.py")` imports that program."""
    return load_resource
