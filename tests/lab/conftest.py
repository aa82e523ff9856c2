"""Fixtures for the lab extension: a real plait backend and a real JupyterLab.

One backend and one lab per test module keep the suite quick; each test seeds
the entities it needs under names of its own.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))
from browser import lab_page, launch  # noqa: E402
from lab_fixture import LabProcess, running_lab  # noqa: E402
from playwright.sync_api import Browser, Page  # noqa: E402
from server_fixture import ServerProcess, running_server  # noqa: E402


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("lab-backend-home")) as server:
        yield server


@pytest.fixture(scope="module")
def lab(backend: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabProcess]:
    with running_lab(tmp_path_factory.mktemp("lab-root"), plait_home=backend.home) as started:
        yield started


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium, one per test module."""
    yield from launch()


@pytest.fixture
def page(browser: Browser, lab: LabProcess, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh page on the lab's default layout; plait errors raised in it fail the test."""
    yield from lab_page(browser, lab, request.node.name)
