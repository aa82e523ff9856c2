"""Real kernels for notebook tests: this interpreter's ipykernel, driven like a frontend.

The kernelspec is written to a temporary folder and points at
`sys.executable`, so the kernels run the same environment (and the same
editable `plait`) as the tests, whatever kernels the machine has installed.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import pytest
from kernels import KERNEL, Kernel, kernel_manager


@pytest.fixture(scope="session")
def kernel_dirs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    root = tmp_path_factory.mktemp("kernels")
    spec = root / KERNEL
    spec.mkdir()
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "plait tests", "language": "python",
    }))
    return [str(root)]


@pytest.fixture(scope="module")
def kernel(kernel_dirs: list[str], tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One kernel per test module, with `%load_ext plait` done and its own PLAIT_HOME."""
    home = tmp_path_factory.mktemp("kernel-plait-home")
    km = kernel_manager(kernel_dirs)
    km.start_kernel(env={**os.environ, "PLAIT_HOME": str(home)})
    client = km.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    k = Kernel(client)
    k.ok("%load_ext plait")
    yield k
    client.stop_channels()
    km.shutdown_kernel(now=True)
