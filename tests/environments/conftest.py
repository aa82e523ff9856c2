"""Environments built once per test session and shared by the modules here.

`envs_home` is a PLAIT_HOME of its own (the tests pass it as `home=` or as
PLAIT_HOME to a subprocess); `inflection_env` is ImageSpec(packages=["inflection==0.5.1"])
built in it, the image that resources/images.py names too. The packages are
small and pinned; uv fetches them through this machine's configuration.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from env_specs import INFLECTION, RESOURCES
from plait.environments import Environment, resolve


@pytest.fixture(scope="session")
def envs_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("envs-home")


@pytest.fixture(scope="session")
def inflection_env(envs_home: Path) -> Environment:
    return resolve(INFLECTION, home=envs_home)


@pytest.fixture
def images_module() -> Iterator[object]:
    """resources/images.py, imported as a user's module."""
    import importlib

    sys.path.insert(0, str(RESOURCES))
    try:
        yield importlib.import_module("images")
    finally:
        sys.path.remove(str(RESOURCES))
        sys.modules.pop("images", None)
